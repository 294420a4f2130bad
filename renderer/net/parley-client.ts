/**
 * The client layer: the official `phoenix` Socket and Channels, wrapped so that components never
 * touch a socket. It writes to the zustand store through actions only.
 *
 * Guarantees: optimistic sends with a client-made mobile_ref_id; an ordered, bounded, persisted
 * outbox sent one at a time after (re)joining, so the relay's dedupe makes every message land
 * exactly once; every chat resumes from its last synced seq; a seq gap triggers an HTTP backfill.
 */
import { Presence, Socket, type Channel } from 'phoenix';
import type { ZodType } from 'zod';
import type {
  ChatJoinReply,
  ChatMembershipChange,
  ChatSummary,
  MessageSent,
  NotificationPayload,
  PendingNotifications,
  SearchPage,
  TypingUpdate,
  UserInfo,
  WireMessage,
} from '../../relay/protocol/events.js';
import { findMentions } from '../../relay/protocol/mentions.js';
import {
  linkCodeCreated,
  recoveryCodeCreated,
  recoveryCodeStatus,
  sessionResponse,
  type LinkCodeCreated,
  type RecoveryCodeCreated,
  type RecoveryCodeStatus,
} from '../../relay/protocol/sign-in-codes.js';
import {
  DEFAULT_MAX_MESSAGE_CHARS,
  isBlankMessage,
  isPermanentSendError,
  messageChars,
  outgoingContent,
} from '../../relay/protocol/message-content.js';
import type { ParleyStore } from '../state/store.js';
import { lastSeq } from '../state/timeline.js';
import { ApiClient, type ApiResult } from './api-client.js';
import { DEFAULT_BACKOFF, fullJitterBackoff, type BackoffOptions } from './backoff.js';
import { Outbox, type OutboxItem } from './outbox.js';
import { readJson, type KeyValueStorage } from './storage.js';

export interface SavedSession {
  /** One URL, or several nodes of a cluster (rotated on failure). */
  serverUrls: string[];
  token: string;
  user: UserInfo;
}

export interface NotificationRequest {
  title: string;
  body: string;
  chatId: string;
}

export interface ClientOptions {
  store: ParleyStore;
  storage: KeyValueStorage;
  /** WebSocket implementation (the browser's by default; `ws` in Node tests). */
  transport?: typeof WebSocket;
  fetchImpl?: typeof fetch;
  backoff?: BackoffOptions;
  /** Shows an OS/browser notification; the UI decides how. */
  notify?: (request: NotificationRequest) => void;
  /** Push timeout for sends and joins. */
  pushTimeoutMs?: number;
  /** Failed connection attempts on one URL before trying the next URL of the profile. */
  attemptsPerUrl?: number;
  /** The desktop offline cache: recent history shown at once at start, even offline. */
  history?: HistorySource;
}

/** Where cached history comes from at start (the desktop's SQLite cache; absent in a browser). */
export interface HistorySource {
  load(scope: string): Promise<{ chats: ChatSummary[]; messages: Record<string, WireMessage[]> }>;
}

/** The cache scope of a session: one server and one user. */
export function historyScope(session: Pick<SavedSession, 'serverUrls' | 'user'>): string {
  return `${session.serverUrls[0] ?? ''}|${session.user.id}`;
}

export type SendResult =
  | { ok: true; mobileRefId: string }
  | { ok: false; code: 'empty' | 'too_long' | 'outbox_full' | 'no_chat' };

const SESSION_KEY = 'parley.session';
const DEVICE_KEY = 'parley.device';
const TYPING_RENEW_MS = 3_000;
const TYPING_IDLE_MS = 4_000;
/** Search results per page. */
const SEARCH_PAGE = 20;
/** Most history pages loaded to reach a search result (20,000 messages back at 500 a page). */
const REVEAL_MAX_PAGES = 40;
/** Older history per page: the relay's maximum, so a long scroll needs few round trips. */
const HISTORY_PAGE = 500;

function notSignedIn(): ApiResult<never> {
  return { ok: false, code: 'unauthorized', message: 'not signed in', status: 0 };
}

/** The relay's answer checked against the wire schema (the client trusts the wire no more). */
function checked<T>(schema: ZodType<T>, result: ApiResult<unknown>): ApiResult<T> {
  if (!result.ok) return result;
  const parsed = schema.safeParse(result.data);
  return parsed.success
    ? { ok: true, data: parsed.data }
    : {
        ok: false,
        code: 'invalid_payload',
        message: 'the server answered unexpectedly',
        status: 0,
      };
}

function isSession(value: unknown): value is SavedSession {
  const v = value as Partial<SavedSession> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray(v.serverUrls) &&
    v.serverUrls.every((u) => typeof u === 'string') &&
    typeof v.token === 'string' &&
    typeof v.user?.id === 'string' &&
    typeof v.user.name === 'string'
  );
}

