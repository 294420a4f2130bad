/**
 * What users can do with chats, shared by the socket and the HTTP API: every access check
 * lives here, so both doors enforce the same rules.
 */
import type { Logger } from 'pino';
import { failure, type Failure } from '../protocol/errors.js';
import {
  STREAM_VERSION,
  type ChatInfo,
  type ChatJoinReply,
  type ChatSummary,
  type CreateChatRequest,
  type HistoryPage,
  type NotificationPayload,
  type SearchPage,
  type SearchQuery,
} from '../protocol/events.js';
import { isRoomName, normalizeName } from '../protocol/display-name.js';
import { checkMessageContent } from '../protocol/message-content.js';
import { searchTerms } from '../protocol/search-terms.js';
import type { Bus } from './bus.js';
import type { Liveness } from './liveness.js';
import { readPage, readStreamPage } from './history-page.js';
import { newId, newMessageId } from './ids.js';
import type { MembershipCache, Members } from './membership-cache.js';
import { NotificationPlanner } from './notification-planner.js';
import { RoomNameTakenError } from './name-key.js';
import type { MessageWriter } from './message-writer.js';
import type { RelayLimits } from './options.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { AppendResult, ChangeResult, Store, StoredUser } from './store.js';

/** While sends are refused (database unreachable, write queue full), one log line per this. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;

export type Result<T> = ({ ok: true } & T) | Failure;

export interface ChatServiceDeps {
  store: Store;
  /** Who has a live subscription (this node's hub, or the cluster's view of every node). */
  liveness: Liveness;
  bus: Bus;
  members: MembershipCache;
  writer: MessageWriter;
  limits: RelayLimits;
  logger: Logger;
}

export interface SendInput {
  chatId: string;
  sender: StoredUser;
  content: string;
  mobileRefId: string;
  /** The socket connection that sent it, excluded from receive_message; null over HTTP. */
  originConnectionId: string | null;
}

/** An edit of a stored message (`edit_message`, `PATCH /api/chats/:id/messages/:message_id`). */
export interface EditInput {
  chatId: string;
  actor: StoredUser;
  messageId: string;
  content: string;
  /** Client-made: a retry with the same ref_id is answered with the first result. */
  refId: string;
  /** The socket connection that asked; null over HTTP. */
  originConnectionId: string | null;
}

/** A delete of a stored message (`delete_message`, `DELETE /api/chats/:id/messages/:message_id`). */
export interface DeleteInput {
  chatId: string;
  actor: StoredUser;
  messageId: string;
  originConnectionId: string | null;
}

/** How a join reply is bounded (the socket's budget: history-page.ts replyBudget). */
export interface ResumeOptions {
  /** Most bytes of messages and events in the reply; RelayLimits.maxPageBytes if not given. */
  maxBytes?: number;
}

export class ChatService {
  readonly #d: ChatServiceDeps;
  /** Sends refused because the database did not answer the access check (rate-limited log). */
  readonly #unavailableLog: RateLimitedLog;
  /** Sends refused because the write queue was full (rate-limited log). */
  readonly #overloadedLog: RateLimitedLog;
  /** Who is notified of a posted message: the one rule, shared with the transport's delivery. */
  readonly notifications: NotificationPlanner;

