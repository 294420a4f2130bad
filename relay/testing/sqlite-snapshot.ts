/**
 * Everything a relay has stored, read straight from its SQLite file (opened read-only beside the
 * running relay; WAL lets it read what is committed), for hostile tests that must prove an
 * attack changed nothing. Rows of chats the test names in `excludeChats` (a canary's own room,
 * which rightly changes while it chats) are left out, and so is the search index (the FTS5
 * table and every table named after it): it is derived from `messages`, which the snapshot holds.
 */
import { join as joinPath } from 'node:path';
import Database from 'better-sqlite3';

export type TableRows = Record<string, unknown[]>;

export function sqliteSnapshot(dataDir: string, excludeChats: string[] = []): TableRows {
  const db = new Database(joinPath(dataDir, 'parley.db'), { readonly: true, fileMustExist: true });
  try {
    const virtual = db
      .prepare("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")
      .pluck()
      .all() as string[];
    const tables = (
      db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .pluck()
        .all() as string[]
    ).filter((name) => !virtual.some((index) => name === index || name.startsWith(`${index}_`)));
    const excluded = new Set(excludeChats);
    const snapshot: TableRows = {};
    for (const table of tables) {
      const rows = db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[];
      const kept = rows.filter((row) => {
        const chatId = table === 'chats' ? row.id : row.chat_id;
        return typeof chatId !== 'string' || !excluded.has(chatId);
      });
      snapshot[table] = kept
        .map((row) => JSON.stringify(row))
        .sort()
        .map((text) => JSON.parse(text) as unknown);
    }
    return snapshot;
  } finally {
    db.close();
  }
}
