/**
 * The client layer's facade: the one object the UI holds. The modules that do the work
 * (client-wiring.ts puts them together) write to the zustand store through actions only;
 * components never touch a socket.
 *
 * - session.ts: sign-in, the saved session, this device's id
 * - connection.ts: the socket, backoff, cluster URL rotation
 * - chat-links.ts, chat-sync.ts: per-chat channels, resume by seq, gap backfill, change events
 * - outbox.ts, outbox-sender.ts, message-actions.ts: sends, edits, deletes, in order, once each
 * - directory.ts, older-history.ts: chats, users, rooms, DMs, search, older pages
 * - notifications-link.ts, typing-sender.ts, read-marker.ts: notifications, typing, read markers
 */
import type { UserInfo } from '../../relay/protocol/events.js';
import type { ParleyStore } from '../state/store.js';
import type { ApiResult } from './api-client.js';
import { wireClient, type ClientOptions, type ClientParts } from './client-wiring.js';
import { restoreHistory } from './history-cache.js';
import type { ChangeResult, SendResult } from './message-actions.js';
import { Outbox, type ChangeTarget } from './outbox.js';
import type { ChangeFailure } from './outbox-sender.js';
import { historyScope, type SavedSession, type SignInInput } from './session.js';

export { historyScope, normalizeServerUrl, type SavedSession } from './session.js';
export type { NotificationRequest } from './notifications-link.js';
export type { ChangeResult, SendResult } from './message-actions.js';
export type { ChangeFailure } from './outbox-sender.js';
export type { ChangeTarget } from './outbox.js';
export type { HistorySource } from './history-cache.js';
export type { ClientOptions } from './client-wiring.js';

export class ParleyClient {
  readonly #o: ClientOptions & { pushTimeoutMs: number };
  /** The modules doing the work (client-wiring.ts). */
  readonly #p: ClientParts;
  readonly #changeFailed = new Set<(failure: ChangeFailure) => void>();
  #expiryTimer: ReturnType<typeof setInterval> | null = null;
  /** A resume in progress: a second call while it runs shares it (one socket, not two). */
  #resuming: Promise<boolean> | null = null;

