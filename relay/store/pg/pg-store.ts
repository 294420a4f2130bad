/**
 * The cluster Store: PostgreSQL through a `pg` pool, shared by every relay node.
 *
 * Per-chat seq stays gap-free and strictly increasing with many nodes writing at once: each
 * group-commit batch is one statement, so one transaction, that adds its message count to the
 * chat's `last_seq` (an UPDATE, which holds the row lock until COMMIT) and numbers its messages
 * from the value that UPDATE returns. A second node's batch for the same chat waits on that row
 * lock and then adds to the committed value; a failed batch rolls back its numbers with
 * everything else. The sender's membership is checked in the same statement, so a removal
 * committed before the batch began is always seen, whatever any node has cached.
 *
 * A batch costs one round trip whatever its size (rows go in as arrays through `unnest`), as a
 * prepared statement with a reused generic plan (see appendSql). When one message breaks a
 * constraint the batch is replayed one message per savepoint, so only that message fails, as
 * with SQLite.
 */
import pg from 'pg';
import { failure, type Failure } from '../../protocol/errors.js';
import type {
  ChatEvent,
  ChatInfo,
  ChatSummary,
  NotificationPayload,
  SearchPage,
  WireMessage,
} from '../../protocol/events.js';
import { PG_MIGRATIONS } from './pg-migrations.js';
import {
  NAME_KEY_VERSION,
  RoomNameTakenError,
  backfillSkeletons,
  nameSkeleton,
} from '../../core/name-key.js';
import { dmKey, nameKey } from '../../core/name-key.js';
import { RelayError } from '../../core/relay-error.js';
import type * as Rows from '../store-rows.js';
import { EVENT_COLUMNS, MESSAGE_COLUMNS, UNREAD_COUNT_CAP, rowMappers } from '../store-rows.js';
import { checkChange } from '../../core/message-rules.js';
import type {
  AppendRequest,
  AppendResult,
  ChangeRequest,
  ChangeResult,
  Membership,
  NewChat,
  NewLinkCode,
  NewUser,
  SearchRequest,
  Store,
  StoredRecoveryCode,
  StoredUser,
} from '../../core/store.js';

export interface PgStoreOptions {
  /** `postgres://user:password@host:port/database` */
  connectionString: string;
  /** Schema holding the tables, created if missing; null uses the connection's search_path. */
  schema?: string | null;
  /** Pending notifications kept per user; older ones are dropped first. */
  maxPendingPerUser: number;
  /** Connections this node keeps open. */
  poolSize?: number;
  /** How long to wait for a connection before a call fails (a send answers `storage_error`). */
  connectTimeoutMs?: number;
  /** Client-side limit for one query, so a hung server cannot hold sends forever. */
  queryTimeoutMs?: number;
  /** Told about errors of idle pooled connections (the server went away); the pool recovers. */
  onPoolError?: (error: Error) => void;
  /** Told why a batch could not be written (its senders get `storage_error`). */
  onWriteError?: (error: unknown) => void;
}

export const PG_STORE_DEFAULTS = {
  schema: null,
  poolSize: 10,
  connectTimeoutMs: 3_000,
  queryTimeoutMs: 15_000,
} as const;

export type PgStoreErrorCode = 'ERR_PG_OPTION' | 'ERR_PG_SCHEMA_NEWER';

export class PgStoreError extends Error {
  constructor(
    readonly code: PgStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PgStoreError';
  }
}

/** Times a batch is retried after a deadlock or serialization failure before it fails. */
const TRANSIENT_RETRIES = 3;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** bigint columns (seq, ids, counts) as numbers: they stay far below 2^53. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((id: number, format?: 'text' | 'binary') =>
    id === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(id, format)) as pg.CustomTypesConfig['getTypeParser'],
};

type ChatRow = Rows.ChatRow<Date, boolean>;
type MessageRow = Rows.MessageRow<Date>;
type PendingRow = Rows.PendingRow<Date, boolean>;
type EventRow = Rows.EventRow<Date>;
/** The message a change targets, as its transaction reads it. */
interface TargetRow {
  seq: number;
  sender_id: string;
  content: string;
  deleted_at: Date | null;
  expires_at: Date | null;
}
/** `pg` returns timestamptz columns as Dates and booleans as booleans. */
const fromRow = rowMappers<Date, boolean>({
  time: (value) => value.toISOString(),
  flag: (value) => value,
});

interface UserRow {
  id: string;
  name: string;
  created_at: Date;
}

const CHAT_COLUMNS = `c.id, c.kind, c.name, c.visibility, c.ephemeral_ttl_s, c.is_main, c.dm_key,
  c.last_seq, c.created_at`;

/** One row per distinct request of a batch, from APPEND_SQL. */
interface AppendRow {
  /** 1-based position in the batch. */
  n: number;
  outcome: 'new' | 'dup' | 'no_chat' | 'no_member' | 'no_sender';
  seq: number;
  sender_name: string | null;
  ttl: number | null;
  dup_id: string | null;
  dup_content: string | null;
  dup_created_at: Date | null;
  dup_expires_at: Date | null;
  dup_edited_at: Date | null;
  dup_deleted_at: Date | null;
  dup_version_seq: number | null;
}

