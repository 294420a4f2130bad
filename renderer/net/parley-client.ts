/**
 * The client layer's facade: the one object the UI holds. It wires the modules that do the
 * work and writes to the zustand store through actions only; components never touch a socket.
 *
 * - session.ts: sign-in, the saved session, this device's id
 * - connection.ts: the socket, backoff, cluster URL rotation
 * - chat-links.ts, chat-sync.ts: per-chat channels, resume by seq, gap backfill, change events
 * - outbox.ts, outbox-sender.ts, message-actions.ts: sends, edits, deletes, in order, once each
 * - directory.ts, older-history.ts: chats, users, rooms, DMs, search, older pages
 * - notifications-link.ts, typing-sender.ts: notifications, typing
 */
import type { Channel } from 'phoenix';
import type { UserInfo } from '../../relay/protocol/events.js';
import { findMentions } from '../../relay/protocol/mentions.js';
import type { ParleyStore } from '../state/store.js';
import { lastSeq } from '../state/timeline.js';
import type { ApiResult } from './api-client.js';
import { DEFAULT_BACKOFF, fullJitterBackoff, type BackoffOptions } from './backoff.js';
import { ChatLinks } from './chat-links.js';
import { ChatSync } from './chat-sync.js';
import { Connection } from './connection.js';
import { Directory } from './directory.js';
import { checkedSnapshot, type HistorySnapshot } from './history-cache.js';
import { MessageActions, type ChangeResult, type SendResult } from './message-actions.js';
import {
  joinNotifications,
  notifyMessage,
  type NotificationRequest,
} from './notifications-link.js';
import { OlderHistory } from './older-history.js';
import { Outbox, type ChangeTarget } from './outbox.js';
import { OutboxSender, type ChangeFailure } from './outbox-sender.js';
import { SessionKeeper, historyScope, type SavedSession, type SignInInput } from './session.js';
import type { KeyValueStorage } from './storage.js';
import { TypingSender } from './typing-sender.js';

export { historyScope, normalizeServerUrl, type SavedSession } from './session.js';
export type { NotificationRequest } from './notifications-link.js';
export type { ChangeResult, SendResult } from './message-actions.js';
export type { ChangeFailure } from './outbox-sender.js';
export type { ChangeTarget } from './outbox.js';

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
  load(scope: string): Promise<HistorySnapshot>;
}

export class ParleyClient {
  readonly #o: ClientOptions & { pushTimeoutMs: number };
  readonly #session: SessionKeeper;
  readonly #connection: Connection;
  readonly #sync: ChatSync;
  readonly #links: ChatLinks;
  readonly #sender: OutboxSender;
  readonly #messages: MessageActions;
  readonly #directory: Directory;
  readonly #older: OlderHistory;
  readonly #typing: TypingSender;
  readonly #changeFailed = new Set<(failure: ChangeFailure) => void>();
  #notifications: Channel | null = null;
  #expiryTimer: ReturnType<typeof setInterval> | null = null;
  /** A resume in progress: a second call while it runs shares it (one socket, not two). */
  #resuming: Promise<boolean> | null = null;

