/**
 * The single-host Store: better-sqlite3 in WAL mode. Writes are synchronous inside a
 * transaction, so "committed" really means on disk (with `synchronous = FULL`) or in the OS's
 * hands (NORMAL, which survives a killed process but not a power cut).
 *
 * A full or read-only disk fails the batch as a value (`storage_full`, `storage_read_only`),
 * rolls back whatever SQLite left open, and the next batch simply tries again; opening on a data
 * folder that cannot be written throws a `StorageOpenError` naming the problem.
 */
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { failure, type Failure } from '../../protocol/errors.js';
import type {
  ChatEvent,
  ChatInfo,
  ChatSummary,
  NotificationPayload,
  SearchPage,
  WireMessage,
} from '../../protocol/events.js';
import {
  NAME_KEY_VERSION,
  RoomNameTakenError,
  backfillSkeletons,
  dmKey,
  nameKey,
  nameSkeleton,
} from '../../core/name-key.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import { SqliteSearchIndex } from './sqlite-search-index.js';
import { SqliteSearchWorker } from './sqlite-search-worker.js';
import { storageFailure, storageOpenError } from '../../core/storage-errors.js';
import { RelayError } from '../../core/relay-error.js';
import type * as Rows from '../store-rows.js';
import { EVENT_COLUMNS, MESSAGE_COLUMNS, UNREAD_COUNT_CAP, rowMappers } from '../store-rows.js';
import { checkChange } from '../../core/message-rules.js';
import type {
  AppendRequest,
  ChangeRequest,
  ChangeResult,
  AppendResult,
  Membership,
  NewChat,
  NewLinkCode,
  NewUser,
  SearchRequest,
  Store,
  StoredRecoveryCode,
  StoredUser,
} from '../../core/store.js';

export interface SqliteStoreOptions {
  /** Database file; `:memory:` for throwaway stores. */
  path: string;
  /** FULL fsyncs the WAL on every commit (survives power loss); NORMAL survives a killed process. */
  synchronous: 'FULL' | 'NORMAL';
  /** Pending notifications kept per user; older ones are dropped first. */
  maxPendingPerUser: number;
  /** Path to a better_sqlite3.node built for this runtime (the desktop app passes Electron's). */
  nativeBinding?: string;
}

type ChatRow = Rows.ChatRow<string, number>;
type MessageRow = Rows.MessageRow<string>;
type PendingRow = Rows.PendingRow<string, number>;
type EventRow = Rows.EventRow<string>;
/** The message a change targets, as its transaction reads it. */
interface TargetRow {
  seq: number;
  sender_id: string;
  content: string;
  deleted_at: string | null;
  expires_at: string | null;
}

const NOT_EXPIRED = `(m.expires_at IS NULL OR m.expires_at > @now)`;
/**
 * A search (run by the search worker, or here for a store in memory). The match is built by
 * SqliteSearchIndex.match: terms are letters, digits and marks only, each quoted as a phrase.
 */
const SEARCH_SQL = `SELECT ${MESSAGE_COLUMNS}, s.rowid AS position
  FROM message_search s
  JOIN message_search_keys k ON k.rowid = s.rowid
  JOIN chat_members cm ON cm.chat_id = k.chat_id AND cm.user_id = @user_id
  JOIN messages m ON m.chat_id = k.chat_id AND m.seq = k.seq
  JOIN users u ON u.id = m.sender_id
  WHERE message_search MATCH @match AND s.rowid < @before
    AND (@chat_id IS NULL OR k.chat_id = @chat_id) AND m.deleted_at IS NULL
  ORDER BY s.rowid DESC LIMIT @limit`;
/** How long a write waits for another connection's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;
/** SQLite returns times as the ISO text they were stored as, and flags as 0/1. */
const fromRow = rowMappers<string, number>({
  time: (value) => value,
  flag: (value) => value === 1,
});

/**
 * A search page's `next` on SQLite: the index rowid of the last result shown; the top of the
 * index when there is none; undefined when it is not one this relay could have given.
 */
function parseSearchPosition(before: string | null): number | undefined {
  if (before === null) return Number.MAX_SAFE_INTEGER;
  const position = Number(before);
  return /^\d+$/.test(before) && Number.isSafeInteger(position) && position >= 1
    ? position
    : undefined;
}

/** The key that makes display names unique regardless of case and surrounding spaces. */
function isConstraintError(error: unknown): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('SQLITE_CONSTRAINT')
  );
}

export class SqliteStore implements Store {
  readonly #db: Db;
  /** The data folder (null in memory): tells a full disk from other I/O errors. */
  readonly #dir: string | null;
  readonly #maxPendingPerUser: number;
  readonly #stmts: ReturnType<typeof prepareStatements>;
  readonly #appendBatch: (requests: readonly AppendRequest[]) => AppendResult[];
  readonly #changeBatch: (requests: readonly ChangeRequest[]) => ChangeResult[];
  readonly #search: SqliteSearchIndex;
  /** Runs searches off the event loop; null in memory (no other connection can see it). */
  readonly #searchWorker: SqliteSearchWorker | null;
  /** Expired messages were deleted but the WAL that still holds them is not emptied yet. */
  #eraseCheckpointDue = false;