export function normalizeServerUrl(input: string): string | null {
  const trimmed = input.trim().replace(/\/+$/, '');
  const withScheme = /^[a-z]+:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  try {
    const url = new URL(withScheme);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return null;
  }
}

function socketUrl(serverUrl: string): string {
  return `${serverUrl.replace(/^http/, 'ws')}/socket`;
}

interface ChatLink {
  channel: Channel;
  presence: Presence;
  backfilling: Promise<void> | null;
}

export class ParleyClient {
  readonly #o: Required<Omit<ClientOptions, 'transport' | 'notify' | 'fetchImpl' | 'history'>> &
    ClientOptions;
  #session: SavedSession | null = null;
  #api: ApiClient | null = null;
  #socket: Socket | null = null;
  #urlIndex = 0;
  #failures = 0;
  #notifications: Channel | null = null;
  readonly #links = new Map<string, ChatLink>();
  #outbox: Outbox | null = null;
  #flushing = false;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #retryAttempt = 0;
  #expiryTimer: ReturnType<typeof setInterval> | null = null;
  readonly #typing = new Map<string, { sentAt: number; idle: ReturnType<typeof setTimeout> }>();
  /** The older-history page loading per chat, so concurrent callers share it. */
  readonly #olderLoads = new Map<string, Promise<void>>();
  readonly #backoff: (attempt: number) => number;

  constructor(options: ClientOptions) {
    this.#o = { backoff: DEFAULT_BACKOFF, pushTimeoutMs: 10_000, attemptsPerUrl: 2, ...options };
    this.#backoff = fullJitterBackoff(this.#o.backoff);
  }

  get store(): ParleyStore {
    return this.#o.store;
  }

  get deviceId(): string {
    let id = this.#o.storage.get(DEVICE_KEY);
    if (id === null) {
      id = globalThis.crypto.randomUUID();
      this.#o.storage.set(DEVICE_KEY, id);
    }
    return id;
  }

