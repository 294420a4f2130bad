/**
 * The desktop offline cache: one SQLite file in the user-data folder holding
 *
 * - `kv`: the renderer's KeyValueStorage (session, device id and the outbox of unsent messages,
 *   exactly as renderer/net writes them), so queued messages survive an app restart and are
 *   resent with their original mobile_ref_id (the relay stores each one once);
 * - `chats`, `messages`, `read_markers`: each chat's summary, its newest messages and read
 *   marker per scope (one user on one server), so the app opens at once with history while the
 *   relay is unreachable.
 *
 * Arguments are validated at the IPC boundary (ipc-schemas.ts); this module enforces the bounds.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChatSummary, WireMessage } from '../../relay/protocol/events.js';
import type { CacheSnapshot, StorageOp } from '../shared/bridge.js';
import { fail, ok, type Result } from '../shared/result.js';

export const CACHE_LIMITS = {
  /** Newest messages kept per chat. */
  messagesPerChat: 200,
  /** Chats kept per scope. */
  chatsPerScope: 2_000,
  keyChars: 256,
  /** One stored value (the outbox is the largest: 500 messages of up to 8,000 characters). */
  valueChars: 8 * 1024 * 1024,
  keys: 1_000,
} as const;

const SCHEMA_VERSION = 1;

export interface OfflineCacheOptions {
  path: string;
  /** better_sqlite3.node built for this runtime (Electron passes its own build). */
  nativeBinding?: string;
}

export class OfflineCache {
  readonly #db: Database.Database;