  constructor(options: SqliteStoreOptions) {
    this.#dir = options.path === ':memory:' ? null : dirname(options.path);
    try {
      this.#db = new Database(
        options.path,
        options.nativeBinding === undefined ? {} : { nativeBinding: options.nativeBinding },
      );
    } catch (error) {
      throw storageOpenError(error, options.path, this.#dir);
    }
    try {
      migrate(this.#db);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma(`synchronous = ${options.synchronous}`);
      this.#db.pragma('foreign_keys = ON');
      this.#db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // Deleted and moved cells are zeroed where that costs no extra I/O, so a page never keeps
      // stale copies of what an expired message's delete erases (see deleteExpired).
      this.#db.pragma('secure_delete = FAST');
      // SQLite opens a file it may not write read-only without a word; the first send would
      // fail. Starting on a read-only data folder is refused here instead, with the reason.
      if (this.#dir !== null) this.#db.prepare('BEGIN IMMEDIATE').run();
      if (this.#db.inTransaction) this.#db.prepare('ROLLBACK').run();
    } catch (error) {
      this.#db.close();
      throw storageOpenError(error, options.path, this.#dir);
    }
    this.#maxPendingPerUser = options.maxPendingPerUser;
    this.#stmts = prepareStatements(this.#db);
    const appendOne = this.#db.transaction((request: AppendRequest) => this.#appendOne(request));
    this.#appendBatch = this.#db.transaction((requests: readonly AppendRequest[]) => {
      const results = requests.map((request): AppendResult => {
        try {
          return appendOne(request);
        } catch (error) {
          // A constraint on one message (say, a sender deleted meanwhile) fails only that one;
          // anything else (disk full, I/O) aborts the whole batch below.
          if (isConstraintError(error)) return failure('storage_error');
          throw error;
        }
      });
      const notified = new Set(requests.flatMap((request) => request.notifyUserIds));
      for (const userId of notified) {
        this.#stmts.prunePending.run({ user_id: userId, keep: this.#maxPendingPerUser });
      }
      return results;
    });
    const changeOne = this.#db.transaction((request: ChangeRequest) => this.#changeOne(request));
    this.#changeBatch = this.#db.transaction((requests: readonly ChangeRequest[]) =>
      requests.map((request): ChangeResult => {
        try {
          return changeOne(request);
        } catch (error) {
          if (isConstraintError(error)) return failure('storage_error');
          throw error;
        }
      }),
    );
    this.#search = new SqliteSearchIndex(this.#db);
    this.#searchWorker =
      this.#dir === null
        ? null
        : new SqliteSearchWorker({
            path: options.path,
            sql: SEARCH_SQL,
            ...(options.nativeBinding === undefined
              ? {}
              : { nativeBinding: options.nativeBinding }),
          });
  }

  /** For tests and operations: `PRAGMA integrity_check`. */
  integrityCheck(): string {
    return String(this.#db.pragma('integrity_check', { simple: true }));
  }

  #appendOne(request: AppendRequest): AppendResult {
    const s = this.#stmts;
    if (request.requireMembership === true) {
      if (s.getChat.get(request.chatId) === undefined) return failure('not_found', 'no such chat');
      if (s.getMembership.get(request.chatId, request.senderId) === undefined) {
        return failure('not_member', 'you are not a member of this chat');
      }
    }
    const existing = s.findDuplicate.get({
      chat_id: request.chatId,
      sender_id: request.senderId,
      mobile_ref_id: request.mobileRefId,
    }) as MessageRow | undefined;
    if (existing !== undefined)
      return { ok: true, message: fromRow.message(existing), duplicate: true };

    const chat = s.getChat.get(request.chatId) as ChatRow | undefined;
    if (chat === undefined) return failure('not_found', 'chat does not exist');
    const sender = this.#stmts.getUser.get(request.senderId) as StoredUser | undefined;
    if (sender === undefined) return failure('not_found', 'sender does not exist');

    const seq = chat.last_seq + 1;
    const createdAt = request.now.toISOString();
    const expiresAt =
      chat.ephemeral_ttl_s === null
        ? null
        : new Date(request.now.getTime() + chat.ephemeral_ttl_s * 1000).toISOString();
    s.bumpSeq.run({ id: request.chatId, seq });
    s.insertMessage.run({
      chat_id: request.chatId,
      seq,
      id: request.messageId,
      sender_id: request.senderId,
      content: request.content,
      mobile_ref_id: request.mobileRefId,
      created_at: createdAt,
      expires_at: expiresAt,
    });
    s.advanceRead.run({ chat_id: request.chatId, user_id: request.senderId, seq });
    const mentioned = new Set(request.mentionedUserIds);
    for (const userId of request.notifyUserIds) {
      s.insertPending.run({
        user_id: userId,
        chat_id: request.chatId,
        seq,
        mentioned: mentioned.has(userId) ? 1 : 0,
      });
    }
    return {
      ok: true,
      duplicate: false,
      message: {
        chat_id: request.chatId,
        message_id: request.messageId,
        seq,
        content: request.content,
        sender_id: request.senderId,
        sender_name: sender.name,
        timestamp: createdAt,
        expires_at: expiresAt,
        mobile_ref_id: request.mobileRefId,
        edited_at: null,
        deleted_at: null,
        version_seq: seq,
      },
    };
  }

  /** One edit or delete, inside the batch's transaction (Store.changeMessages). */
  #changeOne(request: ChangeRequest): ChangeResult {
    const s = this.#stmts;
    const chat = s.getChat.get(request.chatId) as ChatRow | undefined;
    if (chat === undefined) return failure('not_found', 'no such chat');
    if (s.getMembership.get(request.chatId, request.actorId) === undefined) {
      return failure('not_member', 'you are not a member of this chat');
    }
    const target = s.getTarget.get(request.chatId, request.messageId) as TargetRow | undefined;
    if (target === undefined) return failure('not_found', 'no such message in this chat');
    if (request.kind === 'edit') {
      const earlier = s.findEditByRef.get({
        chat_id: request.chatId,
        actor_id: request.actorId,
        ref_id: request.refId,
      }) as EventRow | undefined;
      if (earlier !== undefined) return this.#changed(request.chatId, target.seq, earlier, true);
    }
    const refused = checkChange(
      { kind: request.kind, actorId: request.actorId, now: request.now },
      { senderId: target.sender_id, deletedAt: target.deleted_at, expiresAt: target.expires_at },
    );
    if (refused !== null) return refused;
    if (request.kind === 'delete' && target.deleted_at !== null) {
      const earlier = s.findDeleteOf.get(request.chatId, target.seq) as EventRow | undefined;
      if (earlier !== undefined) return this.#changed(request.chatId, target.seq, earlier, true);
    }
    const seq = chat.last_seq + 1;
    const at = request.now.toISOString();
    const key = { chat_id: request.chatId, message_seq: target.seq, seq, at };
    s.bumpSeq.run({ id: request.chatId, seq });
    if (request.kind === 'edit') {
      s.editMessage.run({ ...key, content: request.content });
      s.insertEvent.run({
        ...key,
        kind: 'edit',
        actor_id: request.actorId,
        content: request.content,
        ref_id: request.refId,
      });
      if (target.expires_at === null) {
        this.#search.changed(request.chatId, target.seq, target.content, request.content);
      }
    } else {
      s.deleteMessage.run({ ...key, actor_id: request.actorId });
      s.eraseEdits.run(request.chatId, target.seq);
      s.insertEvent.run({
        ...key,
        kind: 'delete',
        actor_id: request.actorId,
        content: null,
        ref_id: null,
      });
      s.deletePendingOf.run(request.chatId, target.seq);
      if (target.expires_at === null) {
        this.#search.changed(request.chatId, target.seq, target.content, null);
      }
    }
    const event = s.getEvent.get(request.chatId, seq) as EventRow;
    return this.#changed(request.chatId, target.seq, event, false);
  }