  savedSession(): SavedSession | null {
    return readJson(this.#o.storage, SESSION_KEY, isSession);
  }

  // ---- signing in --------------------------------------------------------------------------

  /** Signs in with a display name on a relay that issues its own tokens (LAN host). */
  async signIn(input: {
    serverUrl: string;
    name: string;
    passcode?: string;
    /** A recovery code or a device-link code of the user who owns `name`. */
    code?: string;
  }): Promise<ApiResult<UserInfo>> {
    const serverUrl = normalizeServerUrl(input.serverUrl);
    if (serverUrl === null)
      return { ok: false, code: 'invalid_url', message: 'enter an http(s) address', status: 0 };
    const previous = this.savedSession();
    // Re-signing with the same name on the same relay proves ownership with the old token.
    const sameServer = previous?.serverUrls.includes(serverUrl) === true;
    const api = new ApiClient(
      serverUrl,
      sameServer ? (previous?.token ?? null) : null,
      this.#o.fetchImpl,
    );
    const result = await api.session({
      name: input.name,
      device_unique_id: this.deviceId,
      ...(input.passcode === undefined || input.passcode === ''
        ? {}
        : { passcode: input.passcode }),
      ...(input.code === undefined || input.code.trim() === '' ? {} : { code: input.code }),
    });
    if (!result.ok) return result;
    const session = checked(sessionResponse, result);
    if (!session.ok) return session;
    const { token, user, recovery_code: recoveryCode } = session.data;
    await this.start({ serverUrls: [serverUrl], token, user });
    if (recoveryCode !== undefined) {
      // New at sign-up, or the one just used was replaced: shown until the user saved it.
      this.store.getState().actions.showRecoveryCode({
        code: recoveryCode,
        reason: input.code === undefined || input.code.trim() === '' ? 'sign-up' : 'replaced',
      });
    }
    return { ok: true, data: user };
  }

  // ---- sign-in codes -----------------------------------------------------------------------

  /** When this user's recovery code was made; null when they have none. */
  async recoveryCodeStatus(): Promise<ApiResult<RecoveryCodeStatus>> {
    return checked(recoveryCodeStatus, (await this.#api?.recoveryCodeStatus()) ?? notSignedIn());
  }

  /** Makes a new recovery code (the old one stops working) and shows it until saved. */
  async regenerateRecoveryCode(): Promise<ApiResult<RecoveryCodeCreated>> {
    const made = checked(
      recoveryCodeCreated,
      (await this.#api?.newRecoveryCode()) ?? notSignedIn(),
    );
    if (made.ok) {
      this.store
        .getState()
        .actions.showRecoveryCode({ code: made.data.recovery_code, reason: 'regenerated' });
    }
    return made;
  }

  /** A short-lived code that signs another device in as this user. */
  async createLinkCode(): Promise<ApiResult<LinkCodeCreated>> {
    return checked(linkCodeCreated, (await this.#api?.newLinkCode()) ?? notSignedIn());
  }

  /** Uses a token from the company's identity provider (or a saved one). */
  async useToken(input: { serverUrls: string[]; token: string }): Promise<ApiResult<UserInfo>> {
    const serverUrls = input.serverUrls
      .map(normalizeServerUrl)
      .filter((u): u is string => u !== null);
    const first = serverUrls[0];
    if (first === undefined)
      return { ok: false, code: 'invalid_url', message: 'enter an http(s) address', status: 0 };
    const me = await new ApiClient(first, input.token, this.#o.fetchImpl).me();
    if (!me.ok) return me;
    await this.start({ serverUrls, token: input.token, user: me.data });
    return { ok: true, data: me.data };
  }

  /** Resumes the remembered session, if any. Opens offline (with the outbox) when unreachable. */
  async resume(): Promise<boolean> {
    const saved = this.savedSession();
    if (saved === null) return false;
    await this.start(saved);
    return true;
  }

  /**
   * Forgets the session. `keepOutbox` keeps unsent messages (stored per user) for when the same
   * user signs in again, e.g. after the server refused an expired token.
   */
  signOut(options: { keepOutbox?: boolean } = {}): void {
    this.#teardown();
    // Keeping the outbox keeps the old token too: it proves the name at the next sign-in.
    if (options.keepOutbox !== true) {
      this.#outbox?.clear();
      this.#o.storage.remove(SESSION_KEY);
    }
    this.#session = null;
    this.store.getState().actions.signedOut();
  }

  /** Stops all network activity (tests, window close). Keeps the session. */
  stop(): void {
    this.#teardown();
  }

  async start(session: SavedSession): Promise<void> {
    this.#teardown();
    this.#session = session;
    this.#o.storage.set(SESSION_KEY, JSON.stringify(session));
    this.#urlIndex = 0;
    this.#api = new ApiClient(session.serverUrls[0] ?? '', session.token, this.#o.fetchImpl);
    this.#outbox = new Outbox(this.#o.storage, `${session.user.id}`);
    const { actions } = this.store.getState();
    actions.signedIn({ serverUrl: session.serverUrls[0] ?? '', me: session.user });
    await this.#restoreHistory(session);
    this.#restoreOutbox();
    const loaded = await this.#loadDirectory();
    if (!loaded.ok && loaded.code === 'unauthorized') {
      actions.setStatus('error', {
        code: 'unauthorized',
        message: 'The server refused your sign-in. Sign in again.',
      });
      return;
    }
    if (!loaded.ok) actions.setStatus('offline', { code: 'unreachable', message: loaded.message });
    this.#connect();
    this.#expiryTimer = setInterval(
      () => this.store.getState().actions.expireMessages(Date.now()),
      1_000,
    );
  }

  /**
   * Shows cached chats and messages before the network answers. The cached messages are
   * confirmed ones, the tail of each chat, so the joins resume right after them (since_seq).
   */
  async #restoreHistory(session: SavedSession): Promise<void> {
    const history = this.#o.history;
    if (history === undefined) return;
    let snapshot: Awaited<ReturnType<HistorySource['load']>>;
    try {
      snapshot = await history.load(historyScope(session));
    } catch {
      // A broken cache only costs the instant start; the relay still has everything.
      return;
    }
    const { actions } = this.store.getState();
    actions.setChats(snapshot.chats);
    for (const chat of snapshot.chats) {
      const messages = snapshot.messages[chat.id] ?? [];
      const newest = messages.at(-1)?.seq ?? 0;
      actions.applyJoin(chat.id, {
        messages,
        hasOlder: (messages[0]?.seq ?? 1) > 1,
        syncedSeq: newest,
      });
    }
  }

  // ---- socket and channels -----------------------------------------------------------------

  #connect(): void {
    const session = this.#session;
    if (session === null) return;
    const url = session.serverUrls[this.#urlIndex % session.serverUrls.length] ?? '';
    this.#api = new ApiClient(url, session.token, this.#o.fetchImpl);
    const socket = new Socket(socketUrl(url), {
      params: () => ({
        token: session.token,
        device_unique_id: this.deviceId,
        preferred_language: 'EN',
      }),
      ...(this.#o.transport === undefined ? {} : { transport: this.#o.transport }),
      reconnectAfterMs: this.#backoff,
      rejoinAfterMs: this.#backoff,
      timeout: this.#o.pushTimeoutMs,
    });
    this.#socket = socket;
    socket.onOpen(() => {
      if (this.#socket !== socket) return;
      this.#failures = 0;
      this.store.getState().actions.setStatus('online');
      // Chats created or joined elsewhere while we were away, and fresh unread counts.
      void this.#loadDirectory();
    });
    socket.onError(() => {
      if (this.#socket !== socket) return;
      this.#failures += 1;
      const { status } = this.store.getState();
      if (status !== 'error') {
        this.store
          .getState()
          .actions.setStatus('offline', { code: 'unreachable', message: `Cannot reach ${url}` });
      }
      void this.#checkAuth(socket);
      if (session.serverUrls.length > 1 && this.#failures >= this.#o.attemptsPerUrl) this.#rotate();
    });
    socket.onClose(() => {
      if (this.#socket !== socket) return;
      if (this.store.getState().status === 'online')
        this.store.getState().actions.setStatus('offline');
    });
    this.#notifications = this.#joinNotifications(socket, session.user.id);
    for (const chatId of Object.keys(this.store.getState().chats)) this.#link(chatId);
    socket.connect();
  }

  /** Retries at once instead of waiting out the backoff (the OS says the network is back). */
  reconnectNow(): void {
    const socket = this.#socket;
    if (socket === null || socket.isConnected()) return;
    socket.disconnect(() => socket.connect());
  }

  /** Moves to the next URL of the profile: a new socket, every chat rejoined from its seq. */
  #rotate(): void {
    this.#failures = 0;
    this.#urlIndex += 1;
    this.#dropSocket();
    this.#connect();
  }

  async #checkAuth(socket: Socket): Promise<void> {
    const me = await this.#api?.me();
    if (me !== undefined && !me.ok && me.code === 'unauthorized' && this.#socket === socket) {
      this.#dropSocket();
      this.store.getState().actions.setStatus('error', {
        code: 'unauthorized',
        message:
          'The server refused your sign-in (the token expired or was revoked). Sign in again.',
      });
    }
  }

  #joinNotifications(socket: Socket, userId: string): Channel {
    const channel = socket.channel(`notifications:${userId}`, {});
    channel.on('new_notification', (payload: NotificationPayload) => this.#onNotification(payload));
    // A membership changed on some device (this one included): a new chat is loaded and
    // joined, a chat left disappears.
    channel.on('chat_added', (payload: ChatMembershipChange) => {
      if (this.store.getState().chats[payload.chat_id] === undefined) void this.#loadDirectory();
    });
    channel.on('chat_removed', (payload: ChatMembershipChange) =>
      this.#onChatRemoved(payload.chat_id),
    );
    channel.on('pending_notifications', (payload: PendingNotifications) => {
      const items = payload.notifications;
      if (items.length === 0) return;
      const first = items[0];
      if (first !== undefined) {
        this.#o.notify?.({
          title:
            items.length === 1
              ? `${first.sender_name} in ${first.chat_name}`
              : `${items.length} new messages`,
          body:
            items.length === 1
              ? first.content
              : `While you were away: ${[...new Set(items.map((n) => n.chat_name))].join(', ')}`,
          chatId: first.chat_id,
        });
      }
      const ids = items.map((n) => n.id).filter((id): id is number => id !== undefined);
      if (ids.length > 0) channel.push('ack_notifications', { ids }, this.#o.pushTimeoutMs);
    });
    channel.join(this.#o.pushTimeoutMs);
    return channel;
  }

  #onNotification(payload: NotificationPayload): void {
    if (this.store.getState().chats[payload.chat_id] === undefined) {
      // A chat we are not linked to yet (a first DM, an invitation): load and join it.
      void this.#loadDirectory();
    }
    this.#maybeNotify(payload.chat_id, payload.sender_id, payload.content, payload.mentioned);
  }

  /** Joins chat:<id> (once per socket); rejoins resume from the synced seq. */
  #link(chatId: string): void {
    const socket = this.#socket;
    if (socket === null || this.#links.has(chatId)) return;
    const channel = socket.channel(`chat:${chatId}`, () => {
      const synced = this.store.getState().timelines[chatId]?.syncedSeq ?? 0;
      return synced > 0 ? { since_seq: synced } : {};
    });
    const presence = new Presence(channel);
    presence.onSync(() => {
      const present: Record<string, number> = {};
      const newcomers: UserInfo[] = [];
      const known = this.store.getState().users;
      presence.list((id: string, entry: { metas: { name?: unknown }[] }) => {
        present[id] = entry.metas.length;
        // Someone who signed up after our directory load: learn their name from presence, so
        // the typing line, DM titles and the people picker name them.
        const name = entry.metas[0]?.name;
        if (known[id] === undefined && typeof name === 'string') newcomers.push({ id, name });
      });
      if (newcomers.length > 0) this.store.getState().actions.setUsers(newcomers);
      this.store.getState().actions.setPresence(chatId, present);
    });
    const link: ChatLink = { channel, presence, backfilling: null };
    this.#links.set(chatId, link);
    channel.on('receive_message', (message: WireMessage) => this.#onMessage(chatId, message));
    channel.on('typing_update', (update: TypingUpdate) =>
      this.store.getState().actions.setTyping(chatId, update.user_ids),
    );
    channel.onClose(() => {
      // The relay closed this subscription (we left or lost access).
      if (this.#links.get(chatId) === link && this.#socket === socket && socket.isConnected()) {
        this.#links.delete(chatId);
      }
    });
    channel
      .join(this.#o.pushTimeoutMs)
      .receive('ok', (reply: ChatJoinReply) => this.#onJoined(chatId, reply))
      .receive('error', (reply: { reason?: string }) => {
        if (reply.reason === 'not_member' || reply.reason === 'not_found') {
          channel.leave();
          this.#links.delete(chatId);
          this.store.getState().actions.removeChat(chatId);
        }
      });
  }

  #onJoined(chatId: string, reply: ChatJoinReply): void {
    const { actions, timelines } = this.store.getState();
    const before = timelines[chatId];
    const resumed = before !== undefined && before.syncedSeq > 0;
    actions.upsertChat({ ...reply.chat });
    const newest = reply.messages.at(-1)?.seq ?? 0;
    if (resumed && reply.has_more) {
      actions.applyJoin(chatId, { messages: reply.messages, syncedSeq: newest });
      void this.#backfill(chatId);
    } else {
      actions.applyJoin(chatId, {
        messages: reply.messages,
        hasOlder: reply.has_more,
        syncedSeq: Math.max(reply.last_seq, newest),
      });
    }
    if (resumed) void this.#refreshUnread();
    else
      actions.setUnread(
        chatId,
        this.store.getState().chats[chatId]?.unread_count ?? 0,
        reply.read_seq,
      );
    this.#markReadIfVisible(chatId);
    void this.#flush();
  }

  #onMessage(chatId: string, message: WireMessage): void {
    const gap = this.store.getState().actions.receive(chatId, message);
    if (gap) void this.#backfill(chatId);
    const me = this.store.getState().me;
    if (message.sender_id !== me?.id) {
      const mentioned = me !== null && findMentions(message.content, [me]).length > 0;
      this.#maybeNotify(chatId, message.sender_id, message.content, mentioned);
    }
    this.#markReadIfVisible(chatId);
  }

  #maybeNotify(chatId: string, senderId: string, content: string, mentioned: boolean): void {
    const state = this.store.getState();
    if (senderId === state.me?.id) return;
    const visible = state.activeChatId === chatId && state.windowFocused;
    if (visible) return;
    const chat = state.chats[chatId];
    const sender = state.users[senderId]?.name ?? 'Someone';
    const where = chat === undefined || chat.kind === 'dm' ? '' : ` in ${chat.name}`;
    this.#o.notify?.({ title: `${mentioned ? '@ ' : ''}${sender}${where}`, body: content, chatId });
  }

  /** Pages everything after the synced seq over HTTP (gap or capped resume). One at a time per chat. */
  #backfill(chatId: string): Promise<void> {
    const link = this.#links.get(chatId);
    if (link?.backfilling != null) return link.backfilling;
    const run = async (): Promise<void> => {
      for (;;) {
        const synced = this.store.getState().timelines[chatId]?.syncedSeq ?? 0;
        const page = await this.#api?.history(chatId, { after_seq: synced, limit: 500 });
        if (page === undefined || !page.ok) return;
        const timeline = this.store.getState().timelines[chatId];
        const covered = page.data.has_more
          ? (page.data.messages.at(-1)?.seq ?? synced)
          : Math.max(
              page.data.messages.at(-1)?.seq ?? synced,
              timeline === undefined ? 0 : lastSeq(timeline),
            );
        this.store.getState().actions.applyBackfill(chatId, page.data.messages, covered);
        if (!page.data.has_more) return;
      }
    };
    const running = run().finally(() => {
      if (link !== undefined) link.backfilling = null;
    });
    if (link !== undefined) link.backfilling = running;
    return running;
  }

  // ---- sending -----------------------------------------------------------------------------

  /** Shows the message at once as pending and queues it; it is sent when the chat is joined. */
  send(chatId: string, content: string): SendResult {
    const text = outgoingContent(content);
    if (isBlankMessage(text)) return { ok: false, code: 'empty' };
    // The relay would refuse it for good; the composer says so before it gets here.
    if (messageChars(text) > DEFAULT_MAX_MESSAGE_CHARS) return { ok: false, code: 'too_long' };
    const state = this.store.getState();
    if (state.chats[chatId] === undefined || state.me === null || this.#outbox === null)
      return { ok: false, code: 'no_chat' };
    const item: OutboxItem = {
      chatId,
      mobileRefId: globalThis.crypto.randomUUID(),
      content: text,
      createdAt: new Date().toISOString(),
    };
    if (!this.#outbox.add(item)) return { ok: false, code: 'outbox_full' };
    this.#showPending(item, state.me);
    this.stopTyping(chatId);
    void this.#flush();
    return { ok: true, mobileRefId: item.mobileRefId };
  }

  /** Sends a failed message again (same mobile_ref_id, so it can never be stored twice). */
  retry(chatId: string, mobileRefId: string): boolean {
    const timeline = this.store.getState().timelines[chatId];
    const message = timeline?.pending.find((m) => m.mobile_ref_id === mobileRefId);
    if (message === undefined || this.#outbox === null) return false;
    if (!this.#outbox.has(mobileRefId)) {
      const added = this.#outbox.add({
        chatId,
        mobileRefId,
        content: message.content,
        createdAt: message.timestamp,
      });
      if (!added) return false;
    }
    this.store.getState().actions.setPendingStatus(chatId, mobileRefId, 'pending');
    this.#syncOutboxCount();
    void this.#flush();
    return true;
  }

  discard(chatId: string, mobileRefId: string): void {
    this.#outbox?.remove(mobileRefId);
    this.store.getState().actions.removePending(chatId, mobileRefId);
    this.#syncOutboxCount();
  }

  #showPending(item: OutboxItem, me: UserInfo): void {
    this.store.getState().actions.addPending(item.chatId, {
      chat_id: item.chatId,
      message_id: `local:${item.mobileRefId}`,
      seq: Number.MAX_SAFE_INTEGER,
      content: item.content,
      sender_id: me.id,
      sender_name: me.name,
      timestamp: item.createdAt,
      expires_at: null,
      mobile_ref_id: item.mobileRefId,
      status: 'pending',
    });
    this.#syncOutboxCount();
  }

  #restoreOutbox(): void {
    const me = this.store.getState().me;
    if (this.#outbox === null || me === null) return;
    for (const item of this.#outbox.items()) this.#showPending(item, me);
  }

  #syncOutboxCount(): void {
    this.store.getState().actions.setOutboxCount(this.#outbox?.size ?? 0);
  }

  /** Sends the outbox in order, one message at a time, to chats whose channel is joined. */
  async #flush(): Promise<void> {
    if (this.#flushing || this.#outbox === null) return;
    this.#flushing = true;
    try {
      for (;;) {
        const item = this.#outbox
          .items()
          .find((i) => this.#links.get(i.chatId)?.channel.state === 'joined');
        if (item === undefined) return;
        const outcome = await this.#push(item);
        if (outcome === 'retry') {
          this.#scheduleRetry();
          return;
        }
        this.#retryAttempt = 0;
      }
    } finally {
      this.#flushing = false;
    }
  }

  #push(item: OutboxItem): Promise<'done' | 'retry'> {
    const link = this.#links.get(item.chatId);
    const { actions } = this.store.getState();
    return new Promise((resolve) => {
      if (link === undefined) return resolve('retry');
      link.channel
        .push(
          'send_message',
          { content: item.content, mobile_ref_id: item.mobileRefId },
          this.#o.pushTimeoutMs,
        )
        .receive('ok', (sent: MessageSent) => {
          this.#outbox?.remove(item.mobileRefId);
          const me = this.store.getState().me;
          if (sent.seq !== null && sent.message_id !== null && me !== null) {
            const gap = actions.receive(item.chatId, {
              chat_id: item.chatId,
              message_id: sent.message_id,
              seq: sent.seq,
              content: item.content,
              sender_id: me.id,
              sender_name: me.name,
              timestamp: sent.timestamp ?? item.createdAt,
              expires_at: this.#expiresAt(item.chatId, sent.timestamp),
              mobile_ref_id: item.mobileRefId,
            });
            if (gap) void this.#backfill(item.chatId);
          }
          actions.removePending(item.chatId, item.mobileRefId);
          this.#syncOutboxCount();
          resolve('done');
        })
        .receive('error', (reply: { reason?: string; message?: string }) => {
          // A refusal that a resend cannot fix marks the message failed (the UI offers Edit and
          // Delete); anything else is retried with backoff, same mobile_ref_id.
          const code = reply.reason ?? '';
          if (isPermanentSendError(code)) {
            this.#outbox?.remove(item.mobileRefId);
            actions.setPendingStatus(item.chatId, item.mobileRefId, 'failed', {
              code,
              message: reply.message ?? code,
            });
            this.#syncOutboxCount();
            return resolve('done');
          }
          resolve('retry');
        })
        .receive('timeout', () => resolve('retry'));
    });
  }

  #expiresAt(chatId: string, timestamp: string | null): string | null {
    const ttl = this.store.getState().chats[chatId]?.ephemeral_ttl_s;
    if (ttl == null || timestamp === null) return null;
    return new Date(Date.parse(timestamp) + ttl * 1000).toISOString();
  }

  #scheduleRetry(): void {
    if (this.#retryTimer !== null) return;
    this.#retryAttempt += 1;
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = null;
        void this.#flush();
      },
      Math.max(200, this.#backoff(this.#retryAttempt)),
    );
  }

  // ---- typing, reading, history ------------------------------------------------------------

  /** Call on every edit of the composer: sends typing:true at most every 3 s, false after 4 s idle. */
  composing(chatId: string): void {
    const channel = this.#links.get(chatId)?.channel;
    if (channel?.state !== 'joined') return;
    const now = Date.now();
    const entry = this.#typing.get(chatId);
    if (entry !== undefined) clearTimeout(entry.idle);
    const sentAt =
      entry === undefined || now - entry.sentAt >= TYPING_RENEW_MS ? now : entry.sentAt;
    if (sentAt === now) channel.push('typing', { typing: true }, this.#o.pushTimeoutMs);
    this.#typing.set(chatId, {
      sentAt,
      idle: setTimeout(() => this.stopTyping(chatId), TYPING_IDLE_MS),
    });
  }

  stopTyping(chatId: string): void {
    const entry = this.#typing.get(chatId);
    if (entry === undefined) return;
    clearTimeout(entry.idle);
    this.#typing.delete(chatId);
    const channel = this.#links.get(chatId)?.channel;
    if (channel?.state === 'joined')
      channel.push('typing', { typing: false }, this.#o.pushTimeoutMs);
  }

  openChat(chatId: string | null): void {
    const { actions, activeChatId } = this.store.getState();
    if (activeChatId !== null && activeChatId !== chatId) this.stopTyping(activeChatId);
    actions.openChat(chatId);
    if (chatId !== null) this.#markReadIfVisible(chatId);
  }

  setWindowFocused(focused: boolean): void {
    this.store.getState().actions.setWindowFocused(focused);
    const active = this.store.getState().activeChatId;
    if (focused && active !== null) this.#markReadIfVisible(active);
  }

  #markReadIfVisible(chatId: string): void {
    const state = this.store.getState();
    if (state.activeChatId !== chatId || !state.windowFocused) return;
    const chat = state.chats[chatId];
    const timeline = state.timelines[chatId];
    if (chat === undefined || timeline === undefined) return;
    const seq = lastSeq(timeline);
    if (seq <= chat.read_seq && chat.unread_count === 0) return;
    state.actions.setUnread(chatId, 0, seq);
    const channel = this.#links.get(chatId)?.channel;
    if (channel?.state === 'joined') channel.push('read', { seq }, this.#o.pushTimeoutMs);
    else void this.#api?.read(chatId, seq);
  }

  /** Loads the page before the oldest message in view; a call while one loads waits for it. */
  loadOlder(chatId: string): Promise<void> {
    const inFlight = this.#olderLoads.get(chatId);
    if (inFlight !== undefined) return inFlight;
    const load = this.#loadOlderPage(chatId).finally(() => this.#olderLoads.delete(chatId));
    this.#olderLoads.set(chatId, load);
    return load;
  }

  async #loadOlderPage(chatId: string): Promise<void> {
    const state = this.store.getState();
    const timeline = state.timelines[chatId];
    if (timeline === undefined || !timeline.hasOlder || timeline.loadingOlder || this.#api === null)
      return;
    state.actions.setLoadingOlder(chatId, true);
    const before = timeline.messages[0]?.seq;
    const page = await this.#api.history(chatId, {
      ...(before === undefined ? {} : { before_seq: before }),
      limit: HISTORY_PAGE,
    });
    if (!page.ok) {
      this.store.getState().actions.setLoadingOlder(chatId, false);
      return;
    }
    this.store.getState().actions.prependOlder(chatId, page.data.messages, page.data.has_more);
  }

  // ---- search ------------------------------------------------------------------------------

  /** One page of message search (relay/PROTOCOL.md, "Search"): newest first. */
  search(query: {
    q: string;
    chatId?: string | undefined;
    before?: string | undefined;
  }): Promise<ApiResult<SearchPage>> {
    return this.#requireApi().search({
      q: query.q,
      limit: SEARCH_PAGE,
      ...(query.chatId === undefined ? {} : { chat_id: query.chatId }),
      ...(query.before === undefined ? {} : { before: query.before }),
    });
  }

  /**
   * Opens the chat at one message (a search result): loads older pages until it is in the
   * timeline (at most REVEAL_MAX_PAGES), then asks the list to scroll to it and mark it.
   * Returns false when it could not be loaded (gone, or further back than the limit).
   */
  async revealMessage(chatId: string, seq: number): Promise<boolean> {
    this.openChat(chatId);
    for (let page = 0; page <= REVEAL_MAX_PAGES; page += 1) {
      const timeline = this.store.getState().timelines[chatId];
      if (timeline === undefined) break;
      if (timeline.messages.some((message) => message.seq === seq)) {
        this.store.getState().actions.focusMessage(chatId, seq);
        return true;
      }
      const oldest = timeline.messages[0]?.seq;
      if (!timeline.hasOlder || (oldest !== undefined && oldest < seq) || page === REVEAL_MAX_PAGES)
        break;
      await this.loadOlder(chatId);
    }
    return false;
  }

  // ---- directory: users, rooms, DMs --------------------------------------------------------

  /** Reloads users and chats (the UI calls it when opening the people picker). */
  async refreshDirectory(): Promise<void> {
    await this.#loadDirectory();
  }

  async #loadDirectory(): Promise<ApiResult<null>> {
    const api = this.#api;
    if (api === null) return { ok: false, code: 'signed_out', message: 'signed out', status: 0 };
    const [chats, users] = await Promise.all([api.chats(), api.users()]);
    if (!chats.ok) return chats;
    const { actions } = this.store.getState();
    if (users.ok) actions.setUsers(users.data.users);
    this.#applyChats(chats.data.chats);
    return { ok: true, data: null };
  }

