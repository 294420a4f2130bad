/**
 * The cluster Store: PostgreSQL through a `pg` pool, shared by every relay node.
 *
 * Per-chat seq stays gap-free and strictly increasing with many nodes writing at once: each
 * group-commit batch runs in one transaction that first locks the rows of the chats it writes
 * (`SELECT ... FOR UPDATE`, in id order so two batches never deadlock), then numbers its
 * messages from the locked `last_seq` and stores the new `last_seq` before COMMIT. A second
 * node's batch for the same chat waits on that row lock and then reads the committed value; a
 * failed batch rolls back its numbers with everything else. The dedupe check runs after the
 * lock too, so a resend that reaches another node while the original commits is still found.
 *
 * A batch costs a fixed number of round trips whatever its size (rows go in as arrays through
 * `unnest`): BEGIN, one locking read, one write statement, COMMIT. When one message breaks a constraint the batch is replayed one message per
 * savepoint, so only that message fails, as with SQLite.
 */
import pg from 'pg';
import { failure } from './protocol/errors.js';
import type { ChatInfo, ChatSummary, NotificationPayload, WireMessage } from './protocol/events.js';
import { PG_MIGRATIONS } from './pg-migrations.js';
import { dmKey, nameKey } from './sqlite-store.js';
import type {
  AppendRequest,
  AppendResult,
  Membership,
  NewChat,
  Store,
  StoredUser,
} from './store.js';

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

/** Unread counts stop counting here; the UI shows "9999+". Same cap as SQLite. */
const UNREAD_COUNT_CAP = 9_999;
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

interface ChatRow {
  id: string;
  kind: 'room' | 'dm';
  name: string;
  visibility: 'public' | 'private';
  ephemeral_ttl_s: number | null;
  is_main: boolean;
  dm_key: string | null;
  last_seq: number;
  created_at: Date;
}

interface MessageRow {
  chat_id: string;
  seq: number;
  id: string;
  sender_id: string;
  sender_name: string;
  content: string;
  mobile_ref_id: string;
  created_at: Date;
  expires_at: Date | null;
}

interface UserRow {
  id: string;
  name: string;
  created_at: Date;
}

interface PendingRow {
  id: number;
  chat_id: string;
  chat_name: string;
  message_id: string;
  seq: number;
  sender_id: string;
  sender_name: string;
  content: string;
  created_at: Date;
  mentioned: boolean;
}

const MESSAGE_COLUMNS = `m.chat_id, m.seq, m.id, m.sender_id, u.name AS sender_name, m.content,
  m.mobile_ref_id, m.created_at, m.expires_at`;
const CHAT_COLUMNS = `c.id, c.kind, c.name, c.visibility, c.ephemeral_ttl_s, c.is_main, c.dm_key,
  c.last_seq, c.created_at`;

function toChat(row: ChatRow): ChatInfo {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    visibility: row.visibility,
    ephemeral_ttl_s: row.ephemeral_ttl_s,
    is_main: row.is_main,
    dm_user_ids: row.dm_key === null ? [] : row.dm_key.split('|'),
    last_seq: row.last_seq,
    created_at: row.created_at.toISOString(),
  };
}