/**
 * A whole group-commit batch in one statement: one round trip, one implicit transaction, and a
 * named (prepared) statement, so PostgreSQL parses it once per connection and, after a few
 * runs, reuses one generic plan. Every table is reached by key from the batch's rows (LATERAL
 * with LIMIT, which PostgreSQL neither flattens into a join nor turns into a hashed
 * subplan; `= ANY (ARRAY(...))`), so that generic plan, which has to guess the
 * batch's size, still uses the indexes (a guessed 100 rows made it hash-join a sequential scan
 * of `messages` for the duplicate check).
 *
 * - `req`: the batch ($1–$7, one element per distinct request, `n` its 1-based position).
 * - `classified`: each request's outcome, in this order: unknown chat; sender not a member when
 *   the caller asked for that check ($7; membership is checked here, in the same statement as
 *   the insert, so a removal committed before this statement began is always seen); unknown
 *   sender; already stored under its (chat, sender, mobile_ref_id) (the original is
 *   returned); else new.
 * - `bumped`: `last_seq += <new messages of the chat>`, RETURNING the new value. The UPDATE
 *   takes the chat's row lock; a batch of another node for the same chat waits for it and then
 *   adds to the committed value (READ COMMITTED re-reads a row updated meanwhile), so seq stays
 *   gap-free and unique. Two batches that lock the same chats in opposite orders deadlock;
 *   PostgreSQL aborts one and it is retried (TRANSIENT_RETRIES), nothing half-written.
 * - `numbered`: seq = new last_seq − count + rank within the chat, in batch order.
 * - `inserted`; `read_own`: the sender has read their own message.
 * - With notifications only (`withPending`: some members are offline): `pruned` + `notified`,
 *   the pending notifications of the members named in $8–$10, each user keeping the newest
 *   $11. Batches without them use the statement without these parts.
 *
 * The reads of `classified` use the statement's snapshot: a resend committed by another node
 * after it began breaks messages_dedupe, the statement fails as a whole, and the batch is
 * replayed one message per savepoint (appendMessages), which finds the original.
 */
function appendSql(withPending: boolean): string {
  const pending = `, pend AS (
  SELECT p.user_id, c.chat_id, x.seq, p.mentioned, p.ord,
    count(*) OVER (PARTITION BY p.user_id) AS incoming,
    row_number() OVER (PARTITION BY p.user_id ORDER BY p.ord) AS idx
  FROM unnest($8::text[], $9::bigint[], $10::boolean[])
    WITH ORDINALITY AS p (user_id, n, mentioned, ord)
  JOIN numbered x ON x.n = p.n
  JOIN classified c ON c.n = p.n
), cuts AS (
  SELECT n.user_id, (SELECT q.id FROM pending_notifications q
      WHERE q.user_id = n.user_id ORDER BY q.id DESC
      OFFSET GREATEST($11::int - n.incoming, 0) LIMIT 1) AS cut
  FROM (SELECT DISTINCT user_id, incoming FROM pend) n
), pruned AS (
  DELETE FROM pending_notifications p USING cuts
  WHERE p.user_id = ANY (ARRAY(SELECT user_id FROM cuts WHERE cut IS NOT NULL))
    AND p.user_id = cuts.user_id AND p.id <= cuts.cut
), notified AS (
  INSERT INTO pending_notifications (user_id, chat_id, seq, mentioned)
  SELECT user_id, chat_id, seq, mentioned FROM pend
  WHERE idx > incoming - $11::int
  ORDER BY ord
)`;
  return `
WITH req AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
    $6::timestamptz[], $7::boolean[])
    WITH ORDINALITY AS r (chat_id, sender_id, ref, id, content, created_at, check_member, n)
), classified AS (
  SELECT r.*, c.ttl, u.name AS sender_name, d.seq AS dup_seq, d.id AS dup_id,
    d.content AS dup_content, d.created_at AS dup_created_at, d.expires_at AS dup_expires_at,
    d.edited_at AS dup_edited_at, d.deleted_at AS dup_deleted_at,
    coalesce(d.version_seq, d.seq) AS dup_version_seq,
    CASE
      WHEN c.id IS NULL THEN 'no_chat'
      WHEN r.check_member AND cm.member IS NULL THEN 'no_member'
      WHEN u.id IS NULL THEN 'no_sender'
      WHEN d.id IS NOT NULL THEN 'dup'
      ELSE 'new'
    END AS outcome
  FROM req r
  LEFT JOIN LATERAL (SELECT id, ephemeral_ttl_s AS ttl FROM chats
      WHERE id = r.chat_id LIMIT 1) c ON true
  LEFT JOIN LATERAL (SELECT true AS member FROM chat_members
      WHERE chat_id = r.chat_id AND user_id = r.sender_id LIMIT 1) cm ON true
  LEFT JOIN LATERAL (SELECT id, name FROM users WHERE id = r.sender_id LIMIT 1) u ON true
  LEFT JOIN LATERAL (SELECT m.seq, m.id, m.content, m.created_at, m.expires_at, m.edited_at,
      m.deleted_at, m.version_seq
      FROM messages m
      WHERE m.chat_id = r.chat_id AND m.sender_id = r.sender_id AND m.mobile_ref_id = r.ref
      LIMIT 1) d ON true
), numbering AS (
  SELECT n, chat_id, sender_id, row_number() OVER (PARTITION BY chat_id ORDER BY n) AS k,
    count(*) OVER (PARTITION BY chat_id) AS cnt
  FROM classified WHERE outcome = 'new'
), bumped AS (
  UPDATE chats c
  SET last_seq = c.last_seq + (SELECT max(x.cnt) FROM numbering x WHERE x.chat_id = c.id)
  WHERE c.id = ANY (ARRAY(SELECT DISTINCT chat_id FROM numbering))
  RETURNING c.id, c.last_seq
), numbered AS (
  SELECT x.n, x.chat_id, x.sender_id, b.last_seq - x.cnt + x.k AS seq
  FROM numbering x JOIN bumped b ON b.id = x.chat_id
), inserted AS (
  INSERT INTO messages
    (chat_id, seq, id, sender_id, content, mobile_ref_id, created_at, expires_at)
  SELECT c.chat_id, x.seq, c.id, c.sender_id, c.content, c.ref, c.created_at,
    c.created_at + make_interval(secs => c.ttl)
  FROM numbered x JOIN classified c ON c.n = x.n
  ORDER BY x.n
), read_own AS (
  UPDATE chat_members cm
  SET read_seq = GREATEST(cm.read_seq, (SELECT max(x.seq) FROM numbered x
    WHERE x.chat_id = cm.chat_id AND x.sender_id = cm.user_id))
  WHERE cm.chat_id = ANY (ARRAY(SELECT chat_id FROM numbered))
    AND cm.user_id = ANY (ARRAY(SELECT sender_id FROM numbered))
    AND EXISTS (SELECT 1 FROM numbered x
      WHERE x.chat_id = cm.chat_id AND x.sender_id = cm.user_id)
)${withPending ? pending : ''}
SELECT c.n::int AS n, c.outcome, coalesce(x.seq, c.dup_seq, 0) AS seq, c.sender_name, c.ttl,
  c.dup_id, c.dup_content, c.dup_created_at, c.dup_expires_at, c.dup_edited_at,
  c.dup_deleted_at, c.dup_version_seq
FROM classified c LEFT JOIN numbered x ON x.n = c.n
ORDER BY c.n`;
}