  #applyChats(chats: readonly ChatSummary[]): void {
    const { actions } = this.store.getState();
    for (const chat of chats) actions.upsertChat(chat);
    const known = new Set(chats.map((c) => c.id));
    for (const id of Object.keys(this.store.getState().chats)) {
      if (!known.has(id)) this.#forget(id);
    }
    for (const chat of chats) this.#link(chat.id);
    if (this.store.getState().activeChatId === null) {
      const main = chats.find((c) => c.is_main) ?? chats[0];
      if (main !== undefined) actions.openChat(main.id);
    }
    // A summary fetched before our read marker reached the relay brings back the open chat's
    // old unread count; the chat on screen is read (found by e2e/notifications.spec.ts).
    const active = this.store.getState().activeChatId;
    if (active !== null) this.#markReadIfVisible(active);
  }

  async #refreshUnread(): Promise<void> {
    const chats = await this.#api?.chats();
    if (chats === undefined || !chats.ok) return;
    const { actions, activeChatId } = this.store.getState();
    for (const chat of chats.data.chats) {
      if (chat.id !== activeChatId) actions.setUnread(chat.id, chat.unread_count, chat.read_seq);
    }
  }

  async createRoom(input: {
    name: string;
    visibility: 'public' | 'private';
    ephemeralTtlS?: number;
  }): Promise<ApiResult<string>> {
    const created = await this.#requireApi().createChat({
      name: input.name,
      visibility: input.visibility,
      ...(input.ephemeralTtlS === undefined ? {} : { ephemeral_ttl_s: input.ephemeralTtlS }),
    });
    if (!created.ok) return created;
    return this.#adopt(created.data.chat.id);
  }

  async startDm(userId: string): Promise<ApiResult<string>> {
    const dm = await this.#requireApi().dm(userId);
    if (!dm.ok) return dm;
    return this.#adopt(dm.data.chat.id);
  }

  async joinRoom(chatId: string): Promise<ApiResult<string>> {
    const joined = await this.#requireApi().joinChat(chatId);
    if (!joined.ok) return joined;
    return this.#adopt(chatId);
  }

  async addMember(chatId: string, userId: string): Promise<ApiResult<null>> {
    const added = await this.#requireApi().addMember(chatId, userId);
    return added.ok ? { ok: true, data: null } : added;
  }

  /** Who is in a chat (the member list; the relay answers members only). */
  async chatMembers(chatId: string): Promise<ApiResult<UserInfo[]>> {
    const details = await this.#requireApi().chat(chatId);
    return details.ok ? { ok: true, data: details.data.members } : details;
  }

  async leaveRoom(chatId: string): Promise<ApiResult<null>> {
    const left = await this.#requireApi().leaveChat(chatId);
    if (!left.ok) return left;
    this.#forget(chatId);
    return { ok: true, data: null };
  }

  /** Drops a chat one is no longer in: its subscription and its state. */
  #forget(chatId: string): void {
    this.#links.get(chatId)?.channel.leave();
    this.#links.delete(chatId);
    this.store.getState().actions.removeChat(chatId);
  }

  /** A chat left on another device: dropped here too; if it was open, the main room opens. */
  #onChatRemoved(chatId: string): void {
    const wasOpen = this.store.getState().activeChatId === chatId;
    this.#forget(chatId);
    const main = Object.values(this.store.getState().chats).find((chat) => chat.is_main);
    if (wasOpen && main !== undefined) this.openChat(main.id);
  }

  publicRooms() {
    return this.#requireApi().publicChats();
  }

  async #adopt(chatId: string): Promise<ApiResult<string>> {
    await this.#loadDirectory();
    this.openChat(chatId);
    return { ok: true, data: chatId };
  }

  #requireApi(): ApiClient {
    if (this.#api === null) throw new Error('not signed in');
    return this.#api;
  }

  // ---- teardown ----------------------------------------------------------------------------

  #dropSocket(): void {
    for (const link of this.#links.values()) link.channel.leave();
    this.#links.clear();
    this.#notifications?.leave();
    this.#notifications = null;
    const socket = this.#socket;
    this.#socket = null;
    socket?.disconnect();
  }

  #teardown(): void {
    this.#dropSocket();
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    if (this.#expiryTimer !== null) clearInterval(this.#expiryTimer);
    this.#expiryTimer = null;
    for (const entry of this.#typing.values()) clearTimeout(entry.idle);
    this.#typing.clear();
    this.#flushing = false;
  }
}
