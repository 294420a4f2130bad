/**
 * The storage contract. SQLite implements it for a single host; PostgreSQL implements it for a
 * cluster. Every method is async so both fit; the relay never touches SQL outside a Store.
 */
import type { Failure } from '../protocol/errors.js';
import type {
  ChatEvent,
  ChatInfo,
  ChatSummary,
  NotificationPayload,
  SearchPage,
  Visibility,
  WireMessage,
} from '../protocol/events.js';

/** A sign-up: the user and, optionally, the room they join with it (the main room). */
export interface NewUser {
  id: string;
  name: string;
  now: Date;
  joinChatId?: string | null;
  /** The hash of the user's first recovery code (relay/identity/sign-in-codes.ts), in the same commit. */
  recoveryHash?: string | null;
}

/** A user's recovery code, as kept: only its hash (relay/identity/sign-in-codes.ts). */
export interface StoredRecoveryCode {
  hash: string;
  created_at: string;
}

/** A device-link code to keep (only its hash), valid until `expiresAt`. */
export interface NewLinkCode {
  userId: string;
  hash: string;
  now: Date;
  expiresAt: Date;
  /** The most codes the user may have outstanding: the oldest beyond go, expired ones too. */
  maxOutstanding: number;
}

export interface StoredUser {
  id: string;
  name: string;
  created_at: string;
}

export interface NewChat {
  id: string;
  name: string;
  visibility: Visibility;
  ephemeralTtlS: number | null;
  isMain: boolean;
  createdBy: string | null;
  now: Date;
}

/** One message to append. The writer batches many into one call (group commit). */
export interface AppendRequest {
  messageId: string;
  chatId: string;
  senderId: string;
  content: string;
  mobileRefId: string;
  now: Date;
  /** Members with no live delivery: they get a pending notification in the same transaction. */
  notifyUserIds: readonly string[];
  /** Members mentioned by @name: their notifications carry `mentioned: true`. */
  mentionedUserIds: readonly string[];
  /** Not stored: the socket connection that sent it, excluded from the broadcast. */
  originConnectionId: string | null;
  /**
   * Refuse with `not_found` (no such chat) or `not_member` unless the sender is a member, checked
   * in the same transaction as the insert (before the duplicate check), so a removal committed
   * before that transaction began is always seen. The relay sets it for every send: access is
   * decided by the database, never by a node's cache.
   */
  requireMembership?: boolean;
}

export type AppendResult = { ok: true; message: WireMessage; duplicate: boolean } | Failure;

/**
 * One change to a stored message, applied in order with the sends around it (the writer queues
 * both). Each applied change takes the chat's next seq and is stored as a ChatEvent.
 */
export type ChangeRequest =
  | (ChangeBase & {
      kind: 'edit';
      content: string;
      /** Client-made: a repeated (chat, actor, ref_id) returns the first result, duplicate. */
      refId: string;
    })
  | (ChangeBase & { kind: 'delete' });

interface ChangeBase {
  chatId: string;
  messageId: string;
  /** Who asks for the change; core/message-rules.ts decides whether they may. */
  actorId: string;
  now: Date;
  /** Not stored: the socket connection that asked, if any. */
  originConnectionId: string | null;
}

export type ChangeResult =
  { ok: true; message: WireMessage; event: ChatEvent; duplicate: boolean } | Failure;

/** A message search, scoped to the chats `userId` is a member of. */
export interface SearchRequest {
  userId: string;
  /** From searchTerms(): at least one; a message must contain every one (as a prefix). */
  terms: readonly string[];
  /** Only this chat (still only if `userId` is a member). */
  chatId: string | null;
  /** The `next` of the previous page. */
  before: string | null;
  limit: number;
}

export interface Membership {
  read_seq: number;
}

export interface Store {
  /** Free-form settings kept with the data (the relay's token secret, schema facts). */
  getMeta(key: string): Promise<string | null>;
  /** Sets the key unless it already has a value; returns the value that is stored now. */
  putMetaIfAbsent(key: string, value: string): Promise<string>;

  getUser(id: string): Promise<StoredUser | null>;
  findUserByName(name: string): Promise<StoredUser | null>;
  /**
   * Creates a user and, in the same transaction (one commit per sign-up), makes them a member of
   * `joinChatId` when given (the main room). Returns null, creating nothing, when the name is
   * taken: another sign-up user's name has the same key (relay/core/name-key.ts: case, NFKC and
   * look-alike characters ignored).
   */
  createUser(user: NewUser): Promise<StoredUser | null>;
  /** For identity-provider users: creates or renames the user with this id. */
  upsertUser(user: { id: string; name: string; now: Date }): Promise<StoredUser>;
  listUsers(limit: number): Promise<StoredUser[]>;
  /** The user's token generation (tokens of an older one are revoked); null for no such user. */
  getTokenGeneration(userId: string): Promise<number | null>;
  /** Revokes every token of the user (sign out everywhere); the new generation, null if none. */
  revokeTokens(userId: string): Promise<number | null>;