  constructor(deps: ChatServiceDeps) {
    this.#d = deps;
    this.notifications = new NotificationPlanner({
      liveness: deps.liveness,
      pendingFanoutMaxMembers: deps.limits.pendingFanoutMaxMembers,
    });
    this.#unavailableLog = new RateLimitedLog({
      logger: deps.logger,
      intervalMs: REFUSAL_LOG_INTERVAL_MS,
      level: 'warn',
      message: 'send refused: storage unavailable',
      recoveredMessage: 'sends reach storage again',
      countField: 'sends',
    });
    this.#overloadedLog = new RateLimitedLog({
      logger: deps.logger,
      intervalMs: REFUSAL_LOG_INTERVAL_MS,
      level: 'warn',
      message: 'send refused: overloaded',
      recoveredMessage: 'sends queued again',
      countField: 'sends',
    });
  }

  /** Creates the main room on first start. */
  async ensureMainRoom(name: string): Promise<ChatInfo> {
    const existing = await this.#d.store.getMainChat();
    if (existing !== null) return existing;
    return this.#d.store.createChat({
      id: newId(),
      name,
      visibility: 'public',
      ephemeralTtlS: null,
      isMain: true,
      createdBy: null,
      now: new Date(),
    });
  }

  /**
   * Signs a new user up: creates them and makes them a member of the main room in one commit
   * (every new user lands in the main room, seed 004). Null when the name is taken.
   */
  async createUser(
    name: string,
    { recoveryHash = null }: { recoveryHash?: string | null } = {},
  ): Promise<StoredUser | null> {
    const main = await this.#d.store.getMainChat();
    const user = await this.#d.store.createUser({
      id: newId(),
      name,
      now: new Date(),
      joinChatId: main?.id ?? null,
      recoveryHash,
    });
    if (user !== null && main !== null) this.#membershipChanged(main.id, { added: [user.id] });
    return user;
  }

  /** Makes a user the relay first hears of (an identity-provider user) a member of the main room. */
  async welcome(user: StoredUser): Promise<void> {
    const main = await this.#d.store.getMainChat();
    if (main !== null) await this.#addMember(main.id, user.id);
  }

  /**
   * Read access: members always; non-members of a public room become members when they open it
   * (like joining a Slack channel). Private rooms and DMs refuse everyone else with `not_member`.
   */
  async openChat(
    chatId: string,
    user: StoredUser,
  ): Promise<Result<{ chat: ChatInfo; readSeq: number }>> {
    const access = await this.#d.store.getChatAccess(chatId, user.id);
    if (access === null) return failure('not_found', 'no such chat');
    const { chat, membership } = access;
    if (membership !== null) return { ok: true, chat, readSeq: membership.read_seq };
    if (chat.kind === 'room' && chat.visibility === 'public') {
      await this.#addMember(chatId, user.id);
      return { ok: true, chat, readSeq: 0 };
    }
    return failure('not_member', 'you are not a member of this chat');
  }

  /** Read access without side effects: members only (history, read markers). */
  async requireMember(chatId: string, user: StoredUser): Promise<Result<{ chat: ChatInfo }>> {
    const access = await this.#d.store.getChatAccess(chatId, user.id);
    if (access === null) return failure('not_found', 'no such chat');
    if (access.membership === null) {
      return failure('not_member', 'you are not a member of this chat');
    }
    return { ok: true, chat: access.chat };
  }

  validateContent(content: string): Failure | null {
    const problem = checkMessageContent(content, this.#d.limits.maxMessageChars);
    return problem === null ? null : failure(problem.code, problem.message);
  }

  /** The send pipeline: check, persist (group commit), then broadcast. */
  async send(input: SendInput): Promise<AppendResult> {
    return (await this.enqueueSend(input)).stored;
  }

  /**
   * The first half of send: checks access and queues the write. Resolves once the message has
   * its place in the write queue (so a connection's sends keep their order); `stored` resolves
   * after the commit.
   */
  async enqueueSend(input: SendInput): Promise<{ stored: Promise<AppendResult> }> {
    const invalid = this.validateContent(input.content);
    if (invalid !== null) return { stored: Promise.resolve(invalid) };
    const admitted = await this.#admitWriter(input.chatId, input.sender, { members: true });
    if (!admitted.ok) return { stored: Promise.resolve(admitted) };
    const plan = this.notifications.plan(
      { chatId: input.chatId, senderId: input.sender.id, content: input.content },
      admitted.members,
    );
    const stored = this.#d.writer.write({
      messageId: newMessageId(),
      chatId: input.chatId,
      senderId: input.sender.id,
      content: input.content,
      mobileRefId: input.mobileRefId,
      now: new Date(),
      notifyUserIds: plan.pendingUserIds(),
      mentionedUserIds: [...plan.mentioned],
      originConnectionId: input.originConnectionId,
      requireMembership: true,
    });
    this.#watchQueue(stored, input.chatId);
    return { stored };
  }

  /**
   * Queues an edit of the actor's own message, in order with the connection's sends (the
   * writer's one queue). Resolves once queued; `stored` resolves after the commit with the
   * message as it now stands and the `message_edited` event, or a coded failure (the store
   * decides forbidden, not_found, message_deleted, message_expired inside the transaction, with
   * core/message-rules.ts). Edits never notify.
   */
  async editMessage(input: EditInput): Promise<{ stored: Promise<ChangeResult> }> {
    const invalid = this.validateContent(input.content);
    if (invalid !== null) return { stored: Promise.resolve(invalid) };
    const admitted = await this.#admitWriter(input.chatId, input.actor, { members: false });
    if (!admitted.ok) return { stored: Promise.resolve(admitted) };
    const stored = this.#d.writer.change({
      kind: 'edit',
      chatId: input.chatId,
      messageId: input.messageId,
      actorId: input.actor.id,
      content: input.content,
      refId: input.refId,
      now: new Date(),
      originConnectionId: input.originConnectionId,
    });
    this.#watchQueue(stored, input.chatId);
    return { stored };
  }

  /**
   * Queues a delete of the actor's own message, like {@link editMessage}. The store erases the
   * text (of the message and of its earlier edits), its search entry and its pending
   * notifications in the same transaction. Deleting an already deleted message answers the
   * stored result with `duplicate: true`.
   */
  async deleteMessage(input: DeleteInput): Promise<{ stored: Promise<ChangeResult> }> {
    const admitted = await this.#admitWriter(input.chatId, input.actor, { members: false });
    if (!admitted.ok) return { stored: Promise.resolve(admitted) };
    const stored = this.#d.writer.change({
      kind: 'delete',
      chatId: input.chatId,
      messageId: input.messageId,
      actorId: input.actor.id,
      now: new Date(),
      originConnectionId: input.originConnectionId,
    });
    this.#watchQueue(stored, input.chatId);
    return { stored };
  }

  /**
   * The one door for every write to a chat (send, edit, delete), before it is queued. A writer
   * the cached member list names skips the read-only access check: the store checks membership
   * again in the transaction that writes (requireMembership, changeMessages), so a removal
   * committed on any node is enforced even before this node's cache hears of it. Anyone else
   * (chat not cached, a join not heard of yet, a non-member) is checked here first, so a
   * non-member fills neither the cache nor the write queue. Only a send needs the member list
   * (its notification plan); an edit or delete does not load it.
   */
  async #admitWriter(
    chatId: string,
    user: StoredUser,
    need: { members: true },
  ): Promise<Result<{ members: Members }>>;
  async #admitWriter(
    chatId: string,
    user: StoredUser,
    need: { members: false },
  ): Promise<Result<object>>;
  async #admitWriter(
    chatId: string,
    user: StoredUser,
    need: { members: boolean },
  ): Promise<Result<{ members?: Members }>> {
    try {
      const cached = await this.#d.members.peek(chatId);
      if (cached?.has(user.id) !== true) {
        const access = await this.requireMember(chatId, user);
        if (!access.ok) return access;
      }
      const members = need.members ? await this.#d.members.get(chatId) : undefined;
      this.#unavailableLog.recovered();
      return members === undefined ? { ok: true } : { ok: true, members };
    } catch (error) {
      // The database is unreachable (a cluster's PostgreSQL restarting): the write fails as a
      // value, like a failed write, instead of closing the socket. Nothing was stored. Logged
      // once, then as a count per interval: every client keeps sending meanwhile.
      this.#unavailableLog.occurred({ err: error, chat: chatId });
      return failure('storage_error', 'the database is unavailable');
    }
  }

  /** Storage failures are logged by the writer's StorageFailureLog; a full queue is logged here. */
  #watchQueue(stored: Promise<AppendResult | ChangeResult>, chatId: string): void {
    void stored.then((result) => {
      if (result.ok) this.#overloadedLog.recovered();
      else if (result.code === 'overloaded') this.#overloadedLog.occurred({ chat: chatId });
    });
  }

  async createRoom(
    user: StoredUser,
    request: CreateChatRequest,
  ): Promise<Result<{ chat: ChatInfo }>> {
    // One rule for room names wherever they are made or shown from a link (display-name.ts).
    const name = normalizeName(request.name);
    if (!isRoomName(name)) {
      return failure(
        'invalid_payload',
        'name: a room name is 1–80 characters, with something visible and no control or invisible characters',
      );
    }
    let chat: ChatInfo;
    try {
      chat = await this.#d.store.createChat({
        id: newId(),
        name,
        visibility: request.visibility,
        ephemeralTtlS: request.ephemeral_ttl_s ?? null,
        isMain: false,
        createdBy: user.id,
        now: new Date(),
      });
    } catch (error) {
      if (error instanceof RoomNameTakenError) {
        return failure(
          'name_taken',
          `a public room named like "${name}" exists; join it or pick another name`,
        );
      }
      throw error;
    }
    this.#membershipChanged(chat.id, { added: [user.id] });
    return { ok: true, chat };
  }

  async getOrCreateDm(user: StoredUser, otherId: string): Promise<Result<{ chat: ChatInfo }>> {
    if (otherId === user.id) return failure('dm_with_self');
    const other = await this.#d.store.getUser(otherId);
    if (other === null) return failure('not_found', 'no such user');
    const chat = await this.#d.store.getOrCreateDm({
      id: newId(),
      userA: user.id,
      userB: other.id,
      now: new Date(),
    });
    // The other user hears of the DM with its first message (new_notification), not before:
    // opening a DM and writing nothing should not show them an empty conversation.
    this.#membershipChanged(chat.id, { added: [user.id] });
    return { ok: true, chat };
  }

  /** Joining a public room by its id; private rooms need an invitation by a member. */
  async joinRoom(user: StoredUser, chatId: string): Promise<Result<{ chat: ChatInfo }>> {
    const opened = await this.openChat(chatId, user);
    return opened.ok ? { ok: true, chat: opened.chat } : opened;
  }

  /** Any member of a room may add another user; DMs stay between their two users. */
  async addMember(
    user: StoredUser,
    chatId: string,
    userId: string,
  ): Promise<Result<{ chat: ChatInfo }>> {
    const access = await this.requireMember(chatId, user);
    if (!access.ok) return access;
    if (access.chat.kind === 'dm') return failure('invalid_payload', 'a DM cannot gain members');
    if ((await this.#d.store.getUser(userId)) === null) return failure('not_found', 'no such user');
    await this.#addMember(chatId, userId);
    return { ok: true, chat: access.chat };
  }

  async leave(user: StoredUser, chatId: string): Promise<Result<object>> {
    const access = await this.requireMember(chatId, user);
    if (!access.ok) return access;
    if (access.chat.kind === 'dm') return failure('invalid_payload', 'a DM cannot be left');
    await this.#d.store.removeMember(chatId, user.id);
    // Open subscriptions of the leaver are closed too: nobody reads a chat they left.
    this.#membershipChanged(chatId, { removed: [user.id] });
    return { ok: true };
  }

  /**
   * `GET /api/chats/:id/messages`. With `after_seq`: a window of the event stream (messages in
   * their current state and change events, readStreamPage). Otherwise the newest messages before
   * `before_seq` (or of all), current state, and no events. Members only.
   */
  async history(
    user: StoredUser,
    chatId: string,
    query: {
      before_seq?: number | undefined;
      after_seq?: number | undefined;
      limit?: number | undefined;
    },
  ): Promise<Result<HistoryPage>> {
    const access = await this.requireMember(chatId, user);
    if (!access.ok) return access;
    const limit = query.limit ?? 50;
    // Bounded by bytes as well as by count; at least one item, so paging always advances.
    const maxBytes = this.#d.limits.maxPageBytes;
    const now = new Date();
    if (query.after_seq !== undefined) {
      const page = await readStreamPage(this.#d.store, {
        chatId,
        afterSeq: query.after_seq,
        limit,
        maxBytes,
        atLeastOne: true,
        now,
      });
      return { ok: true, messages: page.messages, events: page.events, has_more: page.hasMore };
    }
    const page = await readPage(this.#d.store, {
      chatId,
      end: 'newest',
      cursor: query.before_seq ?? null,
      limit,
      maxBytes,
      atLeastOne: true,
      now,
    });
    return { ok: true, messages: page.messages, events: [], has_more: page.hasMore };
  }

  /**
   * A chat join's access check and reply, the one place a join reads history. Members, and
   * visitors of a public room (who become members, openChat). With `sinceSeq`: the stream after
   * it (messages in their current state and change events, readStreamPage), up to resumeMax
   * items; `has_more` sends the client to HTTP `after_seq` from the largest seq it got. Without:
   * the newest joinHistory messages, no events. A reply may hold nothing (a budget smaller than
   * the first item): `has_more` then says so.
   *
   * The socket subscribes (holding live frames) before calling this, so a leave committed after
   * this check finds the subscription and closes it, and nothing falls between the reply and the
   * live stream. `covered` is the seq up to which the reply accounts for everything: held frames
   * at or below it are dropped.
   */
  async resume(
    user: StoredUser,
    chatId: string,
    sinceSeq: number | null,
    options: ResumeOptions = {},
  ): Promise<Result<{ reply: ChatJoinReply; covered: number }>> {
    const opened = await this.openChat(chatId, user);
    if (!opened.ok) return opened;
    const maxBytes = options.maxBytes ?? this.#d.limits.maxPageBytes;
    const now = new Date();
    const page =
      sinceSeq === null
        ? {
            ...(await readPage(this.#d.store, {
              chatId,
              end: 'newest',
              cursor: null,
              limit: this.#d.limits.joinHistory,
              maxBytes,
              atLeastOne: false,
              now,
            })),
            events: [],
          }
        : await readStreamPage(this.#d.store, {
            chatId,
            afterSeq: sinceSeq,
            limit: this.#d.limits.resumeMax,
            maxBytes,
            atLeastOne: false,
            now,
          });
    const lastSent = Math.max(page.messages.at(-1)?.seq ?? 0, page.events.at(-1)?.seq ?? 0);
    const reply: ChatJoinReply = {
      chat: opened.chat,
      messages: page.messages,
      events: page.events,
      stream_version: STREAM_VERSION,
      last_seq: Math.max(opened.chat.last_seq, lastSent),
      has_more: page.hasMore,
      read_seq: opened.readSeq,
    };
    // After a capped resume the client pages up to `last_seq` over HTTP, so only frames past it
    // are still needed; otherwise the reply covers up to what it lists (or since_seq).
    const covered =
      page.hasMore && sinceSeq !== null ? reply.last_seq : Math.max(lastSent, sinceSeq ?? 0);
    return { ok: true, reply, covered };
  }

  /** Searches the user's chats (or one of them, if a member): newest matches first. */
  async search(user: StoredUser, query: SearchQuery): Promise<Result<SearchPage>> {
    const terms = searchTerms(query.q);
    if (terms.length === 0)
      return failure('invalid_payload', 'the search has no words (letters or digits)');
    const chatId = query.chat_id ?? null;
    if (chatId !== null) {
      const access = await this.requireMember(chatId, user);
      if (!access.ok) return access;
    }
    const page = await this.#d.store.searchMessages({
      userId: user.id,
      terms,
      chatId,
      before: query.before ?? null,
      limit: query.limit ?? 20,
    });
    return 'ok' in page ? page : { ok: true, ...page };
  }

  async markRead(
    user: StoredUser,
    chatId: string,
    seq: number,
  ): Promise<Result<{ read_seq: number }>> {
    const access = await this.requireMember(chatId, user);
    if (!access.ok) return access;
    return { ok: true, read_seq: await this.#d.store.setReadSeq(chatId, user.id, seq) };
  }

  listChats(user: StoredUser): Promise<ChatSummary[]> {
    return this.#d.store.listChatsForUser(user.id, new Date());
  }

  listPending(user: StoredUser): Promise<NotificationPayload[]> {
    return this.#d.store.listPending(user.id, this.#d.limits.pendingPerPush + 1, new Date());
  }

  async #addMember(chatId: string, userId: string): Promise<void> {
    await this.#d.store.addMember(chatId, userId, new Date());
    this.#membershipChanged(chatId, { added: [userId] });
  }

  /**
   * Tells every node: members are read afresh, the removed users' subscriptions close, and the
   * devices of users added or removed hear of it on their notifications topic (chat_added,
   * chat_removed), so a room made, joined or left on one device shows on the others at once.
   */
  #membershipChanged(chatId: string, change: { added?: string[]; removed?: string[] }): void {
    this.#d.members.invalidate(chatId);
    this.#d.bus.publish({
      type: 'membership',
      chatId,
      addedUserIds: change.added ?? [],
      removedUserIds: change.removed ?? [],
    });
  }
}