const APPEND_SQL = appendSql(false);
const APPEND_NOTIFY_SQL = appendSql(true);

function toUser(row: UserRow): StoredUser {
  return { id: row.id, name: row.name, created_at: row.created_at.toISOString() };
}

function sqlState(error: unknown): string | null {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : null;
}

/** Class 23: integrity constraint violation (unique, foreign key, check, not null). */
function isConstraintError(error: unknown): boolean {
  return sqlState(error)?.startsWith('23') === true;
}

/** Deadlock or serialization failure: nothing was written, the same batch may simply run again. */
function isTransient(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40P01' || state === '40001';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type Client = pg.PoolClient;

export class PgStore implements Store {
  readonly #pool: pg.Pool;
  /** Message appends only (see openPools). */
  readonly #writePool: pg.Pool;
  readonly #maxPendingPerUser: number;
  readonly #onWriteError: (error: unknown) => void;
  #closed = false;

  private constructor(
    pools: { pool: pg.Pool; writePool: pg.Pool },
    maxPendingPerUser: number,
    onWriteError: (error: unknown) => void,
  ) {
    this.#pool = pools.pool;
    this.#writePool = pools.writePool;
    this.#maxPendingPerUser = maxPendingPerUser;
    this.#onWriteError = onWriteError;
  }

  /** Connects, applies pending migrations (under an advisory lock) and returns the store. */
  static async open(input: PgStoreOptions): Promise<PgStore> {
    const options = { ...PG_STORE_DEFAULTS, ...input };
    const schema = options.schema ?? null;
    if (schema !== null && !SCHEMA_NAME.test(schema)) {
      throw new PgStoreError('ERR_PG_OPTION', `schema must match ${SCHEMA_NAME.source}`);
    }
    const searchPath = schema === null ? '' : `-c search_path=${schema}`;
    const makePool = (extra: { max: number; options: string; idleTimeoutMillis?: number }) => {
      const made = new pg.Pool({
        connectionString: options.connectionString,
        connectionTimeoutMillis: options.connectTimeoutMs,
        query_timeout: options.queryTimeoutMs,
        keepAlive: true,
        application_name: 'parley-relay',
        types: TYPES,
        max: extra.max,
        ...(extra.idleTimeoutMillis === undefined
          ? {}
          : { idleTimeoutMillis: extra.idleTimeoutMillis }),
        ...(extra.options === '' ? {} : { options: extra.options }),
      });
      // Without a listener, a connection that dies (server restart) crashes the process: the
      // pool listens on idle ones only, so every connection gets its own listener as well (the
      // query in flight, if any, fails with the same error and answers its caller).
      const onError = (error: Error): void => options.onPoolError?.(error);
      made.on('error', onError);
      made.on('connect', (client) => client.on('error', onError));
      return made;
    };
    const pool = makePool({ max: options.poolSize, options: searchPath });
    // The group-commit writer runs one batch at a time, so appends need one connection (two,
    // so a replay never waits on a stuck one). They keep it (no idle timeout: its prepared
    // append statement stays parsed) and always use the generic plan of that statement:
    // PostgreSQL would otherwise plan it anew for every batch, since a plan made for the actual
    // batch looks cheaper than one made for a batch of unknown size; planning cost more than
    // running it (about 0.7 against 0.15 ms). Its table accesses are written so that the
    // generic plan uses the indexes (appendSql). Other queries keep per-call plans.
    const writePool = makePool({
      max: 2,
      options: `${searchPath} -c plan_cache_mode=force_generic_plan`.trim(),
      idleTimeoutMillis: 0,
    });
    try {
      await migrate(pool, schema);
    } catch (error) {
      await Promise.all([pool.end(), writePool.end()]);
      throw error;
    }
    return new PgStore(
      { pool, writePool },
      options.maxPendingPerUser,
      options.onWriteError ?? (() => undefined),
    );
  }

  /** Rows of one query. */
  async #rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.#pool.query(sql, params);
    return result.rows as T[];
  }

  /** Runs `work` in one transaction on one pooled connection. */
  async #transaction<T>(
    work: (client: Client) => Promise<T>,
    pool: pg.Pool = this.#pool,
  ): Promise<T> {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        // The connection itself failed: it is discarded below instead of going back to the pool.
        broken = true;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async getMeta(key: string): Promise<string | null> {
    const [row] = await this.#rows<{ value: string }>('SELECT value FROM meta WHERE key = $1', [
      key,
    ]);
    return row?.value ?? null;
  }

  async putMetaIfAbsent(key: string, value: string): Promise<string> {
    await this.#pool.query(
      'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING',
      [key, value],
    );
    return (await this.getMeta(key)) ?? value;
  }

  async getUser(id: string): Promise<StoredUser | null> {
    const [row] = await this.#rows<UserRow>(
      'SELECT id, name, created_at FROM users WHERE id = $1',
      [id],
    );
    return row === undefined ? null : toUser(row);
  }

  async findUserByName(name: string): Promise<StoredUser | null> {
    const [row] = await this.#rows<UserRow>(
      'SELECT id, name, created_at FROM users WHERE name_key = $1',
      [nameKey(name)],
    );
    return row === undefined ? null : toUser(row);
  }

  async createUser(user: NewUser): Promise<StoredUser | null> {
    // One statement, so one commit: the membership row is inserted only when the user row was.
    const [row] = await this.#rows<UserRow>(
      `WITH u AS (
         INSERT INTO users (id, name, name_key, name_skeleton, created_at)
         VALUES ($1, $2, $3, $7, $4)
         ON CONFLICT DO NOTHING RETURNING id, name, created_at
       ), m AS (
         INSERT INTO chat_members (chat_id, user_id, read_seq, joined_at)
         SELECT $5::text, u.id, 0, $4 FROM u WHERE $5::text IS NOT NULL
         ON CONFLICT DO NOTHING
       ), r AS (
         INSERT INTO recovery_codes (user_id, hash, created_at)
         SELECT u.id, $6::text, $4 FROM u WHERE $6::text IS NOT NULL
       )
       SELECT id, name, created_at FROM u`,
      [
        user.id,
        user.name,
        nameKey(user.name),
        user.now,
        user.joinChatId ?? null,
        user.recoveryHash ?? null,
        nameSkeleton(user.name),
      ],
    );
    return row === undefined ? null : toUser(row);
  }

  async getRecoveryCode(userId: string): Promise<StoredRecoveryCode | null> {
    const [row] = await this.#rows<{ hash: string; created_at: Date }>(
      'SELECT hash, created_at FROM recovery_codes WHERE user_id = $1',
      [userId],
    );
    return row === undefined ? null : { hash: row.hash, created_at: row.created_at.toISOString() };
  }

  async setRecoveryCode(userId: string, hash: string, now: Date): Promise<void> {
    await this.#pool.query(
      `INSERT INTO recovery_codes (user_id, hash, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at`,
      [userId, hash, now],
    );
  }

  async replaceRecoveryCode(
    userId: string,
    expected: string,
    next: string,
    now: Date,
  ): Promise<boolean> {
    const result = await this.#pool.query(
      `UPDATE recovery_codes SET hash = $3, created_at = $4 WHERE user_id = $1 AND hash = $2`,
      [userId, expected, next, now],
    );
    return result.rowCount === 1;
  }

  async addLinkCode(code: NewLinkCode): Promise<void> {
    // One statement: the prune and the insert see the same snapshot and commit together.
    await this.#pool.query(
      `WITH pruned AS (
         DELETE FROM link_codes WHERE user_id = $1 AND (expires_at <= $3
           OR hash NOT IN (SELECT hash FROM link_codes WHERE user_id = $1 AND expires_at > $3
             ORDER BY created_at DESC, hash LIMIT $5))
       )
       INSERT INTO link_codes (user_id, hash, created_at, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [code.userId, code.hash, code.now, code.expiresAt, Math.max(0, code.maxOutstanding - 1)],
    );
  }

  async consumeLinkCode(userId: string, hash: string, now: Date): Promise<boolean> {
    const result = await this.#pool.query(
      'DELETE FROM link_codes WHERE user_id = $1 AND hash = $2 AND expires_at > $3',
      [userId, hash, now],
    );
    return result.rowCount === 1;
  }

  async upsertUser(user: { id: string; name: string; now: Date }): Promise<StoredUser> {
    // Identity-provider names are not unique; the key carries the id so two "Ana"s can coexist.
    const [row] = await this.#rows<UserRow>(
      `INSERT INTO users (id, name, name_key, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key
       RETURNING id, name, created_at`,
      [user.id, user.name, `${nameKey(user.name)}#${user.id}`, user.now],
    );
    if (row === undefined) throw new RelayError('store_invariant', 'upsert returned no row');
    return toUser(row);
  }

  async listUsers(limit: number): Promise<StoredUser[]> {
    const rows = await this.#rows<UserRow>(
      'SELECT id, name, created_at FROM users ORDER BY name_key COLLATE "C" LIMIT $1',
      [limit],
    );
    return rows.map(toUser);
  }

  async createChat(chat: NewChat): Promise<ChatInfo> {
    const created = await this.#transaction(async (client) => {
      // Two nodes creating the main room at once: the second finds the first one's instead.
      // A public room whose name key is taken (chats_name_skeleton) is not created either.
      const inserted = await client.query(
        `INSERT INTO chats (id, kind, name, name_skeleton, visibility, ephemeral_ttl_s, is_main,
           dm_key, created_by, created_at)
         VALUES ($1, 'room', $2, $8, $3, $4, $5, NULL, $6, $7)
         ON CONFLICT DO NOTHING`,
        [
          chat.id,
          chat.name,
          chat.visibility,
          chat.ephemeralTtlS,
          chat.isMain,
          chat.createdBy,
          chat.now,
          chat.visibility === 'public' ? nameSkeleton(chat.name) : null,
        ],
      );
      if (inserted.rowCount === 0) return false;
      if (chat.createdBy !== null) {
        await client.query(
          `INSERT INTO chat_members (chat_id, user_id, read_seq, joined_at) VALUES ($1, $2, 0, $3)
           ON CONFLICT DO NOTHING`,
          [chat.id, chat.createdBy, chat.now],
        );
      }
      return true;
    });
    if (!created && !chat.isMain) throw new RoomNameTakenError(chat.name);
    const row = created ? await this.getChat(chat.id) : await this.getMainChat();
    if (row === null)
      throw new RelayError('store_invariant', 'the chat vanished right after it was created');
    return row;
  }

  async getTokenGeneration(userId: string): Promise<number | null> {
    const [row] = await this.#rows<{ token_generation: number }>(
      'SELECT token_generation FROM users WHERE id = $1',
      [userId],
    );
    return row?.token_generation ?? null;
  }

  async revokeTokens(userId: string): Promise<number | null> {
    const [row] = await this.#rows<{ token_generation: number }>(
      `UPDATE users SET token_generation = token_generation + 1 WHERE id = $1
       RETURNING token_generation`,
      [userId],
    );
    return row?.token_generation ?? null;
  }

  async getChat(id: string): Promise<ChatInfo | null> {
    const [row] = await this.#rows<ChatRow>(`SELECT ${CHAT_COLUMNS} FROM chats c WHERE id = $1`, [
      id,
    ]);
    return row === undefined ? null : fromRow.chat(row);
  }

  async getMainChat(): Promise<ChatInfo | null> {
    const [row] = await this.#rows<ChatRow>(
      `SELECT ${CHAT_COLUMNS} FROM chats c WHERE is_main LIMIT 1`,
    );
    return row === undefined ? null : fromRow.chat(row);
  }

  async getOrCreateDm(input: {
    id: string;
    userA: string;
    userB: string;
    now: Date;
  }): Promise<ChatInfo> {
    const key = dmKey(input.userA, input.userB);
    await this.#transaction(async (client) => {
      // A concurrent creator of the same DM makes this insert wait, then do nothing.
      const inserted = await client.query(
        `INSERT INTO chats
           (id, kind, name, visibility, ephemeral_ttl_s, is_main, dm_key, created_by, created_at)
         VALUES ($1, 'dm', '', 'private', NULL, false, $2, $3, $4)
         ON CONFLICT (dm_key) DO NOTHING`,
        [input.id, key, input.userA, input.now],
      );
      if (inserted.rowCount === 0) return;
      await client.query(
        `INSERT INTO chat_members (chat_id, user_id, read_seq, joined_at)
         SELECT $1, u, 0, $3 FROM unnest($2::text[]) AS u ON CONFLICT DO NOTHING`,
        [input.id, [input.userA, input.userB], input.now],
      );
    });
    const [row] = await this.#rows<ChatRow>(
      `SELECT ${CHAT_COLUMNS} FROM chats c WHERE dm_key = $1`,
      [key],
    );
    if (row === undefined)
      throw new RelayError('store_invariant', 'the DM vanished right after it was created');
    return fromRow.chat(row);
  }

  async listPublicChats(limit: number): Promise<ChatInfo[]> {
    const rows = await this.#rows<ChatRow>(
      `SELECT ${CHAT_COLUMNS} FROM chats c WHERE kind = 'room' AND visibility = 'public'
       ORDER BY name COLLATE "C" LIMIT $1`,
      [limit],
    );
    return rows.map(fromRow.chat);
  }

  async listChatsForUser(userId: string, now: Date): Promise<ChatSummary[]> {
    const rows = await this.#rows<
      ChatRow & {
        read_seq: number;
        unread_count: number;
        lm: MessageRow | null;
      }
    >(
      `SELECT ${CHAT_COLUMNS}, cm.read_seq,
         (SELECT count(*) FROM (SELECT 1 FROM messages m
            WHERE m.chat_id = c.id AND m.seq > cm.read_seq AND m.sender_id <> cm.user_id
              AND m.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > $2) LIMIT $3) capped) AS unread_count,
         (SELECT row_to_json(last) FROM (
            SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id
            WHERE m.chat_id = c.id AND (m.expires_at IS NULL OR m.expires_at > $2)
            ORDER BY m.seq DESC LIMIT 1) last) AS lm
       FROM chat_members cm JOIN chats c ON c.id = cm.chat_id
       WHERE cm.user_id = $1
       ORDER BY c.kind COLLATE "C" DESC, c.name COLLATE "C"`,
      [userId, now, UNREAD_COUNT_CAP],
    );
    return rows.map((row) => ({
      ...fromRow.chat(row),
      read_seq: row.read_seq,
      unread_count: row.unread_count,
      last_message:
        row.lm === null
          ? null
          : fromRow.message({
              ...row.lm,
              // row_to_json gives timestamps as text; seq as a JSON number.
              created_at: new Date(row.lm.created_at),
              expires_at: row.lm.expires_at === null ? null : new Date(row.lm.expires_at),
              edited_at: row.lm.edited_at === null ? null : new Date(row.lm.edited_at),
              deleted_at: row.lm.deleted_at === null ? null : new Date(row.lm.deleted_at),
            }),
    }));
  }

  async addMember(chatId: string, userId: string, now: Date): Promise<void> {
    await this.#pool.query(
      `INSERT INTO chat_members (chat_id, user_id, read_seq, joined_at) VALUES ($1, $2, 0, $3)
       ON CONFLICT DO NOTHING`,
      [chatId, userId, now],
    );
  }

  async removeMember(chatId: string, userId: string): Promise<void> {
    await this.#pool.query(
      `WITH gone AS (DELETE FROM chat_members WHERE chat_id = $1 AND user_id = $2)
       DELETE FROM pending_notifications WHERE user_id = $2 AND chat_id = $1`,
      [chatId, userId],
    );
  }

  async getMembership(chatId: string, userId: string): Promise<Membership | null> {
    const [row] = await this.#rows<Membership>(
      'SELECT read_seq FROM chat_members WHERE chat_id = $1 AND user_id = $2',
      [chatId, userId],
    );
    return row ?? null;
  }

  async getChatAccess(
    chatId: string,
    userId: string,
  ): Promise<{ chat: ChatInfo; membership: Membership | null } | null> {
    const [row] = await this.#rows<ChatRow & { member_read_seq: number | null }>(
      `SELECT ${CHAT_COLUMNS}, m.read_seq AS member_read_seq
       FROM chats c LEFT JOIN chat_members m ON m.chat_id = c.id AND m.user_id = $2
       WHERE c.id = $1`,
      [chatId, userId],
    );
    if (row === undefined) return null;
    const membership = row.member_read_seq === null ? null : { read_seq: row.member_read_seq };
    return { chat: fromRow.chat(row), membership };
  }

  async listMembers(chatId: string): Promise<StoredUser[]> {
    const rows = await this.#rows<UserRow>(
      `SELECT u.id, u.name, u.created_at FROM chat_members cm JOIN users u ON u.id = cm.user_id
       WHERE cm.chat_id = $1`,
      [chatId],
    );
    return rows.map(toUser);
  }

  /** A batch that could not be written: `storage_error` for each request, the error counted. */
  #failAll(requests: readonly unknown[], error: unknown): Failure[] {
    this.#onWriteError(error);
    return requests.map(() =>
      failure('storage_error', `database write failed: ${describe(error)}`),
    );
  }

  async appendMessages(requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    if (requests.length === 0) return [];
    const failAll = (error: unknown): AppendResult[] => this.#failAll(requests, error);
    if (this.#closed) return failAll(new RelayError('store_closed', 'the store is closed'));
    for (let attempt = 0; ; attempt += 1) {
      try {
        // One statement, so one implicit transaction: committed when the call resolves.
        return await this.#appendBatch(this.#writePool, requests);
      } catch (error) {
        if (isTransient(error) && attempt < TRANSIENT_RETRIES) continue;
        if (!isConstraintError(error)) return failAll(error);
        break;
      }
    }
    // A message broke a constraint: replay one message per savepoint, so only that one fails.
    // (Or a resend of it committed on another node meanwhile: the replay finds the original.)
    try {
      return await this.#transaction(async (client) => {
        const results: AppendResult[] = [];
        for (const request of requests) {
          await client.query('SAVEPOINT one');
          try {
            const [result] = await this.#appendBatch(client, [request]);
            results.push(result ?? failure('storage_error'));
            await client.query('RELEASE SAVEPOINT one');
          } catch (error) {
            if (!isConstraintError(error)) throw error;
            await client.query('ROLLBACK TO SAVEPOINT one');
            results.push(failure('storage_error'));
          }
        }
        return results;
      }, this.#writePool);
    } catch (error) {
      return failAll(error);
    }
  }

  /**
   * The whole batch as one statement (APPEND_SQL), on the pool (its own transaction) or inside
   * the caller's transaction; throws to abort it. A request repeated within the batch is sent
   * once and answered as a duplicate of the first.
   */
  async #appendBatch(
    db: pg.Pool | Client,
    requests: readonly AppendRequest[],
  ): Promise<AppendResult[]> {
    const firstIndex = new Map<string, number>();
    const unique: AppendRequest[] = [];
    const slot = requests.map((request) => {
      const key = JSON.stringify([request.chatId, request.senderId, request.mobileRefId]);
      const seen = firstIndex.get(key);
      if (seen !== undefined) return { index: seen, repeat: true };
      firstIndex.set(key, unique.length);
      unique.push(request);
      return { index: unique.length - 1, repeat: false };
    });
    const notify: { userId: string; n: number; mentioned: boolean }[] = [];
    unique.forEach((request, index) => {
      const mentioned = new Set(request.mentionedUserIds);
      for (const userId of request.notifyUserIds) {
        notify.push({ userId, n: index + 1, mentioned: mentioned.has(userId) });
      }
    });
    const values: unknown[] = [
      unique.map((r) => r.chatId),
      unique.map((r) => r.senderId),
      unique.map((r) => r.mobileRefId),
      unique.map((r) => r.messageId),
      unique.map((r) => r.content),
      unique.map((r) => r.now),
      unique.map((r) => r.requireMembership === true),
    ];
    const withPending = notify.length > 0;
    if (withPending) {
      values.push(
        notify.map((p) => p.userId),
        notify.map((p) => p.n),
        notify.map((p) => p.mentioned),
        this.#maxPendingPerUser,
      );
    }
    const { rows } = await db.query<AppendRow>(
      withPending
        ? { name: 'parley_append_notify_v2', text: APPEND_NOTIFY_SQL, values }
        : { name: 'parley_append_v2', text: APPEND_SQL, values },
    );
    const byIndex = new Map(rows.map((row) => [row.n - 1, row]));
    const answers = unique.map((request, index): AppendResult => {
      const row = byIndex.get(index);
      if (row === undefined) return failure('storage_error', 'the message was not stored');
      switch (row.outcome) {
        case 'no_chat':
          return failure('not_found', 'no such chat');
        case 'no_member':
          return failure('not_member', 'you are not a member of this chat');
        case 'no_sender':
          return failure('not_found', 'sender does not exist');
        case 'dup':
          return {
            ok: true,
            duplicate: true,
            message: fromRow.message({
              chat_id: request.chatId,
              seq: row.seq,
              id: row.dup_id ?? '',
              sender_id: request.senderId,
              sender_name: row.sender_name ?? '',
              content: row.dup_content ?? '',
              mobile_ref_id: request.mobileRefId,
              created_at: row.dup_created_at ?? request.now,
              expires_at: row.dup_expires_at,
              edited_at: row.dup_edited_at,
              deleted_at: row.dup_deleted_at,
              version_seq: row.dup_version_seq ?? row.seq,
            }),
          };
        case 'new':
          return {
            ok: true,
            duplicate: false,
            message: {
              chat_id: request.chatId,
              message_id: request.messageId,
              seq: row.seq,
              content: request.content,
              sender_id: request.senderId,
              sender_name: row.sender_name ?? '',
              timestamp: request.now.toISOString(),
              expires_at:
                row.ttl === null
                  ? null
                  : new Date(request.now.getTime() + row.ttl * 1000).toISOString(),
              mobile_ref_id: request.mobileRefId,
              edited_at: null,
              deleted_at: null,
              version_seq: row.seq,
            },
          };
      }
    });
    return slot.map(({ index, repeat }) => {
      const answer = answers[index] ?? failure('storage_error');
      return repeat && answer.ok ? { ...answer, duplicate: true } : answer;
    });
  }

  /**
   * Edits and deletes (Store.changeMessages): the batch in one transaction, each change after
   * locking its chat's row, so seqs stay gap-free against appends on any node, and two nodes
   * changing one message (or retrying one ref_id) are applied one after the other.
   */
  async changeMessages(requests: readonly ChangeRequest[]): Promise<ChangeResult[]> {
    if (requests.length === 0) return [];
    const failAll = (error: unknown): ChangeResult[] => this.#failAll(requests, error);
    if (this.#closed) return failAll(new RelayError('store_closed', 'the store is closed'));
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#transaction(async (client) => {
          const results: ChangeResult[] = [];
          for (const request of requests) results.push(await this.#changeOne(client, request));
          return results;
        }, this.#writePool);
      } catch (error) {
        if (isTransient(error) && attempt < TRANSIENT_RETRIES) continue;
        return failAll(error);
      }
    }
  }

  async #changeOne(client: Client, request: ChangeRequest): Promise<ChangeResult> {
    const one = async <Row extends pg.QueryResultRow>(
      text: string,
      values: unknown[],
    ): Promise<Row | undefined> => (await client.query<Row>(text, values)).rows[0];
    const chat = await one<{ last_seq: number }>(
      'SELECT last_seq FROM chats WHERE id = $1 FOR UPDATE',
      [request.chatId],
    );
    if (chat === undefined) return failure('not_found', 'no such chat');
    const member = await one('SELECT 1 FROM chat_members WHERE chat_id = $1 AND user_id = $2', [
      request.chatId,
      request.actorId,
    ]);
    if (member === undefined) return failure('not_member', 'you are not a member of this chat');
    const target = await one<TargetRow>(
      `SELECT seq, sender_id, content, deleted_at, expires_at FROM messages
       WHERE chat_id = $1 AND id = $2`,
      [request.chatId, request.messageId],
    );
    if (target === undefined) return failure('not_found', 'no such message in this chat');
    const eventSql = `SELECT ${EVENT_COLUMNS} FROM chat_events e
      JOIN messages m ON m.chat_id = e.chat_id AND m.seq = e.message_seq`;
    const changed = async (event: EventRow, duplicate: boolean): Promise<ChangeResult> => {
      const message = await one<MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id
         WHERE m.chat_id = $1 AND m.seq = $2`,
        [request.chatId, target.seq],
      );
      if (message === undefined) return failure('not_found', 'no such message in this chat');
      return {
        ok: true,
        message: fromRow.message(message),
        event: fromRow.event(event),
        duplicate,
      };
    };
    if (request.kind === 'edit') {
      const earlier = await one<EventRow>(
        `${eventSql} WHERE e.chat_id = $1 AND e.actor_id = $2 AND e.ref_id = $3`,
        [request.chatId, request.actorId, request.refId],
      );
      if (earlier !== undefined) return changed(earlier, true);
    }
    const refused = checkChange(
      { kind: request.kind, actorId: request.actorId, now: request.now },
      {
        senderId: target.sender_id,
        deletedAt: target.deleted_at?.toISOString() ?? null,
        expiresAt: target.expires_at?.toISOString() ?? null,
      },
    );
    if (refused !== null) return refused;
    if (request.kind === 'delete' && target.deleted_at !== null) {
      const earlier = await one<EventRow>(
        `${eventSql} WHERE e.chat_id = $1 AND e.message_seq = $2 AND e.kind = 'delete'`,
        [request.chatId, target.seq],
      );
      if (earlier !== undefined) return changed(earlier, true);
    }
    const seq = chat.last_seq + 1;
    await client.query('UPDATE chats SET last_seq = $2 WHERE id = $1', [request.chatId, seq]);
    if (request.kind === 'edit') {
      await client.query(
        `UPDATE messages SET content = $3, edited_at = $4, version_seq = $5
         WHERE chat_id = $1 AND seq = $2`,
        [request.chatId, target.seq, request.content, request.now, seq],
      );
    } else {
      await client.query(
        `UPDATE messages SET content = '', deleted_at = $3, deleted_by = $4, version_seq = $5
         WHERE chat_id = $1 AND seq = $2`,
        [request.chatId, target.seq, request.now, request.actorId, seq],
      );
      await client.query(
        `UPDATE chat_events SET content = NULL
         WHERE chat_id = $1 AND message_seq = $2 AND kind = 'edit'`,
        [request.chatId, target.seq],
      );
      await client.query('DELETE FROM pending_notifications WHERE chat_id = $1 AND seq = $2', [
        request.chatId,
        target.seq,
      ]);
    }
    await client.query(
      `INSERT INTO chat_events (chat_id, seq, kind, message_seq, actor_id, content, ref_id,
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        request.chatId,
        seq,
        request.kind,
        target.seq,
        request.actorId,
        request.kind === 'edit' ? request.content : null,
        request.kind === 'edit' ? request.refId : null,
        request.now,
      ],
    );
    const event = await one<EventRow>(`${eventSql} WHERE e.chat_id = $1 AND e.seq = $2`, [
      request.chatId,
      seq,
    ]);
    if (event === undefined) return failure('storage_error', 'the change was not stored');
    return changed(event, false);
  }

  async eventsAfter(chatId: string, afterSeq: number, limit: number): Promise<ChatEvent[]> {
    const rows = await this.#rows<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM chat_events e
       JOIN messages m ON m.chat_id = e.chat_id AND m.seq = e.message_seq
       WHERE e.chat_id = $1 AND e.seq > $2 AND (m.expires_at IS NULL OR m.expires_at > $4)
       ORDER BY e.seq LIMIT $3`,
      [chatId, afterSeq, limit, new Date()],
    );
    return rows.map(fromRow.event);
  }

  async messagesAfter(
    chatId: string,
    afterSeq: number,
    limit: number,
    now: Date,
  ): Promise<WireMessage[]> {
    const rows = await this.#rows<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id
       WHERE m.chat_id = $1 AND m.seq > $2 AND (m.expires_at IS NULL OR m.expires_at > $4)
       ORDER BY m.seq LIMIT $3`,
      [chatId, afterSeq, limit, now],
    );
    return rows.map(fromRow.message);
  }

  async messagesBefore(
    chatId: string,
    beforeSeq: number | null,
    limit: number,
    now: Date,
  ): Promise<WireMessage[]> {
    const rows = await this.#rows<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id
       WHERE m.chat_id = $1 AND ($2::bigint IS NULL OR m.seq < $2)
         AND (m.expires_at IS NULL OR m.expires_at > $4)
       ORDER BY m.seq DESC LIMIT $3`,
      [chatId, beforeSeq, limit, now],
    );
    return rows.reverse().map(fromRow.message);
  }

  async searchMessages(request: SearchRequest): Promise<SearchPage | Failure> {
    const cursor = parseSearchCursor(request.before);
    if (cursor === undefined)
      return failure('invalid_payload', 'before is not a position this relay gave');
    // Terms are letters, digits and marks only (searchTerms): no tsquery syntax can get in. A
    // word of one character matches only itself: as a prefix it reads much of the index.
    const query = request.terms
      .map((term) => ([...term].length > 1 ? `'${term}':*` : `'${term}'`))
      .join(' & ');
    const rows = await this.#rows<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m
       JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = $1
       JOIN users u ON u.id = m.sender_id
       WHERE to_tsvector('simple', m.content) @@ to_tsquery('simple', $2)
         AND m.expires_at IS NULL AND m.deleted_at IS NULL
         AND ($3::text IS NULL OR m.chat_id = $3)
         AND ($4::timestamptz IS NULL OR (m.created_at, m.id) < ($4, $5))
       ORDER BY m.created_at DESC, m.id DESC LIMIT $6`,
      [
        request.userId,
        query,
        request.chatId,
        cursor?.time ?? null,
        cursor?.id ?? null,
        request.limit + 1,
      ],
    );
    return fromRow.searchPage(
      rows,
      request.limit,
      (row) => `${row.created_at.toISOString()}_${row.id}`,
    );
  }

  async deleteExpired(now: Date): Promise<number> {
    const [row] = await this.#rows<{ count: number }>(
      `WITH gone AS (DELETE FROM messages WHERE expires_at <= $1 RETURNING chat_id, seq),
       dropped AS (DELETE FROM pending_notifications p USING gone
         WHERE p.chat_id = gone.chat_id AND p.seq = gone.seq),
       events AS (DELETE FROM chat_events e USING gone
         WHERE e.chat_id = gone.chat_id AND e.message_seq = gone.seq)
       SELECT count(*) AS count FROM gone`,
      [now],
    );
    return row?.count ?? 0;
  }

  async setReadSeq(chatId: string, userId: string, seq: number): Promise<number> {
    const [row] = await this.#rows<{ read_seq: number }>(
      `WITH moved AS (
         UPDATE chat_members
         SET read_seq = GREATEST(read_seq, LEAST($3::bigint,
           (SELECT last_seq FROM chats WHERE id = $1)))
         WHERE chat_id = $1 AND user_id = $2 RETURNING read_seq),
       cleared AS (DELETE FROM pending_notifications
         WHERE user_id = $2 AND chat_id = $1 AND seq <= (SELECT read_seq FROM moved))
       SELECT read_seq FROM moved`,
      [chatId, userId, seq],
    );
    return row?.read_seq ?? 0;
  }

  async listPending(userId: string, limit: number, now: Date): Promise<NotificationPayload[]> {
    const rows = await this.#rows<PendingRow>(
      `SELECT p.id, p.chat_id,
         CASE WHEN c.kind = 'dm' THEN u.name ELSE c.name END AS chat_name,
         m.id AS message_id, p.seq, m.sender_id, u.name AS sender_name, m.content, m.created_at,
         p.mentioned
       FROM pending_notifications p
       JOIN chat_members cm ON cm.chat_id = p.chat_id AND cm.user_id = p.user_id
       JOIN messages m ON m.chat_id = p.chat_id AND m.seq = p.seq
       JOIN users u ON u.id = m.sender_id
       JOIN chats c ON c.id = p.chat_id
       WHERE p.user_id = $1 AND (m.expires_at IS NULL OR m.expires_at > $3)
       ORDER BY p.id LIMIT $2`,
      [userId, limit, now],
    );
    return rows.map(fromRow.pending);
  }

  async ackPending(userId: string, ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.#pool.query(
      'DELETE FROM pending_notifications WHERE user_id = $1 AND id = ANY($2::bigint[])',
      [userId, [...ids]],
    );
    return result.rowCount ?? 0;
  }

  /** For tests and operations: the highest schema version applied. */
  async schemaVersion(): Promise<number> {
    const [row] = await this.#rows<{ version: number | null }>(
      'SELECT max(version) AS version FROM schema_migrations',
    );
    return row?.version ?? 0;
  }

  /** One round trip to the server: readiness. */
  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#pool.end(), this.#writePool.end()]);
  }
}

