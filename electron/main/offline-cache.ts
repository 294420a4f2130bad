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
 * Messages of vanishing rooms (`expires_at`) are erased when they expire, whether the relay is
 * reachable or not: deleted with `secure_delete` (their bytes zeroed, free pages included), then
 * the WAL, which still holds them, is emptied by a TRUNCATE checkpoint. So is a chat's cached
 * `last_message`. Unsent messages in the outbox (kv) stay until they are sent.
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

const SCHEMA_VERSION = 2;
/** Shortest wait armed for the next expiry (or a busy checkpoint's retry). */
const MIN_EXPIRY_WAIT_MS = 250;
/** Longest wait armed for the next expiry; a later one is re-armed then. */
const MAX_EXPIRY_WAIT_MS = 24 * 60 * 60 * 1000;

export interface OfflineCacheOptions {
  path: string;
  /** better_sqlite3.node built for this runtime (Electron passes its own build). */
  nativeBinding?: string;
}

export class OfflineCache {
  readonly #db: Database.Database;
  #expiryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Expired rows were deleted but the WAL still holds them (a checkpoint was busy). */
  #checkpointDue = false;

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
    // Freed space within a page is zeroed, so no stale copy of a vanishing message outlives it.
    this.#db.pragma('secure_delete = FAST');
    this.#migrate();
    // What expired while the app was closed goes now; the rest at its time.
    this.eraseExpired();
  }

  #migrate(): void {
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return;
    if (version < 1)
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
      PRAGMA user_version = 1;
    `);
    // 2: when each cached message (and each chat's last_message) expires, to erase it then.
    this.#db.exec(`
      ALTER TABLE messages ADD COLUMN expires_at TEXT;
      UPDATE messages SET expires_at = json_extract(json, '$.expires_at');
      CREATE INDEX messages_expiry ON messages (expires_at) WHERE expires_at IS NOT NULL;
      ALTER TABLE chats ADD COLUMN expires_at TEXT;
      UPDATE chats SET expires_at = json_extract(json, '$.last_message.expires_at');
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
      'INSERT INTO chats (scope, chat_id, json, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (scope, chat_id) DO UPDATE SET json = excluded.json, expires_at = excluded.expires_at',
    );
    this.#db.transaction(() => {
      for (const row of existing.all(scope) as { chat_id: string }[]) {
        if (!ids.has(row.chat_id)) this.#dropChat(scope, row.chat_id);
      }
      for (const chat of chats) {
        upsert.run(scope, chat.id, JSON.stringify(chat), chat.last_message?.expires_at ?? null);
        this.#raiseReadMarker(scope, chat.id, chat.read_seq);
      }
    })();
    this.#armExpiry();
    return ok(null);
  }

  /** Adds or replaces messages by seq and keeps only the newest `messagesPerChat`. */
  saveHistory(scope: string, chatId: string, messages: readonly WireMessage[]): Result<null> {
    if (messages.some((message) => message.chat_id !== chatId)) {
      return fail('wrong_chat', 'every message must belong to the chat it is saved under');
    }
    const upsert = this.#db.prepare(
      'INSERT INTO messages (scope, chat_id, seq, json, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, chat_id, seq) DO UPDATE SET json = excluded.json, expires_at = excluded.expires_at',
    );
    const trim = this.#db.prepare(`
      DELETE FROM messages WHERE scope = ? AND chat_id = ? AND seq <= (
        SELECT seq FROM messages WHERE scope = ? AND chat_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`);
    this.#db.transaction(() => {
      for (const message of messages) {
        upsert.run(scope, chatId, message.seq, JSON.stringify(message), message.expires_at);
      }
      trim.run(scope, chatId, scope, chatId, CACHE_LIMITS.messagesPerChat);
    })();
    this.#armExpiry();
    return ok(null);
  }

  /** Moves a read marker forward; never back. */
  setReadMarker(scope: string, chatId: string, seq: number): Result<null> {
    this.#raiseReadMarker(scope, chatId, seq);
    return ok(null);
  }

  loadSnapshot(scope: string): CacheSnapshot {
    this.eraseExpired();
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
    if (this.#expiryTimer !== null) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = null;
    this.#db.close();
  }

  /**
   * Erases every cached message that expired by `now`, and every chat's expired last_message,
   * from the tables and the files; then arms a timer for the next expiry. Returns how many
   * messages went.
   */
  eraseExpired(now: Date = new Date()): number {
    if (!this.#db.open) return 0;
    const at = now.toISOString();
    const expiredChats = this.#db
      .prepare('SELECT scope, chat_id, json FROM chats WHERE expires_at <= ?')
      .all(at) as { scope: string; chat_id: string; json: string }[];
    const clearLast = this.#db.prepare(
      'UPDATE chats SET json = ?, expires_at = NULL WHERE scope = ? AND chat_id = ?',
    );
    this.#db.pragma('secure_delete = ON');
    let erased: number;
    try {
      erased = this.#db.transaction(() => {
        for (const row of expiredChats) {
          const chat = { ...(JSON.parse(row.json) as ChatSummary), last_message: null };
          clearLast.run(JSON.stringify(chat), row.scope, row.chat_id);
        }
        return this.#db.prepare('DELETE FROM messages WHERE expires_at <= ?').run(at).changes;
      })();
    } finally {
      this.#db.pragma('secure_delete = FAST');
    }
    if (erased > 0 || expiredChats.length > 0) this.#checkpointDue = true;
    if (this.#checkpointDue) this.#checkpointDue = !this.#checkpointTruncate();
    this.#armExpiry();
    return erased;
  }

  /** Empties the WAL (TRUNCATE) without waiting for a reader; true when it completed. */
  #checkpointTruncate(): boolean {
    this.#db.pragma('busy_timeout = 0');
    try {
      const [result] = this.#db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return result?.busy === 0;
    } finally {
      this.#db.pragma('busy_timeout = 2000');
    }
  }

  /** Arms the timer for the soonest expiry (or a retry of a busy checkpoint). */
  #armExpiry(): void {
    if (this.#expiryTimer !== null) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = null;
    const next = this.#db
      .prepare(
        `SELECT min(at) FROM (SELECT min(expires_at) AS at FROM messages
          UNION ALL SELECT min(expires_at) FROM chats)`,
      )
      .pluck()
      .get() as string | null;
    if (next === null && !this.#checkpointDue) return;
    // At least MIN_EXPIRY_WAIT_MS: a time SQLite and Date read differently never spins.
    const due = next === null ? Number.NaN : Date.parse(next) - Date.now();
    const wait = Number.isFinite(due)
      ? Math.min(Math.max(MIN_EXPIRY_WAIT_MS, due), MAX_EXPIRY_WAIT_MS)
      : next === null
        ? 1_000
        : MAX_EXPIRY_WAIT_MS;
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = null;
      this.eraseExpired();
    }, wait);
    this.#expiryTimer.unref();
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