function toMessage(row: MessageRow): WireMessage {
  return {
    chat_id: row.chat_id,
    message_id: row.id,
    seq: row.seq,
    content: row.content,
    sender_id: row.sender_id,
    sender_name: row.sender_name,
    timestamp: row.created_at.toISOString(),
    expires_at: row.expires_at === null ? null : row.expires_at.toISOString(),
    mobile_ref_id: row.mobile_ref_id,
  };
}

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
  readonly #maxPendingPerUser: number;
  readonly #onWriteError: (error: unknown) => void;
  #closed = false;

  private constructor(
    pool: pg.Pool,
    maxPendingPerUser: number,
    onWriteError: (error: unknown) => void,
  ) {
    this.#pool = pool;
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
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      query_timeout: options.queryTimeoutMs,
      keepAlive: true,
      application_name: 'parley-relay',
      types: TYPES,
      ...(schema === null ? {} : { options: `-c search_path=${schema}` }),
    });
    // Without a listener, a connection that dies (server restart) crashes the process: the
    // pool listens on idle ones only, so every connection gets its own listener as well (the
    // query in flight, if any, fails with the same error and answers its caller).
    const onError = (error: Error): void => options.onPoolError?.(error);
    pool.on('error', onError);
    pool.on('connect', (client) => client.on('error', onError));
    try {
      await migrate(pool, schema);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PgStore(pool, options.maxPendingPerUser, options.onWriteError ?? (() => undefined));
  }

  /** Rows of one query. */
  async #rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.#pool.query(sql, params);
    return result.rows as T[];
  }

  /** Runs `work` in one transaction on one pooled connection. */
  async #transaction<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
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

  async createUser(user: { id: string; name: string; now: Date }): Promise<StoredUser | null> {
    const [row] = await this.#rows<UserRow>(
      `INSERT INTO users (id, name, name_key, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING id, name, created_at`,
      [user.id, user.name, nameKey(user.name), user.now],
    );
    return row === undefined ? null : toUser(row);
  }

  async upsertUser(user: { id: string; name: string; now: Date }): Promise<StoredUser> {
    // Identity-provider names are not unique; the key carries the id so two "Ana"s can coexist.
    const [row] = await this.#rows<UserRow>(
      `INSERT INTO users (id, name, name_key, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key
       RETURNING id, name, created_at`,
      [user.id, user.name, `${nameKey(user.name)}#${user.id}`, user.now],
    );
    if (row === undefined) throw new Error('upsert returned no row');
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
      const inserted = await client.query(
        `INSERT INTO chats
           (id, kind, name, visibility, ephemeral_ttl_s, is_main, dm_key, created_by, created_at)
         VALUES ($1, 'room', $2, $3, $4, $5, NULL, $6, $7)
         ON CONFLICT (is_main) WHERE is_main DO NOTHING`,
        [
          chat.id,
          chat.name,
          chat.visibility,
          chat.ephemeralTtlS,
          chat.isMain,
          chat.createdBy,
          chat.now,
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
    const row = created ? await this.getChat(chat.id) : await this.getMainChat();
    if (row === null) throw new Error('the chat vanished right after it was created');
    return row;
  }

  async getChat(id: string): Promise<ChatInfo | null> {
    const [row] = await this.#rows<ChatRow>(`SELECT ${CHAT_COLUMNS} FROM chats c WHERE id = $1`, [
      id,
    ]);
    return row === undefined ? null : toChat(row);
  }

  async getMainChat(): Promise<ChatInfo | null> {
    const [row] = await this.#rows<ChatRow>(
      `SELECT ${CHAT_COLUMNS} FROM chats c WHERE is_main LIMIT 1`,
    );
    return row === undefined ? null : toChat(row);
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
    if (row === undefined) throw new Error('the DM vanished right after it was created');
    return toChat(row);
  }

  async listPublicChats(limit: number): Promise<ChatInfo[]> {
    const rows = await this.#rows<ChatRow>(
      `SELECT ${CHAT_COLUMNS} FROM chats c WHERE kind = 'room' AND visibility = 'public'
       ORDER BY name COLLATE "C" LIMIT $1`,
      [limit],
    );
    return rows.map(toChat);
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
              AND (m.expires_at IS NULL OR m.expires_at > $2) LIMIT $3) capped) AS unread_count,
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
      ...toChat(row),
      read_seq: row.read_seq,
      unread_count: row.unread_count,
      last_message:
        row.lm === null
          ? null
          : toMessage({
              ...row.lm,
              // row_to_json gives timestamps as text; seq as a JSON number.
              created_at: new Date(row.lm.created_at),
              expires_at: row.lm.expires_at === null ? null : new Date(row.lm.expires_at),
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

  async listMembers(chatId: string): Promise<StoredUser[]> {
    const rows = await this.#rows<UserRow>(
      `SELECT u.id, u.name, u.created_at FROM chat_members cm JOIN users u ON u.id = cm.user_id
       WHERE cm.chat_id = $1`,
      [chatId],
    );
    return rows.map(toUser);
  }

  async appendMessages(requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    if (requests.length === 0) return [];
    const failAll = (error: unknown): AppendResult[] => {
      this.#onWriteError(error);
      return requests.map(() =>
        failure('storage_error', `database write failed: ${describe(error)}`),
      );
    };
    if (this.#closed) return failAll(new Error('the store is closed'));
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#transaction((client) => this.#appendBatch(client, requests));
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
      });
    } catch (error) {
      return failAll(error);
    }
  }

  /** The whole batch inside the caller's transaction; throws to abort it. */
  async #appendBatch(client: Client, requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    const chatIds = [...new Set(requests.map((request) => request.chatId))].sort();
    const key = (chatId: string, senderId: string, ref: string): string =>
      JSON.stringify([chatId, senderId, ref]);
    // One round trip: lock the chats (in id order, so two batches never deadlock) and read
    // their last_seq (kind 'c'), messages already stored under these mobile_ref_ids ('m') and
    // the senders' names ('u'). A locked row is re-read after waiting for its lock, so the
    // numbering always starts from the committed last_seq. The dedupe rows come from the
    // statement's snapshot, which may predate a resend committed meanwhile by another node:
    // then the insert below breaks messages_dedupe and the batch is replayed one message at a
    // time (appendMessages), which finds the original.
    const chats = new Map<
      string,
      { id: string; last_seq: number; ephemeral_ttl_s: number | null }
    >();
    const stored = new Map<string, WireMessage>();
    const senders = new Map<string, string>();
    const lookup = await client.query<MessageRow & { kind: 'c' | 'm' | 'u'; ttl: number | null }>(
      `WITH locked AS (
         SELECT id, last_seq, ephemeral_ttl_s FROM chats WHERE id = ANY($5::text[])
         ORDER BY id FOR UPDATE)
       SELECT 'c' AS kind, NULL AS chat_id, last_seq AS seq, id, NULL AS sender_id,
         NULL AS sender_name, NULL AS content, NULL AS mobile_ref_id, NULL::timestamptz AS created_at,
         NULL::timestamptz AS expires_at, ephemeral_ttl_s AS ttl
       FROM locked
       UNION ALL
       SELECT 'm', ${MESSAGE_COLUMNS}, NULL FROM messages m JOIN users u ON u.id = m.sender_id
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (chat_id, sender_id, ref)
         ON m.chat_id = k.chat_id AND m.sender_id = k.sender_id AND m.mobile_ref_id = k.ref
       UNION ALL
       SELECT 'u', NULL, NULL, id, NULL, name, NULL, NULL, NULL, NULL, NULL
       FROM users WHERE id = ANY($4::text[])`,
      [
        requests.map((request) => request.chatId),
        requests.map((request) => request.senderId),
        requests.map((request) => request.mobileRefId),
        [...new Set(requests.map((request) => request.senderId))],
        chatIds,
      ],
    );
    for (const row of lookup.rows) {
      if (row.kind === 'c') {
        chats.set(row.id, { id: row.id, last_seq: row.seq, ephemeral_ttl_s: row.ttl });
      } else if (row.kind === 'u') {
        senders.set(row.id, row.sender_name);
      } else {
        stored.set(key(row.chat_id, row.sender_id, row.mobile_ref_id), toMessage(row));
      }
    }

    const inserts: WireMessage[] = [];
    const readUpTo = new Map<string, { chatId: string; userId: string; seq: number }>();
    const pending: { userId: string; chatId: string; seq: number; mentioned: boolean }[] = [];
    const results = requests.map((request): AppendResult => {
      const id = key(request.chatId, request.senderId, request.mobileRefId);
      const original = stored.get(id);
      if (original !== undefined) return { ok: true, message: original, duplicate: true };
      const chat = chats.get(request.chatId);
      if (chat === undefined) return failure('not_found', 'chat does not exist');
      const senderName = senders.get(request.senderId);
      if (senderName === undefined) return failure('not_found', 'sender does not exist');
      chat.last_seq += 1;
      const seq = chat.last_seq;
      const message: WireMessage = {
        chat_id: request.chatId,
        message_id: request.messageId,
        seq,
        content: request.content,
        sender_id: request.senderId,
        sender_name: senderName,
        timestamp: request.now.toISOString(),
        expires_at:
          chat.ephemeral_ttl_s === null
            ? null
            : new Date(request.now.getTime() + chat.ephemeral_ttl_s * 1000).toISOString(),
        mobile_ref_id: request.mobileRefId,
      };
      stored.set(id, message);
      inserts.push(message);
      readUpTo.set(JSON.stringify([request.chatId, request.senderId]), {
        chatId: request.chatId,
        userId: request.senderId,
        seq,
      });
      const mentioned = new Set(request.mentionedUserIds);
      for (const userId of request.notifyUserIds) {
        pending.push({ userId, chatId: request.chatId, seq, mentioned: mentioned.has(userId) });
      }
      return { ok: true, message, duplicate: false };
    });
    if (inserts.length === 0) return results;

    const bumped = [...chats.values()];
    const reads = [...readUpTo.values()];
    // Per user, keep the newest notifications only: drop all but the newest `cap - incoming`
    // stored ones before adding `incoming` (at most `cap`) new ones.
    const cap = this.#maxPendingPerUser;
    const incoming = new Map<string, number>();
    for (const p of pending) incoming.set(p.userId, (incoming.get(p.userId) ?? 0) + 1);
    const seen = new Map<string, number>();
    const kept = pending.filter((p) => {
      const index = (seen.get(p.userId) ?? 0) + 1;
      seen.set(p.userId, index);
      return index > (incoming.get(p.userId) ?? 0) - cap;
    });
    // Every write of the batch in one statement (one round trip). Its parts share one snapshot,
    // so the prune only ever sees notifications stored before this batch.
    await client.query(
      `WITH new_messages AS (
         INSERT INTO messages
           (chat_id, seq, id, sender_id, content, mobile_ref_id, created_at, expires_at)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
           $6::text[], $7::timestamptz[], $8::timestamptz[])
       ), numbered AS (
         UPDATE chats SET last_seq = v.last_seq
         FROM unnest($9::text[], $10::bigint[]) AS v (id, last_seq) WHERE chats.id = v.id
       ), read_own AS (
         UPDATE chat_members cm SET read_seq = GREATEST(cm.read_seq, v.seq)
         FROM unnest($11::text[], $12::text[], $13::bigint[]) AS v (chat_id, user_id, seq)
         WHERE cm.chat_id = v.chat_id AND cm.user_id = v.user_id
       ), pruned AS (
         DELETE FROM pending_notifications p
         USING unnest($18::text[], $19::int[]) AS n (user_id, incoming)
         CROSS JOIN LATERAL (
           SELECT id FROM pending_notifications
           WHERE user_id = n.user_id ORDER BY id DESC
           OFFSET GREATEST($20::int - n.incoming, 0) LIMIT 1) AS cut
         WHERE p.user_id = n.user_id AND p.id <= cut.id
       ), notified AS (
         INSERT INTO pending_notifications (user_id, chat_id, seq, mentioned)
         SELECT user_id, chat_id, seq, mentioned
         FROM unnest($14::text[], $15::text[], $16::bigint[], $17::boolean[])
           WITH ORDINALITY AS p (user_id, chat_id, seq, mentioned, n)
         ORDER BY n
       )
       SELECT 1`,
      [
        inserts.map((m) => m.chat_id),
        inserts.map((m) => m.seq),
        inserts.map((m) => m.message_id),
        inserts.map((m) => m.sender_id),
        inserts.map((m) => m.content),
        inserts.map((m) => m.mobile_ref_id),
        inserts.map((m) => m.timestamp),
        inserts.map((m) => m.expires_at),
        bumped.map((chat) => chat.id),
        bumped.map((chat) => chat.last_seq),
        reads.map((r) => r.chatId),
        reads.map((r) => r.userId),
        reads.map((r) => r.seq),
        kept.map((p) => p.userId),
        kept.map((p) => p.chatId),
        kept.map((p) => p.seq),
        kept.map((p) => p.mentioned),
        [...incoming.keys()],
        [...incoming.values()].map((count) => Math.min(count, cap)),
        cap,
      ],
    );
    return results;
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
    return rows.map(toMessage);
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
    return rows.reverse().map(toMessage);
  }

  async deleteExpired(now: Date): Promise<number> {
    const [row] = await this.#rows<{ count: number }>(
      `WITH gone AS (DELETE FROM messages WHERE expires_at <= $1 RETURNING chat_id, seq),
       dropped AS (DELETE FROM pending_notifications p USING gone
         WHERE p.chat_id = gone.chat_id AND p.seq = gone.seq)
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
    return rows.map((row) => ({
      id: row.id,
      chat_id: row.chat_id,
      chat_name: row.chat_name,
      message_id: row.message_id,
      seq: row.seq,
      sender_id: row.sender_id,
      sender_name: row.sender_name,
      content: row.content,
      timestamp: row.created_at.toISOString(),
      mentioned: row.mentioned,
    }));
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
    await this.#pool.end();
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
    await client.query('COMMIT');
  } catch (error) {
    // The original error is what matters; a failed ROLLBACK only means the connection died too.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