/** Applies pending migrations in one transaction, holding an advisory lock per schema. */
async function migrate(pool: pg.Pool, schema: string | null): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `parley.migrate:${schema ?? ''}`,
    ]);
    if (schema !== null) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM schema_migrations',
    );
    const current = rows[0]?.version ?? 0;
    if (current > PG_MIGRATIONS.length) {
      throw new PgStoreError(
        'ERR_PG_SCHEMA_NEWER',
        `database schema version ${current} is newer than this relay understands (${PG_MIGRATIONS.length})`,
      );
    }
    for (let version = current + 1; version <= PG_MIGRATIONS.length; version += 1) {
      await client.query(PG_MIGRATIONS[version - 1] ?? '');
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
    }
    await backfillNameSkeletons(client);
    await client.query('COMMIT');
  } catch (error) {
    // The original error is what matters; a failed ROLLBACK only means the connection died too.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Name keys for rows stored before them (migration 4) or under another key version, as SQLite's
 * backfillNameSkeletons: sign-up users and public rooms, oldest first (the main room before all);
 * a later clashing name keeps NULL. Runs under the migration lock, in its transaction.
 */
async function backfillNameSkeletons(client: pg.PoolClient): Promise<void> {
  const done = await client.query<{ value: string }>(
    "SELECT value FROM meta WHERE key = 'name_skeleton_version'",
  );
  if (done.rows[0]?.value === NAME_KEY_VERSION) return;
  const users = await client.query<{ id: string; name: string; name_key: string }>(
    'SELECT id, name, name_key FROM users ORDER BY created_at, id',
  );
  const rooms = await client.query<{ id: string; name: string }>(
    `SELECT id, name FROM chats WHERE kind = 'room' AND visibility = 'public'
     ORDER BY is_main DESC, created_at, id`,
  );
  await client.query('UPDATE users SET name_skeleton = NULL WHERE name_skeleton IS NOT NULL');
  await client.query('UPDATE chats SET name_skeleton = NULL WHERE name_skeleton IS NOT NULL');
  const signUps = users.rows.filter((user) => user.name_key === nameKey(user.name));
  for (const [id, key] of backfillSkeletons(signUps)) {
    if (key !== null)
      await client.query('UPDATE users SET name_skeleton = $1 WHERE id = $2', [key, id]);
  }
  for (const [id, key] of backfillSkeletons(rooms.rows)) {
    if (key !== null)
      await client.query('UPDATE chats SET name_skeleton = $1 WHERE id = $2', [key, id]);
  }
  await client.query(
    `INSERT INTO meta (key, value) VALUES ('name_skeleton_version', $1)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    [NAME_KEY_VERSION],
  );
}

/** A search page's `next` on PostgreSQL: `<ISO time>_<message id>`; undefined when malformed. */
function parseSearchCursor(before: string | null): { time: Date; id: string } | null | undefined {
  if (before === null) return null;
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)_([0-9a-f-]{1,64})$/.exec(before);
  const time = new Date(match?.[1] ?? '');
  if (match === null || Number.isNaN(time.getTime())) return undefined;
  return { time, id: match[2] ?? '' };
}