  #changed(chatId: string, messageSeq: number, event: EventRow, duplicate: boolean): ChangeResult {
    const message = this.#stmts.getMessageAt.get(chatId, messageSeq) as MessageRow;
    return {
      ok: true,
      message: fromRow.message(message),
      event: fromRow.event(event),
      duplicate,
    };
  }

  /**
   * Edits and deletes (Store.changeMessages). Every batch runs with secure_delete ON, like the
   * expiry sweep: a delete's text, and an edit's replaced text (which a later delete must not
   * find either), leave no copy in what they free. Under FAST, the store's default, pages that
   * go to the freelist keep their bytes: a long message's overflow pages, freed by an edit, kept
   * its first version in the file after the message was deleted. The next sweep's TRUNCATE
   * checkpoint then empties the WAL that still holds the text.
   */
  async changeMessages(requests: readonly ChangeRequest[]): Promise<ChangeResult[]> {
    const erasing = requests.some((request) => request.kind === 'delete');
    try {
      this.#db.pragma('secure_delete = ON');
      const results = this.#changeBatch(requests);
      if (erasing && results.some((result) => result.ok && !result.duplicate)) {
        this.#eraseCheckpointDue = true;
      }
      this.#search.schedule();
      return results;
    } catch (error) {
      const refused = this.#batchRefused(error);
      return requests.map(() => refused);
    } finally {
      if (this.#db.open) this.#db.pragma('secure_delete = FAST');
    }
  }

  async eventsAfter(chatId: string, afterSeq: number, limit: number): Promise<ChatEvent[]> {
    const rows = this.#stmts.eventsAfter.all({
      chat_id: chatId,
      after: afterSeq,
      limit,
      now: new Date().toISOString(),
    }) as EventRow[];
    return rows.map(fromRow.event);
  }

  async getMeta(key: string): Promise<string | null> {
    const row = this.#stmts.getMeta.get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  async putMetaIfAbsent(key: string, value: string): Promise<string> {
    this.#stmts.putMeta.run(key, value);
    return (await this.getMeta(key)) ?? value;
  }

  async getUser(id: string): Promise<StoredUser | null> {
    return (this.#stmts.getUser.get(id) as StoredUser | undefined) ?? null;
  }

  async findUserByName(name: string): Promise<StoredUser | null> {
    return (this.#stmts.findUserByName.get(nameKey(name)) as StoredUser | undefined) ?? null;
  }

  async createUser(user: NewUser): Promise<StoredUser | null> {
    const row = { id: user.id, name: user.name, created_at: user.now.toISOString() };
    const joinChatId = user.joinChatId ?? null;
    try {
      this.#db.transaction(() => {
        this.#stmts.insertUser.run({
          ...row,
          name_key: nameKey(user.name),
          name_skeleton: nameSkeleton(user.name),
        });
        if (user.recoveryHash != null) {
          this.#stmts.setRecoveryCode.run({
            user_id: user.id,
            hash: user.recoveryHash,
            created_at: row.created_at,
          });
        }
        if (joinChatId !== null) {
          this.#stmts.insertMember.run({
            chat_id: joinChatId,
            user_id: user.id,
            joined_at: row.created_at,
          });
        }
      })();
    } catch (error) {
      if (isConstraintError(error)) return null;
      throw error;
    }
    return row;
  }

  async upsertUser(user: { id: string; name: string; now: Date }): Promise<StoredUser> {
    // Identity-provider names are not unique; the key carries the id so two "Ana"s can coexist.
    this.#stmts.upsertUser.run({
      id: user.id,
      name: user.name,
      name_key: `${nameKey(user.name)}#${user.id}`,
      created_at: user.now.toISOString(),
    });
    return this.#stmts.getUser.get(user.id) as StoredUser;
  }

  async getRecoveryCode(userId: string): Promise<StoredRecoveryCode | null> {
    return (this.#stmts.getRecoveryCode.get(userId) as StoredRecoveryCode | undefined) ?? null;
  }

  async setRecoveryCode(userId: string, hash: string, now: Date): Promise<void> {
    this.#stmts.setRecoveryCode.run({ user_id: userId, hash, created_at: now.toISOString() });
  }

  async replaceRecoveryCode(
    userId: string,
    expected: string,
    next: string,
    now: Date,
  ): Promise<boolean> {
    const result = this.#stmts.replaceRecoveryCode.run({
      user_id: userId,
      expected,
      next,
      created_at: now.toISOString(),
    });
    return result.changes === 1;
  }

  async addLinkCode(code: NewLinkCode): Promise<void> {
    const now = code.now.toISOString();
    this.#db.transaction(() => {
      this.#stmts.pruneLinkCodes.run({
        user_id: code.userId,
        now,
        keep: Math.max(0, code.maxOutstanding - 1),
      });
      this.#stmts.insertLinkCode.run({
        user_id: code.userId,
        hash: code.hash,
        created_at: now,
        expires_at: code.expiresAt.toISOString(),
      });
    })();
  }

  async consumeLinkCode(userId: string, hash: string, now: Date): Promise<boolean> {
    const result = this.#stmts.consumeLinkCode.run({
      user_id: userId,
      hash,
      now: now.toISOString(),
    });
    return result.changes === 1;
  }

  async listUsers(limit: number): Promise<StoredUser[]> {
    return this.#stmts.listUsers.all(limit) as StoredUser[];
  }

  async createChat(chat: NewChat): Promise<ChatInfo> {
    const createdAt = chat.now.toISOString();
    try {
      this.#db.transaction(() => {
        this.#stmts.insertChat.run({
          id: chat.id,
          kind: 'room',
          name: chat.name,
          // Public rooms' names are unique by their key; private rooms' are nobody's business.
          name_skeleton: chat.visibility === 'public' ? nameSkeleton(chat.name) : null,
          visibility: chat.visibility,
          ephemeral_ttl_s: chat.ephemeralTtlS,
          is_main: chat.isMain ? 1 : 0,
          dm_key: null,
          created_by: chat.createdBy,
          created_at: createdAt,
        });
        if (chat.createdBy !== null) {
          this.#stmts.insertMember.run({
            chat_id: chat.id,
            user_id: chat.createdBy,
            joined_at: createdAt,
          });
        }
      })();
    } catch (error) {
      if (isConstraintError(error) && chat.visibility === 'public') {
        throw new RoomNameTakenError(chat.name);
      }
      throw error;
    }
    return fromRow.chat(this.#stmts.getChat.get(chat.id) as ChatRow);
  }

  async getTokenGeneration(userId: string): Promise<number | null> {
    const row = this.#stmts.getTokenGeneration.get(userId) as
      { token_generation: number } | undefined;
    return row?.token_generation ?? null;
  }

  async revokeTokens(userId: string): Promise<number | null> {
    const row = this.#stmts.revokeTokens.get(userId) as { token_generation: number } | undefined;
    return row?.token_generation ?? null;
  }

  async getChat(id: string): Promise<ChatInfo | null> {
    const row = this.#stmts.getChat.get(id) as ChatRow | undefined;
    return row === undefined ? null : fromRow.chat(row);
  }

  async getMainChat(): Promise<ChatInfo | null> {
    const row = this.#stmts.getMainChat.get() as ChatRow | undefined;
    return row === undefined ? null : fromRow.chat(row);
  }

  async getOrCreateDm(input: {
    id: string;
    userA: string;
    userB: string;
    now: Date;
  }): Promise<ChatInfo> {
    const key = dmKey(input.userA, input.userB);
    const createdAt = input.now.toISOString();
    this.#db.transaction(() => {
      if (this.#stmts.getDmByKey.get(key) !== undefined) return;
      this.#stmts.insertChat.run({
        id: input.id,
        kind: 'dm',
        name: '',
        name_skeleton: null,
        visibility: 'private',
        ephemeral_ttl_s: null,
        is_main: 0,
        dm_key: key,
        created_by: input.userA,
        created_at: createdAt,
      });
      for (const userId of [input.userA, input.userB]) {
        this.#stmts.insertMember.run({ chat_id: input.id, user_id: userId, joined_at: createdAt });
      }
    })();
    return fromRow.chat(this.#stmts.getDmByKey.get(key) as ChatRow);
  }

  async listPublicChats(limit: number): Promise<ChatInfo[]> {
    return (this.#stmts.listPublicChats.all(limit) as ChatRow[]).map(fromRow.chat);
  }

  async listChatsForUser(userId: string, now: Date): Promise<ChatSummary[]> {
    const rows = this.#stmts.listChatsForUser.all({
      user_id: userId,
      now: now.toISOString(),
      cap: UNREAD_COUNT_CAP,
    }) as (ChatRow & { read_seq: number; unread_count: number })[];
    return rows.map((row) => {
      const last = this.#stmts.latestMessages.all({
        chat_id: row.id,
        before: Number.MAX_SAFE_INTEGER,
        limit: 1,
        now: now.toISOString(),
      }) as MessageRow[];
      return {
        ...fromRow.chat(row),
        read_seq: row.read_seq,
        unread_count: row.unread_count,
        last_message: last[0] === undefined ? null : fromRow.message(last[0]),
      };
    });
  }

  async addMember(chatId: string, userId: string, now: Date): Promise<void> {
    this.#stmts.insertMember.run({
      chat_id: chatId,
      user_id: userId,
      joined_at: now.toISOString(),
    });
  }

  async removeMember(chatId: string, userId: string): Promise<void> {
    this.#db.transaction(() => {
      this.#stmts.deleteMember.run(chatId, userId);
      this.#stmts.deletePendingForChat.run(userId, chatId);
    })();
  }

  async getMembership(chatId: string, userId: string): Promise<Membership | null> {
    return (this.#stmts.getMembership.get(chatId, userId) as Membership | undefined) ?? null;
  }

  async getChatAccess(
    chatId: string,
    userId: string,
  ): Promise<{ chat: ChatInfo; membership: Membership | null } | null> {
    // Synchronous reads of one connection: nothing commits between the two.
    const row = this.#stmts.getChat.get(chatId) as ChatRow | undefined;
    if (row === undefined) return null;
    const membership = this.#stmts.getMembership.get(chatId, userId) as Membership | undefined;
    return { chat: fromRow.chat(row), membership: membership ?? null };
  }

  async listMembers(chatId: string): Promise<StoredUser[]> {
    return this.#stmts.listMembers.all(chatId) as StoredUser[];
  }

  async appendMessages(requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    try {
      const results = this.#appendBatch(requests);
      this.#search.schedule();
      return results;
    } catch (error) {
      const refused = this.#batchRefused(error);
      return requests.map(() => refused);
    }
  }

  /**
   * The answer to every request of a batch that could not be written (nothing was stored):
   * `storage_full` / `storage_read_only` when the disk says so, else `storage_error`.
   */
  #batchRefused(error: unknown): Failure {
    this.#rollbackLeftover(error);
    return (
      storageFailure(error, this.#dir) ??
      failure(
        'storage_error',
        `database write failed: ${error instanceof Error ? error.message : String(error)}`,
      )
    );
  }

  /**
   * better-sqlite3 rolls a failed transaction back itself, but when COMMIT or that ROLLBACK
   * fails (SQLITE_FULL, SQLITE_IOERR) the transaction can stay open, and every later batch
   * would fail with "cannot start a transaction within a transaction". Close it here.
   */
  #rollbackLeftover(cause: unknown): void {
    if (!this.#db.open || !this.#db.inTransaction) return;
    try {
      this.#db.prepare('ROLLBACK').run();
    } catch (error) {
      throw new AggregateError([cause, error], 'could not roll back a failed message batch');
    }
  }

  async messagesAfter(
    chatId: string,
    afterSeq: number,
    limit: number,
    now: Date,
  ): Promise<WireMessage[]> {
    const rows = this.#stmts.messagesAfter.all({
      chat_id: chatId,
      after: afterSeq,
      limit,
      now: now.toISOString(),
    }) as MessageRow[];
    return rows.map(fromRow.message);
  }

  async messagesBefore(
    chatId: string,
    beforeSeq: number | null,
    limit: number,
    now: Date,
  ): Promise<WireMessage[]> {
    const rows = this.#stmts.latestMessages.all({
      chat_id: chatId,
      before: beforeSeq ?? Number.MAX_SAFE_INTEGER,
      limit,
      now: now.toISOString(),
    }) as MessageRow[];
    return rows.reverse().map(fromRow.message);
  }

  async searchMessages(request: SearchRequest): Promise<SearchPage | Failure> {
    const before = parseSearchPosition(request.before);
    if (before === undefined)
      return failure('invalid_payload', 'before is not a position this relay gave');
    // What was sent a moment ago is found too.
    this.#search.catchUp();
    // Only the index terms of the chats the caller may search are read (sqlite-search-index.ts).
    const match = this.#search.match(request.userId, request.chatId, request.terms);
    if (match === null) return { messages: [], next: null };
    const params = {
      user_id: request.userId,
      match,
      chat_id: request.chatId,
      before,
      limit: request.limit + 1,
    };
    let rows: unknown[] | Failure | null = null;
    if (this.#searchWorker !== null && !this.#searchWorker.unavailable) {
      rows = await this.#searchWorker.run(params);
      // A worker that could not start at all: this search, and the next ones, run here.
      if (!Array.isArray(rows) && this.#searchWorker.unavailable) rows = null;
    }
    rows ??= this.#stmts.searchMessages.all(params);
    if (!Array.isArray(rows)) return rows;
    return fromRow.searchPage(rows as (MessageRow & { position: number })[], request.limit, (row) =>
      String(row.position),
    );
  }

  /**
   * Deletes expired messages and erases them from the files. Their cells and the pages freed
   * are overwritten with zeros (`secure_delete = ON` for this delete, as for edits, deletes and
   * search indexing; sends run with FAST, which zeroes what it frees within a page, so cells
   * moved when a page split earlier left no copies: with ON here alone, 47 of 120 texts stayed
   * readable). A TRUNCATE
   * checkpoint then writes the zeroed pages into the database and empties the WAL, whose older
   * frames still held the texts. It never waits for a reader; the next sweep tries again.
   */
  async deleteExpired(now: Date): Promise<number> {
    this.#db.pragma('secure_delete = ON');
    let deleted: number;
    try {
      deleted = this.#db.transaction(() => {
        this.#stmts.deleteExpiredPending.run(now.toISOString());
        this.#stmts.deleteExpiredEvents.run(now.toISOString());
        return this.#stmts.deleteExpired.run(now.toISOString()).changes;
      })();
    } finally {
      this.#db.pragma('secure_delete = FAST');
    }
    if (deleted > 0) this.#eraseCheckpointDue = true;
    if (this.#eraseCheckpointDue) this.#eraseCheckpointDue = !this.#checkpointTruncate();
    return deleted;
  }

  /** `wal_checkpoint(TRUNCATE)` without waiting on the busy handler; true when it completed. */
  #checkpointTruncate(): boolean {
    if (this.#dir === null) return true;
    this.#db.pragma('busy_timeout = 0');
    try {
      const [result] = this.#db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return result?.busy === 0;
    } finally {
      this.#db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  async setReadSeq(chatId: string, userId: string, seq: number): Promise<number> {
    return this.#db.transaction(() => {
      this.#stmts.setReadSeq.run({ chat_id: chatId, user_id: userId, seq });
      const row = this.#stmts.getMembership.get(chatId, userId) as Membership | undefined;
      const readSeq = row?.read_seq ?? 0;
      this.#stmts.deletePendingUpTo.run({ user_id: userId, chat_id: chatId, seq: readSeq });
      return readSeq;
    })();
  }

  async listPending(userId: string, limit: number, now: Date): Promise<NotificationPayload[]> {
    const rows = this.#stmts.listPending.all({
      user_id: userId,
      limit,
      now: now.toISOString(),
    }) as PendingRow[];
    return rows.map(fromRow.pending);
  }

  async ackPending(userId: string, ids: readonly number[]): Promise<number> {
    return this.#db.transaction(() =>
      ids.reduce((sum, id) => sum + this.#stmts.ackPending.run(id, userId).changes, 0),
    )();
  }

  async close(): Promise<void> {
    await this.#searchWorker?.close();
    this.#search.close();
    if (this.#db.open) this.#db.close();
  }
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SQLITE_MIGRATIONS.length) {
    throw new RelayError(
      'ERR_SCHEMA_NEWER',
      `database schema version ${current} is newer than this relay understands (${SQLITE_MIGRATIONS.length})`,
    );
  }
  SQLITE_MIGRATIONS.slice(current).forEach((sql, index) => {
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${current + index + 1}`);
    })();
  });
  backfillNameSkeletons(db);
}

/**
 * Name keys for rows stored before them (migration 4) or under another key version: users who
 * signed up (identity-provider users have an id in their name_key and need no key) and public
 * rooms, oldest first, the main room before all; a later clashing name keeps NULL.
 */
function backfillNameSkeletons(db: Db): void {
  const done = db.prepare("SELECT value FROM meta WHERE key = 'name_skeleton_version'").get() as
    { value: string } | undefined;
  if (done?.value === NAME_KEY_VERSION) return;
  db.transaction(() => {
    const users = (
      db.prepare('SELECT id, name, name_key FROM users ORDER BY created_at, id').all() as {
        id: string;
        name: string;
        name_key: string;
      }[]
    ).filter((user) => user.name_key === nameKey(user.name));
    const rooms = db
      .prepare(
        `SELECT id, name FROM chats WHERE kind = 'room' AND visibility = 'public'
         ORDER BY is_main DESC, created_at, id`,
      )
      .all() as { id: string; name: string }[];
    db.prepare('UPDATE users SET name_skeleton = NULL').run();
    db.prepare('UPDATE chats SET name_skeleton = NULL').run();
    const setUser = db.prepare('UPDATE users SET name_skeleton = ? WHERE id = ?');
    for (const [id, key] of backfillSkeletons(users)) if (key !== null) setUser.run(key, id);
    const setRoom = db.prepare('UPDATE chats SET name_skeleton = ? WHERE id = ?');
    for (const [id, key] of backfillSkeletons(rooms)) if (key !== null) setRoom.run(key, id);
    db.prepare(
      `INSERT INTO meta (key, value) VALUES ('name_skeleton_version', ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(NAME_KEY_VERSION);
  })();
}