  constructor(options: OfflineCacheOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.#db = new Database(
      options.path,
      options.nativeBinding === undefined ? {} : { nativeBinding: options.nativeBinding },
    );
    this.#db.pragma('journal_mode = WAL');
    // FULL: a queued message that reached the cache survives a power cut, not only a crash.
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('busy_timeout = 2000');
    this.#migrate();
  }

  #migrate(): void {
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return;
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS chats (
        scope TEXT NOT NULL, chat_id TEXT NOT NULL, json TEXT NOT NULL,
        PRIMARY KEY (scope, chat_id)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS messages (
        scope TEXT NOT NULL, chat_id TEXT NOT NULL, seq INTEGER NOT NULL, json TEXT NOT NULL,
        PRIMARY KEY (scope, chat_id, seq)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS read_markers (
        scope TEXT NOT NULL, chat_id TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (scope, chat_id)) WITHOUT ROWID;
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }

  // ---- the renderer's KeyValueStorage ---------------------------------------------------------

  loadStorage(): Record<string, string> {
    const rows = this.#db.prepare('SELECT key, value FROM kv').all() as {
      key: string;
      value: string;
    }[];
    return Object.fromEntries(rows.map((row) => [row.key, row.value]));
  }

  getItem(key: string): string | null {
    const row = this.#db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as
      { value: string } | undefined;
    return row?.value ?? null;
  }

  /** Applies writes in order, all or nothing. */
  applyStorage(ops: readonly StorageOp[]): Result<null> {
    for (const op of ops) {
      if (op.key.length === 0 || op.key.length > CACHE_LIMITS.keyChars) {
        return fail('invalid_key', `keys are 1 to ${CACHE_LIMITS.keyChars} characters`);
      }
      if (op.op === 'set' && op.value.length > CACHE_LIMITS.valueChars) {
        return fail(
          'value_too_large',
          `${op.key}: value over ${CACHE_LIMITS.valueChars} characters`,
        );
      }
    }
    const set = this.#db.prepare(
      'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    const remove = this.#db.prepare('DELETE FROM kv WHERE key = ?');
    const count = this.#db.prepare('SELECT count(*) AS n FROM kv');
    const apply = this.#db.transaction((list: readonly StorageOp[]): Result<null> => {
      for (const op of list) {
        if (op.op === 'set') set.run(op.key, op.value);
        else remove.run(op.key);
      }
      if ((count.get() as { n: number }).n > CACHE_LIMITS.keys) {
        throw new CacheFullError();
      }
      return ok(null);
    });
    try {
      return apply(ops);
    } catch (error) {
      if (error instanceof CacheFullError) {
        return fail('storage_full', `at most ${CACHE_LIMITS.keys} keys`);
      }
      throw error;
    }
  }

  // ---- history, chats and read markers --------------------------------------------------------

  /** Replaces the scope's chat list; chats no longer listed lose their cached history. */
  saveChats(scope: string, chats: readonly ChatSummary[]): Result<null> {
    if (chats.length > CACHE_LIMITS.chatsPerScope) {
      return fail('too_many_chats', `at most ${CACHE_LIMITS.chatsPerScope} chats`);
    }
    const ids = new Set(chats.map((chat) => chat.id));
    const existing = this.#db.prepare('SELECT chat_id FROM chats WHERE scope = ?');
    const upsert = this.#db.prepare(
      'INSERT INTO chats (scope, chat_id, json) VALUES (?, ?, ?) ON CONFLICT (scope, chat_id) DO UPDATE SET json = excluded.json',
    );
    this.#db.transaction(() => {
      for (const row of existing.all(scope) as { chat_id: string }[]) {
        if (!ids.has(row.chat_id)) this.#dropChat(scope, row.chat_id);
      }
      for (const chat of chats) {
        upsert.run(scope, chat.id, JSON.stringify(chat));
        this.#raiseReadMarker(scope, chat.id, chat.read_seq);
      }
    })();
    return ok(null);
  }

  /** Adds or replaces messages by seq and keeps only the newest `messagesPerChat`. */
  saveHistory(scope: string, chatId: string, messages: readonly WireMessage[]): Result<null> {
    if (messages.some((message) => message.chat_id !== chatId)) {
      return fail('wrong_chat', 'every message must belong to the chat it is saved under');
    }
    const upsert = this.#db.prepare(
      'INSERT INTO messages (scope, chat_id, seq, json) VALUES (?, ?, ?, ?) ON CONFLICT (scope, chat_id, seq) DO UPDATE SET json = excluded.json',
    );
    const trim = this.#db.prepare(`
      DELETE FROM messages WHERE scope = ? AND chat_id = ? AND seq <= (
        SELECT seq FROM messages WHERE scope = ? AND chat_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`);
    this.#db.transaction(() => {
      for (const message of messages) {
        upsert.run(scope, chatId, message.seq, JSON.stringify(message));
      }
      trim.run(scope, chatId, scope, chatId, CACHE_LIMITS.messagesPerChat);
    })();
    return ok(null);
  }

  /** Moves a read marker forward; never back. */
  setReadMarker(scope: string, chatId: string, seq: number): Result<null> {
    this.#raiseReadMarker(scope, chatId, seq);
    return ok(null);
  }

  loadSnapshot(scope: string): CacheSnapshot {
    const chats = (
      this.#db.prepare('SELECT json FROM chats WHERE scope = ? ORDER BY chat_id').all(scope) as {
        json: string;
      }[]
    ).map((row) => JSON.parse(row.json) as ChatSummary);
    const messages: Record<string, WireMessage[]> = {};
    const rows = this.#db
      .prepare('SELECT chat_id, json FROM messages WHERE scope = ? ORDER BY chat_id, seq')
      .all(scope) as { chat_id: string; json: string }[];
    for (const row of rows) {
      (messages[row.chat_id] ??= []).push(JSON.parse(row.json) as WireMessage);
    }
    const markers = this.#db
      .prepare('SELECT chat_id, seq FROM read_markers WHERE scope = ?')
      .all(scope) as { chat_id: string; seq: number }[];
    return {
      chats,
      messages,
      readMarkers: Object.fromEntries(markers.map((row) => [row.chat_id, row.seq])),
    };
  }

  /** Forgets one scope (sign-out). The KeyValueStorage is the renderer's to clear. */
  clear(scope: string): Result<null> {
    this.#db.transaction(() => {
      for (const table of ['chats', 'messages', 'read_markers']) {
        this.#db.prepare(`DELETE FROM ${table} WHERE scope = ?`).run(scope);
      }
    })();
    return ok(null);
  }

  close(): void {
    this.#db.close();
  }

  #raiseReadMarker(scope: string, chatId: string, seq: number): void {
    this.#db
      .prepare(
        'INSERT INTO read_markers (scope, chat_id, seq) VALUES (?, ?, ?) ON CONFLICT (scope, chat_id) DO UPDATE SET seq = max(seq, excluded.seq)',
      )
      .run(scope, chatId, seq);
  }

  #dropChat(scope: string, chatId: string): void {
    for (const table of ['chats', 'messages', 'read_markers']) {
      this.#db.prepare(`DELETE FROM ${table} WHERE scope = ? AND chat_id = ?`).run(scope, chatId);
    }
  }
}

/** Thrown inside a transaction to roll it back when the key count bound is crossed. */
class CacheFullError extends Error {
  readonly code = 'ERR_CACHE_FULL';
}