  constructor(options: ClientOptions) {
    this.#o = { pushTimeoutMs: 10_000, ...options };
    this.#p = wireClient(this.#o, {
      openChat: (chatId) => this.openChat(chatId),
      onChangeFailed: (failure) => {
        for (const listener of this.#changeFailed) listener(failure);
      },
    });
  }

  get store(): ParleyStore {
    return this.#o.store;
  }

  get deviceId(): string {
    return this.#p.session.deviceId;
  }

  savedSession(): SavedSession | null {
    return this.#p.session.saved();
  }

  // ---- session -----------------------------------------------------------------------------

  /** Signs in with a display name on a relay that issues its own tokens (LAN host). */
  async signIn(input: SignInInput): Promise<ApiResult<UserInfo>> {
    const made = await this.#p.session.signIn(input);
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
    return this.#p.connection.api?.recoveryCodeStatus() ?? Promise.resolve(signedOut());
  }

  /** Makes a new recovery code (the old one stops working) and shows it until saved. */
  async regenerateRecoveryCode() {
    const made = (await this.#p.connection.api?.newRecoveryCode()) ?? signedOut();
    if (made.ok) {
      const code = made.data.recovery_code;
      this.store.getState().actions.showRecoveryCode({ code, reason: 'regenerated' });
    }
    return made;
  }

  /** A short-lived code that signs another device in as this user. */
  createLinkCode() {
    return this.#p.connection.api?.newLinkCode() ?? Promise.resolve(signedOut());
  }

  /** Uses a token from the company's identity provider (or a saved one). */
  async useToken(input: { serverUrls: string[]; token: string }): Promise<ApiResult<UserInfo>> {
    const checked = await this.#p.session.useToken(input);
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
    const outbox = this.#p.sender.outbox;
    this.#teardown();
    this.#p.connection.reset();
    // Keeping the outbox keeps the old token too: it proves the name at the next sign-in.
    if (options.keepOutbox !== true) {
      outbox?.clear();
      this.#p.session.forget();
    }
    this.store.getState().actions.signedOut();
  }

  /** Stops all network activity (tests, window close). Keeps the session. */
  stop(): void {
    this.#teardown();
  }

  async start(session: SavedSession): Promise<void> {
    this.#teardown();
    this.#p.session.remember(session);
    this.#p.connection.use(session);
    this.#p.sender.use(new Outbox(this.#o.storage, session.user.id));
    const { actions } = this.store.getState();
    actions.signedIn({ serverUrl: session.serverUrls[0] ?? '', me: session.user });
    if (this.#o.history !== undefined)
      await restoreHistory(this.store, this.#o.history, historyScope(session));
    this.#p.messages.restore();
    const loaded = await this.#p.directory.load();
    if (!loaded.ok && loaded.code === 'unauthorized') {
      actions.setStatus('error', {
        code: 'unauthorized',
        message: 'The server refused your sign-in. Sign in again.',
      });
      return;
    }
    if (!loaded.ok) actions.setStatus('offline', { code: 'unreachable', message: loaded.message });
    this.#p.connection.connect();
    this.#expiryTimer = setInterval(() => actions.expireMessages(Date.now()), 1_000);
  }

  /** Retries at once instead of waiting out the backoff (the OS says the network is back). */
  reconnectNow(): void {
    this.#p.connection.reconnectNow();
  }

  // ---- messages ------------------------------------------------------------------------------

  /** Shows the message at once as pending and queues it; it is sent when the chat is joined. */
  send(chatId: string, content: string): SendResult {
    const sent = this.#p.messages.send(chatId, content);
    if (sent.ok) this.stopTyping(chatId);
    return sent;
  }

  /** Sends a failed message again (same mobile_ref_id, so it can never be stored twice). */
  retry(chatId: string, mobileRefId: string): boolean {
    return this.#p.messages.retry(chatId, mobileRefId);
  }

  discard(chatId: string, mobileRefId: string): void {
    this.#p.messages.discard(chatId, mobileRefId);
  }

  /**
   * Edits one of our messages: `{ messageId }` once sent (queued in the outbox, in order with
   * sends), `{ mobileRefId }` while still in the outbox (its queued text is rewritten).
   */
  editMessage(chatId: string, target: ChangeTarget, content: string): ChangeResult {
    return this.#p.messages.edit(chatId, target, content);
  }

  /** Deletes one of our messages (queued), or drops it from the outbox if not sent yet. */
  deleteMessage(chatId: string, target: ChangeTarget): ChangeResult {
    return this.#p.messages.delete(chatId, target);
  }

  /** Edits and deletes the relay refused for good (dropped from the outbox). Returns unsubscribe. */
  onChangeFailed(listener: (failure: ChangeFailure) => void): () => void {
    this.#changeFailed.add(listener);
    return () => this.#changeFailed.delete(listener);
  }

  // ---- typing, reading, history ------------------------------------------------------------

  /** Call on every edit of the composer: sends typing:true at most every 3 s, false after 4 s idle. */
  composing(chatId: string): void {
    this.#p.typing.composing(chatId);
  }

  stopTyping(chatId: string): void {
    this.#p.typing.stop(chatId);
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
    this.#p.readMarker.markIfVisible(chatId);
  }

  /** Loads the page before the oldest message in view; a call while one loads waits for it. */
  loadOlder(chatId: string): Promise<void> {
    return this.#p.older.loadOlder(chatId);
  }

  /** Opens the chat at one message (a search result); false when it could not be loaded. */
  revealMessage(chatId: string, seq: number): Promise<boolean> {
    this.openChat(chatId);
    return this.#p.older.reveal(chatId, seq);
  }

  // ---- directory ---------------------------------------------------------------------------

  /** One page of message search (relay/PROTOCOL.md, "Search"): newest first. */
  search(query: { q: string; chatId?: string | undefined; before?: string | undefined }) {
    return this.#p.directory.search(query);
  }

  /** Reloads users and chats (the UI calls it when opening the people picker). */
  async refreshDirectory(): Promise<void> {
    await this.#p.directory.load();
  }

  createRoom(input: { name: string; visibility: 'public' | 'private'; ephemeralTtlS?: number }) {
    return this.#p.directory.createRoom(input);
  }

  startDm(userId: string) {
    return this.#p.directory.startDm(userId);
  }

  joinRoom(chatId: string) {
    return this.#p.directory.joinRoom(chatId);
  }

  addMember(chatId: string, userId: string) {
    return this.#p.directory.addMember(chatId, userId);
  }

  chatMembers(chatId: string) {
    return this.#p.directory.chatMembers(chatId);
  }

  leaveRoom(chatId: string) {
    return this.#p.directory.leaveRoom(chatId);
  }

  publicRooms() {
    return this.#p.directory.publicRooms();
  }

  // ---- teardown ----------------------------------------------------------------------------

  #teardown(): void {
    this.#p.connection.close();
    this.#p.sender.stop();
    if (this.#expiryTimer !== null) clearInterval(this.#expiryTimer);
    this.#expiryTimer = null;
    this.#p.typing.clear();
  }
}

function signedOut(): ApiResult<never> {
  return { ok: false, code: 'unauthorized', message: 'not signed in', status: 0 };
}