function prepareStatements(db: Db) {
  const p = (sql: string): Statement => db.prepare(sql);
  return {
    getMeta: p('SELECT value FROM meta WHERE key = ?'),
    putMeta: p('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
    getUser: p('SELECT id, name, created_at FROM users WHERE id = ?'),
    findUserByName: p('SELECT id, name, created_at FROM users WHERE name_key = ?'),
    insertUser: p(`INSERT INTO users (id, name, name_key, name_skeleton, created_at)
      VALUES (@id, @name, @name_key, @name_skeleton, @created_at)`),
    getTokenGeneration: p('SELECT token_generation FROM users WHERE id = ?'),
    revokeTokens: p(`UPDATE users SET token_generation = token_generation + 1 WHERE id = ?
      RETURNING token_generation`),
    upsertUser: p(`INSERT INTO users (id, name, name_key, created_at)
      VALUES (@id, @name, @name_key, @created_at)
      ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key`),
    listUsers: p('SELECT id, name, created_at FROM users ORDER BY name_key LIMIT ?'),
    getRecoveryCode: p('SELECT hash, created_at FROM recovery_codes WHERE user_id = ?'),
    setRecoveryCode: p(`INSERT INTO recovery_codes (user_id, hash, created_at)
      VALUES (@user_id, @hash, @created_at)
      ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at`),
    replaceRecoveryCode: p(`UPDATE recovery_codes SET hash = @next, created_at = @created_at
      WHERE user_id = @user_id AND hash = @expected`),
    pruneLinkCodes: p(`DELETE FROM link_codes WHERE user_id = @user_id AND (expires_at <= @now
      OR hash NOT IN (SELECT hash FROM link_codes WHERE user_id = @user_id AND expires_at > @now
        ORDER BY created_at DESC, hash LIMIT @keep))`),
    insertLinkCode: p(`INSERT INTO link_codes (user_id, hash, created_at, expires_at)
      VALUES (@user_id, @hash, @created_at, @expires_at) ON CONFLICT DO NOTHING`),
    consumeLinkCode: p(
      'DELETE FROM link_codes WHERE user_id = @user_id AND hash = @hash AND expires_at > @now',
    ),
    insertChat: p(`INSERT INTO chats (id, kind, name, name_skeleton, visibility, ephemeral_ttl_s,
        is_main, dm_key, created_by, created_at)
      VALUES (@id, @kind, @name, @name_skeleton, @visibility, @ephemeral_ttl_s, @is_main, @dm_key,
        @created_by, @created_at)`),
    getChat: p('SELECT * FROM chats WHERE id = ?'),
    getMainChat: p('SELECT * FROM chats WHERE is_main = 1 LIMIT 1'),
    getDmByKey: p('SELECT * FROM chats WHERE dm_key = ?'),
    listPublicChats: p(
      `SELECT * FROM chats WHERE kind = 'room' AND visibility = 'public' ORDER BY name LIMIT ?`,
    ),
    listChatsForUser: p(`SELECT c.*, cm.read_seq,
        (SELECT count(*) FROM (SELECT 1 FROM messages m
          WHERE m.chat_id = c.id AND m.seq > cm.read_seq AND m.sender_id != cm.user_id
            AND m.deleted_at IS NULL AND ${NOT_EXPIRED} LIMIT @cap)) AS unread_count
      FROM chat_members cm JOIN chats c ON c.id = cm.chat_id
      WHERE cm.user_id = @user_id
      ORDER BY c.kind DESC, c.name`),
    insertMember: p(`INSERT INTO chat_members (chat_id, user_id, read_seq, joined_at)
      VALUES (@chat_id, @user_id, 0, @joined_at) ON CONFLICT DO NOTHING`),
    deleteMember: p('DELETE FROM chat_members WHERE chat_id = ? AND user_id = ?'),
    getMembership: p('SELECT read_seq FROM chat_members WHERE chat_id = ? AND user_id = ?'),
    listMembers: p(`SELECT u.id, u.name, u.created_at FROM chat_members cm
      JOIN users u ON u.id = cm.user_id WHERE cm.chat_id = ?`),
    findDuplicate: p(`SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id
      WHERE m.chat_id = @chat_id AND m.sender_id = @sender_id AND m.mobile_ref_id = @mobile_ref_id`),
    bumpSeq: p('UPDATE chats SET last_seq = @seq WHERE id = @id'),
    insertMessage: p(`INSERT INTO messages
      (chat_id, seq, id, sender_id, content, mobile_ref_id, created_at, expires_at)
      VALUES (@chat_id, @seq, @id, @sender_id, @content, @mobile_ref_id, @created_at, @expires_at)`),
    advanceRead: p(`UPDATE chat_members SET read_seq = max(read_seq, @seq)
      WHERE chat_id = @chat_id AND user_id = @user_id`),
    insertPending: p(`INSERT INTO pending_notifications (user_id, chat_id, seq, mentioned)
      VALUES (@user_id, @chat_id, @seq, @mentioned)`),
    prunePending: p(`DELETE FROM pending_notifications WHERE user_id = @user_id AND id <= (
      SELECT id FROM pending_notifications WHERE user_id = @user_id
      ORDER BY id DESC LIMIT 1 OFFSET @keep)`),
    messagesAfter: p(`SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id
      WHERE m.chat_id = @chat_id AND m.seq > @after AND ${NOT_EXPIRED}
      ORDER BY m.seq LIMIT @limit`),
    latestMessages: p(`SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id
      WHERE m.chat_id = @chat_id AND m.seq < @before AND ${NOT_EXPIRED}
      ORDER BY m.seq DESC LIMIT @limit`),
    searchMessages: p(SEARCH_SQL),
    deleteExpiredPending: p(`DELETE FROM pending_notifications WHERE EXISTS (
      SELECT 1 FROM messages m WHERE m.chat_id = pending_notifications.chat_id
        AND m.seq = pending_notifications.seq AND m.expires_at <= ?)`),
    deleteExpired: p('DELETE FROM messages WHERE expires_at <= ?'),
    setReadSeq: p(`UPDATE chat_members
      SET read_seq = max(read_seq, min(@seq, (SELECT last_seq FROM chats WHERE id = @chat_id)))
      WHERE chat_id = @chat_id AND user_id = @user_id`),
    deletePendingUpTo: p(`DELETE FROM pending_notifications
      WHERE user_id = @user_id AND chat_id = @chat_id AND seq <= @seq`),
    deletePendingForChat: p('DELETE FROM pending_notifications WHERE user_id = ? AND chat_id = ?'),
    listPending: p(`SELECT p.id, p.chat_id,
        CASE WHEN c.kind = 'dm' THEN u.name ELSE c.name END AS chat_name,
        m.id AS message_id, p.seq, m.sender_id, u.name AS sender_name, m.content, m.created_at,
        p.mentioned
      FROM pending_notifications p
      JOIN chat_members cm ON cm.chat_id = p.chat_id AND cm.user_id = p.user_id
      JOIN messages m ON m.chat_id = p.chat_id AND m.seq = p.seq
      JOIN users u ON u.id = m.sender_id
      JOIN chats c ON c.id = p.chat_id
      WHERE p.user_id = @user_id AND ${NOT_EXPIRED}
      ORDER BY p.id LIMIT @limit`),
    ackPending: p('DELETE FROM pending_notifications WHERE id = ? AND user_id = ?'),
    getTarget: p(`SELECT seq, sender_id, content, deleted_at, expires_at FROM messages
      WHERE chat_id = ? AND id = ?`),
    getMessageAt: p(`SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id
      WHERE m.chat_id = ? AND m.seq = ?`),
    findEditByRef: p(`SELECT ${EVENT_COLUMNS} FROM chat_events e
      JOIN messages m ON m.chat_id = e.chat_id AND m.seq = e.message_seq
      WHERE e.chat_id = @chat_id AND e.actor_id = @actor_id AND e.ref_id = @ref_id`),
    findDeleteOf: p(`SELECT ${EVENT_COLUMNS} FROM chat_events e
      JOIN messages m ON m.chat_id = e.chat_id AND m.seq = e.message_seq
      WHERE e.chat_id = ? AND e.message_seq = ? AND e.kind = 'delete'`),
    getEvent: p(`SELECT ${EVENT_COLUMNS} FROM chat_events e
      JOIN messages m ON m.chat_id = e.chat_id AND m.seq = e.message_seq
      WHERE e.chat_id = ? AND e.seq = ?`),
    eventsAfter: p(`SELECT ${EVENT_COLUMNS} FROM chat_events e
      JOIN messages m ON m.chat_id = e.chat_id AND m.seq = e.message_seq
      WHERE e.chat_id = @chat_id AND e.seq > @after AND ${NOT_EXPIRED}
      ORDER BY e.seq LIMIT @limit`),
    editMessage: p(`UPDATE messages SET content = @content, edited_at = @at, version_seq = @seq
      WHERE chat_id = @chat_id AND seq = @message_seq`),
    deleteMessage: p(`UPDATE messages
      SET content = '', deleted_at = @at, deleted_by = @actor_id, version_seq = @seq
      WHERE chat_id = @chat_id AND seq = @message_seq`),
    eraseEdits: p(`UPDATE chat_events SET content = NULL
      WHERE chat_id = ? AND message_seq = ? AND kind = 'edit'`),
    insertEvent: p(`INSERT INTO chat_events
      (chat_id, seq, kind, message_seq, actor_id, content, ref_id, created_at)
      VALUES (@chat_id, @seq, @kind, @message_seq, @actor_id, @content, @ref_id, @at)`),
    deletePendingOf: p('DELETE FROM pending_notifications WHERE chat_id = ? AND seq = ?'),
    deleteExpiredEvents: p(`DELETE FROM chat_events WHERE EXISTS (
      SELECT 1 FROM messages m WHERE m.chat_id = chat_events.chat_id
        AND m.seq = chat_events.message_seq AND m.expires_at <= ?)`),
  } satisfies Record<string, Statement>;
}