  /** The user's recovery code hash, or null when they have none (made before codes existed). */
  getRecoveryCode(userId: string): Promise<StoredRecoveryCode | null>;
  /** Sets (or replaces) the user's recovery code hash. */
  setRecoveryCode(userId: string, hash: string, now: Date): Promise<void>;
  /**
   * Replaces the hash only if it still is `expected` (a code used once, by one sign-in, even when
   * two race); returns whether it did.
   */
  replaceRecoveryCode(userId: string, expected: string, next: string, now: Date): Promise<boolean>;
  /** Keeps a device-link code; drops the user's expired ones and the oldest beyond the bound. */
  addLinkCode(code: NewLinkCode): Promise<void>;
  /** Deletes the user's unexpired link code with this hash; returns whether there was one. */
  consumeLinkCode(userId: string, hash: string, now: Date): Promise<boolean>;

  /**
   * Creates a room (its creator a member). Throws {@link RoomNameTakenError}, creating nothing,
   * when it is public and another public room's name has the same key (relay/core/name-key.ts).
   */
  createChat(chat: NewChat): Promise<ChatInfo>;
  getChat(id: string): Promise<ChatInfo | null>;
  getMainChat(): Promise<ChatInfo | null>;
  /** The one DM between two users, created on first use (both become members). */
  getOrCreateDm(input: { id: string; userA: string; userB: string; now: Date }): Promise<ChatInfo>;
  listPublicChats(limit: number): Promise<ChatInfo[]>;
  listChatsForUser(userId: string, now: Date): Promise<ChatSummary[]>;

  /** Idempotent. */
  addMember(chatId: string, userId: string, now: Date): Promise<void>;
  removeMember(chatId: string, userId: string): Promise<void>;
  getMembership(chatId: string, userId: string): Promise<Membership | null>;
  /**
   * The chat and the user's membership of it (null for a non-member) in one read; null when
   * the chat does not exist. What a join needs, in one database round trip.
   */
  getChatAccess(
    chatId: string,
    userId: string,
  ): Promise<{ chat: ChatInfo; membership: Membership | null } | null>;
  /** Every member with their display name (mentions are matched against names). */
  listMembers(chatId: string): Promise<StoredUser[]>;

  /**
   * Appends messages in order, each with the next per-chat seq, in as few transactions as the
   * backend allows. A result per request, in request order. A repeated (chat, sender,
   * mobile_ref_id) returns the original message with `duplicate: true` and stores nothing.
   * When the whole batch cannot be written, every result is a `storage_error` failure and
   * nothing is stored.
   */
  appendMessages(requests: readonly AppendRequest[]): Promise<AppendResult[]>;
  /**
   * Applies edits and deletes in order, in as few transactions as the backend allows; a result
   * per request, in request order. In the same transaction as each change: the actor must be a
   * member (`not_member`; `not_found` for no such chat or no such message in it), and
   * core/message-rules.ts's checkChange decides (forbidden, message_deleted, message_expired);
   * a refused change stores nothing and takes no seq. An applied change takes the chat's next
   * seq (chats.last_seq), updates the message (content, edited_at / deleted_at, version_seq) and
   * stores the event. A delete also erases the text of the message and of its earlier edit
   * events, takes it out of the search index and deletes its pending notifications. Retries: an
   * edit with a stored (chat, actor, ref_id) and a delete of an already deleted message return
   * the stored result with `duplicate: true`. When the whole batch cannot be written, every
   * result is a `storage_error` failure and nothing is stored.
   */
  changeMessages(requests: readonly ChangeRequest[]): Promise<ChangeResult[]>;
  /**
   * The chat's change events with seq > afterSeq, oldest first, at most `limit`. Events of
   * messages that expired are gone with them.
   */
  eventsAfter(chatId: string, afterSeq: number, limit: number): Promise<ChatEvent[]>;
  /**
   * Messages with seq > afterSeq, oldest first, at most `limit`, expired ones excluded; each in
   * its current state (edited text, or a tombstone with content "" when deleted).
   */
  messagesAfter(chatId: string, afterSeq: number, limit: number, now: Date): Promise<WireMessage[]>;
  /** The newest messages with seq < beforeSeq (or the newest of all), returned oldest first. */
  messagesBefore(
    chatId: string,
    beforeSeq: number | null,
    limit: number,
    now: Date,
  ): Promise<WireMessage[]>;
  /**
   * Messages containing every term, newest first, from the chats the user is a member of now.
   * Messages of ephemeral chats are never indexed, so never found. A `before` this store did not
   * give answers `invalid_payload`.
   */
  searchMessages(request: SearchRequest): Promise<SearchPage | Failure>;
  /** Deletes expired messages of ephemeral chats; returns how many went. */
  deleteExpired(now: Date): Promise<number>;

  /** Moves the read marker forward (never back, never past last_seq); returns the marker. */
  setReadSeq(chatId: string, userId: string, seq: number): Promise<number>;

  listPending(userId: string, limit: number, now: Date): Promise<NotificationPayload[]>;
  ackPending(userId: string, ids: readonly number[]): Promise<number>;

  close(): Promise<void>;
}
