/**
 * The socket to the relay: one `phoenix` Socket at a time, reconnected with full-jitter backoff,
 * moved to the next URL of a cluster profile after `attemptsPerUrl` failures in a row, and told
 * apart from a refused token (an error, not "offline"). The HTTP client follows the URL in use.
 */
import { Socket } from 'phoenix';
import type { ParleyStore } from '../state/store.js';
import { ApiClient } from './api-client.js';
import type { SavedSession } from './session.js';

export interface ConnectionOptions {
  store: ParleyStore;
  deviceId: () => string;
  transport: typeof WebSocket | undefined;
  fetchImpl: typeof fetch | undefined;
  backoff: (attempt: number) => number;
  pushTimeoutMs: number;
  attemptsPerUrl: number;
  /** A new socket exists (not yet connected): join its topics. */
  onSocket: (socket: Socket, session: SavedSession) => void;
  /** The socket connected (again). */
  onOpen: () => void;
  /** The socket is being dropped: forget its channels. */
  onDrop: () => void;
}

function socketUrl(serverUrl: string): string {
  return `${serverUrl.replace(/^http/, 'ws')}/socket`;
}

export class Connection {
  #session: SavedSession | null = null;
  #socket: Socket | null = null;
  #api: ApiClient | null = null;
  #urlIndex = 0;
  #failures = 0;

  constructor(private readonly o: ConnectionOptions) {}

  /** The HTTP client for the URL in use; null when no session. */
  get api(): ApiClient | null {
    return this.#api;
  }

  get socket(): Socket | null {
    return this.#socket;
  }

  /** Takes a session: HTTP at its first URL at once, the socket when `connect` is called. */
  use(session: SavedSession): void {
    this.close();
    this.#session = session;
    this.#urlIndex = 0;
    this.#api = new ApiClient(session.serverUrls[0] ?? '', session.token, this.o.fetchImpl);
  }

  /** Forgets the session (sign-out). */
  reset(): void {
    this.close();
    this.#session = null;
  }

  connect(): void {
    const session = this.#session;
    if (session === null || this.#socket !== null) return;
    const url = session.serverUrls[this.#urlIndex % session.serverUrls.length] ?? '';
    this.#api = new ApiClient(url, session.token, this.o.fetchImpl);
    const socket = new Socket(socketUrl(url), {
      params: () => ({
        token: session.token,
        device_unique_id: this.o.deviceId(),
        preferred_language: 'EN',
      }),
      ...(this.o.transport === undefined ? {} : { transport: this.o.transport }),
      reconnectAfterMs: this.o.backoff,
      rejoinAfterMs: this.o.backoff,
      timeout: this.o.pushTimeoutMs,
    });
    this.#socket = socket;
    const actions = () => this.o.store.getState().actions;
    socket.onOpen(() => {
      if (this.#socket !== socket) return;
      this.#failures = 0;
      actions().setStatus('online');
      this.o.onOpen();
    });
    socket.onError(() => {
      if (this.#socket !== socket) return;
      this.#failures += 1;
      if (this.o.store.getState().status !== 'error') {
        actions().setStatus('offline', { code: 'unreachable', message: `Cannot reach ${url}` });
      }
      void this.#checkAuth(socket);
      if (session.serverUrls.length > 1 && this.#failures >= this.o.attemptsPerUrl) this.#rotate();
    });
    socket.onClose(() => {
      if (this.#socket !== socket) return;
      if (this.o.store.getState().status === 'online') actions().setStatus('offline');
    });
    this.o.onSocket(socket, session);
    socket.connect();
  }

  /** Retries at once instead of waiting out the backoff (the OS says the network is back). */
  reconnectNow(): void {
    const socket = this.#socket;
    if (socket === null || socket.isConnected()) return;
    socket.disconnect(() => socket.connect());
  }

  /** Drops the socket and its channels; the session stays (connect again to resume). */
  close(): void {
    this.o.onDrop();
    const socket = this.#socket;
    this.#socket = null;
    socket?.disconnect();
  }

  /** Moves to the next URL of the profile: a new socket, every chat rejoined from its seq. */
  #rotate(): void {
    this.#failures = 0;
    this.#urlIndex += 1;
    this.close();
    this.connect();
  }

  async #checkAuth(socket: Socket): Promise<void> {
    const me = await this.#api?.me();
    if (me !== undefined && !me.ok && me.code === 'unauthorized' && this.#socket === socket) {
      this.close();
      this.o.store.getState().actions.setStatus('error', {
        code: 'unauthorized',
        message:
          'The server refused your sign-in (the token expired or was revoked). Sign in again.',
      });
    }
  }
}
