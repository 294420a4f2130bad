/**
 * What users can do with chats, shared by the socket and the HTTP API: every access check
 * lives here, so both doors enforce the same rules.
 */
import type { Logger } from 'pino';
import { failure, type Failure } from '../protocol/errors.js';
import type {
  ChatInfo,
  ChatSummary,
  CreateChatRequest,
  NotificationPayload,
  SearchPage,
  SearchQuery,
  WireMessage,
} from '../protocol/events.js';
import { isRoomName, normalizeName } from '../protocol/display-name.js';
import { checkMessageContent } from '../protocol/message-content.js';
import { searchTerms } from '../protocol/search-terms.js';
import { chatTopic, notificationsTopics } from '../protocol/topics.js';
import type { Bus } from './bus.js';
import type { Liveness } from './liveness.js';
import { readPage } from './history-page.js';
import { newId, newMessageId } from './ids.js';
import type { MembershipCache, Members } from './membership-cache.js';
import { findMentions } from './mentions.js';
import { RoomNameTakenError } from './name-key.js';
import type { MessageWriter } from './message-writer.js';
import type { RelayLimits } from './options.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { AppendResult, Store, StoredUser } from './store.js';

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

export class ChatService {
  readonly #d: ChatServiceDeps;
  /** Sends refused because the database did not answer the access check (rate-limited log). */
  readonly #unavailableLog: RateLimitedLog;
  /** Sends refused because the write queue was full (rate-limited log). */
  readonly #overloadedLog: RateLimitedLog;

  constructor(deps: ChatServiceDeps) {
    this.#d = deps;
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
    let members: Members;
    try {
      // A sender the cached member list names skips the read-only access check: the store
      // checks membership again in the statement that stores the message (requireMembership),
      // so a removal committed on any node is enforced even before this node's cache hears of
      // it. Anyone else (chat not cached, a join not heard of yet, a non-member) is checked
      // here first, so a non-member fills neither the cache nor the write queue.
      const cached = await this.#d.members.peek(input.chatId);
      if (cached?.has(input.sender.id) !== true) {
        const access = await this.requireMember(input.chatId, input.sender);
        if (!access.ok) return { stored: Promise.resolve(access) };
      }
      members = await this.#d.members.get(input.chatId);
    } catch (error) {
      // The database is unreachable (a cluster's PostgreSQL restarting): the send fails as a
      // value, like a failed write, instead of closing the socket. Nothing was stored. Logged
      // once, then as a count per interval: every client keeps sending meanwhile.
      this.#unavailableLog.occurred({ err: error, chat: input.chatId });
      return { stored: Promise.resolve(failure('storage_error', 'the database is unavailable')) };
    }
    this.#unavailableLog.recovered();
    const mentioned = findMentions(input.content, members.values()).filter(
      (id) => id !== input.sender.id,
    );
    const fanoutAll = members.size <= this.#d.limits.pendingFanoutMaxMembers;
    const topic = chatTopic(input.chatId);
    const notifyUserIds: string[] = [];
    for (const userId of members.keys()) {
      if (userId === input.sender.id) continue;
      if (!fanoutAll && !mentioned.includes(userId)) continue;
      const live =
        this.#d.liveness.userJoined(userId, topic) ||
        notificationsTopics(userId).some((inbox) => this.#d.liveness.userJoined(userId, inbox));
      if (!live) notifyUserIds.push(userId);
    }
    const stored = this.#d.writer.write({
      messageId: newMessageId(),
      chatId: input.chatId,
      senderId: input.sender.id,
      content: input.content,
      mobileRefId: input.mobileRefId,
      now: new Date(),
      notifyUserIds,
      mentionedUserIds: mentioned,
      originConnectionId: input.originConnectionId,
      requireMembership: true,
    });
    // Storage failures are logged by the writer's StorageFailureLog; a full queue is logged here.
    void stored.then((result) => {
      if (result.ok) this.#overloadedLog.recovered();
      else if (result.code === 'overloaded') this.#overloadedLog.occurred({ chat: input.chatId });
    });
    return { stored };
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

  async history(
    user: StoredUser,
    chatId: string,
    query: {
      before_seq?: number | undefined;
      after_seq?: number | undefined;
      limit?: number | undefined;
    },
  ): Promise<Result<{ messages: WireMessage[]; has_more: boolean }>> {
    const access = await this.requireMember(chatId, user);
    if (!access.ok) return access;
    const after = query.after_seq !== undefined;
    // Bounded by bytes as well as by count; at least one message, so paging always advances.
    const page = await readPage(this.#d.store, {
      chatId,
      end: after ? 'oldest' : 'newest',
      cursor: after ? (query.after_seq ?? 0) : (query.before_seq ?? null),
      limit: query.limit ?? 50,
      maxBytes: this.#d.limits.maxPageBytes,
      atLeastOne: true,
      now: new Date(),
    });
    return { ok: true, messages: page.messages, has_more: page.hasMore };
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