  constructor(options: ClientOptions) {
    const o = { pushTimeoutMs: 10_000, ...options };
    this.#o = o;
    const { store, pushTimeoutMs } = o;
    const backoff = fullJitterBackoff(o.backoff ?? DEFAULT_BACKOFF);
    const api = () => this.#connection.api;
    const channel = (chatId: string) => this.#links.joined(chatId);
    this.#session = new SessionKeeper(o.storage, o.fetchImpl);
    this.#sync = new ChatSync(store, api);
    this.#older = new OlderHistory(store, api);
    this.#typing = new TypingSender(channel, pushTimeoutMs);
    this.#directory = new Directory({
      store,
      api,
      link: (chatId) => this.#links.link(chatId),
      forget: (chatId) => this.#links.forget(chatId),
      openChat: (chatId) => this.openChat(chatId),
      markReadIfVisible: (chatId) => this.#markReadIfVisible(chatId),
    });
    this.#links = new ChatLinks({
      store,
      sync: this.#sync,
      pushTimeoutMs,
      onJoined: (chatId, resumed, reply) => {
        if (resumed) void this.#directory.refreshUnread();
        else
          store
            .getState()
            .actions.setUnread(
              chatId,
              store.getState().chats[chatId]?.unread_count ?? 0,
              reply.read_seq,
            );
        this.#markReadIfVisible(chatId);
        void this.#sender.flush();
      },
      onMessage: (chatId, message) => {
        const me = store.getState().me;
        notifyMessage(o, {
          chatId,
          senderId: message.sender_id,
          content: message.content,
          mentioned: me !== null && findMentions(message.content, [me]).length > 0,
        });
        this.#markReadIfVisible(chatId);
      },
    });
    this.#sender = new OutboxSender({
      store,
      sync: this.#sync,
      pushTimeoutMs,
      backoff,
      channel,
      onChangeFailed: (failure) => {
        for (const listener of this.#changeFailed) listener(failure);
      },
    });
    this.#messages = new MessageActions(store, this.#sender);
    this.#connection = new Connection({
      store,
      deviceId: () => this.#session.deviceId,
      transport: o.transport,
      fetchImpl: o.fetchImpl,
      backoff,
      pushTimeoutMs,
      attemptsPerUrl: o.attemptsPerUrl ?? 2,
      onSocket: (socket, session) => {
        this.#links.attach(socket);
        this.#notifications = joinNotifications(
          {
            store,
            pushTimeoutMs,
            notify: o.notify,
            onUnknownChat: () => void this.#directory.load(),
            onChatRemoved: (chatId) => this.#directory.removed(chatId),
          },
          socket,
          session.user.id,
        );
        for (const chatId of Object.keys(store.getState().chats)) this.#links.link(chatId);
      },
      // Chats created or joined elsewhere while we were away, and fresh unread counts.
      onOpen: () => void this.#directory.load(),
      onDrop: () => {
        this.#links.dropAll();
        this.#notifications?.leave();
        this.#notifications = null;
      },
    });
  }

  get store(): ParleyStore {
    return this.#o.store;
  }

  get deviceId(): string {
    return this.#session.deviceId;
  }

  savedSession(): SavedSession | null {
    return this.#session.saved();
  }

  // ---- session -----------------------------------------------------------------------------

  /** Signs in with a display name on a relay that issues its own tokens (LAN host). */
  async signIn(input: SignInInput): Promise<ApiResult<UserInfo>> {
    const made = await this.#session.signIn(input);
    if (!made.ok) return made;
    const { session, recoveryCode } = made.data;
    await this.start(session);
    if (recoveryCode !== undefined) {
      // New at sign-up, or the one just used was replaced: shown until the user saved it.
      this.store.getState().actions.showRecoveryCode({
        code: recoveryCode,
        reason: input.code === undefined || input.code.trim() === '' ? 'sign-up' : 'replaced',
      });
    }
    return { ok: true, data: session.user };
  }

  /** When this user's recovery code was made; null when they have none. */
  recoveryCodeStatus() {
    return this.#connection.api?.recoveryCodeStatus() ?? Promise.resolve(signedOut());
  }

  /** Makes a new recovery code (the old one stops working) and shows it until saved. */
  async regenerateRecoveryCode() {
    const made = (await this.#connection.api?.newRecoveryCode()) ?? signedOut();
    if (made.ok) {
      const code = made.data.recovery_code;
      this.store.getState().actions.showRecoveryCode({ code, reason: 'regenerated' });
    }
    return made;
  }

  /** A short-lived code that signs another device in as this user. */
  createLinkCode() {
    return this.#connection.api?.newLinkCode() ?? Promise.resolve(signedOut());
  }

  /** Uses a token from the company's identity provider (or a saved one). */
  async useToken(input: { serverUrls: string[]; token: string }): Promise<ApiResult<UserInfo>> {
    const checked = await this.#session.useToken(input);
    if (!checked.ok) return checked;
    await this.start(checked.data);
    return { ok: true, data: checked.data.user };
  }

  /**
   * Resumes the remembered session, if any. Opens offline (with the outbox) when unreachable.
   * A call while a resume is in progress shares it.
   */
  resume(): Promise<boolean> {
    this.#resuming ??= this.#resume().finally(() => {
      this.#resuming = null;
    });
    return this.#resuming;
  }

  async #resume(): Promise<boolean> {
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
    const outbox = this.#sender.outbox;
    this.#teardown();
    this.#connection.reset();
    // Keeping the outbox keeps the old token too: it proves the name at the next sign-in.
    if (options.keepOutbox !== true) {
      outbox?.clear();
      this.#session.forget();
    }
    this.store.getState().actions.signedOut();
  }

  /** Stops all network activity (tests, window close). Keeps the session. */
  stop(): void {
    this.#teardown();
  }

  async start(session: SavedSession): Promise<void> {
    this.#teardown();
    this.#session.remember(session);
    this.#connection.use(session);
    this.#sender.use(new Outbox(this.#o.storage, session.user.id));
    const { actions } = this.store.getState();
    actions.signedIn({ serverUrl: session.serverUrls[0] ?? '', me: session.user });
    await this.#restoreHistory(session);
    this.#messages.restore();
    const loaded = await this.#directory.load();
    if (!loaded.ok && loaded.code === 'unauthorized') {
      actions.setStatus('error', {
        code: 'unauthorized',
        message: 'The server refused your sign-in. Sign in again.',
      });
      return;
    }
    if (!loaded.ok) actions.setStatus('offline', { code: 'unreachable', message: loaded.message });
    this.#connection.connect();
    this.#expiryTimer = setInterval(() => actions.expireMessages(Date.now()), 1_000);
  }

  /**
   * Shows cached chats and messages before the network answers. The cached messages are
   * confirmed ones, the tail of each chat, so the joins resume right after them (since_seq).
   */
  async #restoreHistory(session: SavedSession): Promise<void> {
    const history = this.#o.history;
    if (history === undefined) return;
    let loaded: unknown;
    try {
      loaded = await history.load(historyScope(session));
    } catch (error) {
      // A broken cache only costs the instant start; the relay still has everything.
      console.warn('parley: the offline cache could not be read', error);
      return;
    }
    const snapshot = checkedSnapshot(loaded);
    if (snapshot === null) return;
    const { actions } = this.store.getState();
    actions.setChats(snapshot.chats);
    for (const chat of snapshot.chats) {
      const messages = snapshot.messages[chat.id] ?? [];
      actions.applyJoin(chat.id, {
        messages,
        hasOlder: (messages[0]?.seq ?? 1) > 1,
        syncedSeq: messages.at(-1)?.seq ?? 0,
      });
    }
  }

  /** Retries at once instead of waiting out the backoff (the OS says the network is back). */
  reconnectNow(): void {
    this.#connection.reconnectNow();
  }

  // ---- messages ------------------------------------------------------------------------------

  /** Shows the message at once as pending and queues it; it is sent when the chat is joined. */
  send(chatId: string, content: string): SendResult {
    const sent = this.#messages.send(chatId, content);
    if (sent.ok) this.stopTyping(chatId);
    return sent;
  }

  /** Sends a failed message again (same mobile_ref_id, so it can never be stored twice). */
  retry(chatId: string, mobileRefId: string): boolean {
    return this.#messages.retry(chatId, mobileRefId);
  }

  discard(chatId: string, mobileRefId: string): void {
    this.#messages.discard(chatId, mobileRefId);
  }

  /**
   * Edits one of our messages: `{ messageId }` once sent (queued in the outbox, in order with
   * sends), `{ mobileRefId }` while still in the outbox (its queued text is rewritten).
   */
  editMessage(chatId: string, target: ChangeTarget, content: string): ChangeResult {
    return this.#messages.edit(chatId, target, content);
  }

  /** Deletes one of our messages (queued), or drops it from the outbox if not sent yet. */
  deleteMessage(chatId: string, target: ChangeTarget): ChangeResult {
    return this.#messages.delete(chatId, target);
  }

  /** Edits and deletes the relay refused for good (dropped from the outbox). Returns unsubscribe. */
  onChangeFailed(listener: (failure: ChangeFailure) => void): () => void {
    this.#changeFailed.add(listener);
    return () => this.#changeFailed.delete(listener);
  }

  // ---- typing, reading, history ------------------------------------------------------------

  /** Call on every edit of the composer: sends typing:true at most every 3 s, false after 4 s idle. */
  composing(chatId: string): void {
    this.#typing.composing(chatId);
  }

  stopTyping(chatId: string): void {
    this.#typing.stop(chatId);
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
    const channel = this.#links.joined(chatId);
    if (channel !== null) channel.push('read', { seq }, this.#o.pushTimeoutMs);
    else void this.#connection.api?.read(chatId, seq);
  }

  /** Loads the page before the oldest message in view; a call while one loads waits for it. */
  loadOlder(chatId: string): Promise<void> {
    return this.#older.loadOlder(chatId);
  }

  /** Opens the chat at one message (a search result); false when it could not be loaded. */
  revealMessage(chatId: string, seq: number): Promise<boolean> {
    this.openChat(chatId);
    return this.#older.reveal(chatId, seq);
  }

  // ---- directory ---------------------------------------------------------------------------

  /** One page of message search (relay/PROTOCOL.md, "Search"): newest first. */
  search(query: { q: string; chatId?: string | undefined; before?: string | undefined }) {
    return this.#directory.search(query);
  }

  /** Reloads users and chats (the UI calls it when opening the people picker). */
  async refreshDirectory(): Promise<void> {
    await this.#directory.load();
  }

  createRoom(input: { name: string; visibility: 'public' | 'private'; ephemeralTtlS?: number }) {
    return this.#directory.createRoom(input);
  }

  startDm(userId: string) {
    return this.#directory.startDm(userId);
  }

  joinRoom(chatId: string) {
    return this.#directory.joinRoom(chatId);
  }

  addMember(chatId: string, userId: string) {
    return this.#directory.addMember(chatId, userId);
  }

  chatMembers(chatId: string) {
    return this.#directory.chatMembers(chatId);
  }

  leaveRoom(chatId: string) {
    return this.#directory.leaveRoom(chatId);
  }

  publicRooms() {
    return this.#directory.publicRooms();
  }

  // ---- teardown ----------------------------------------------------------------------------

  #teardown(): void {
    this.#connection.close();
    this.#sender.stop();
    if (this.#expiryTimer !== null) clearInterval(this.#expiryTimer);
    this.#expiryTimer = null;
    this.#typing.clear();
  }
}

function signedOut(): ApiResult<never> {
  return { ok: false, code: 'unauthorized', message: 'not signed in', status: 0 };
}
