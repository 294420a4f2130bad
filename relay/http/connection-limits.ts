/**
 * Bounds on TCP connections before they are WebSockets or answered HTTP requests, where no token
 * has been checked yet: how long a client may take to send its request (slowloris), and how
 * many connections one client address may hold at once. Documented in PROTOCOL.md ("Limits").
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import { clientAddress, isTrustedProxy, limitKey, type TrustProxy } from '../core/trust-proxy.js';

/**
 * Explicit HTTP server timeouts (Node's defaults let a silent or trickling connection live for
 * up to 90 s: headersTimeout 60 s, checked every 30 s). WebSockets are not affected: an upgraded
 * socket leaves the HTTP server's timeout bookkeeping.
 */
export const HTTP_SERVER_TIMEOUTS = {
  /** A request's headers, and the first request of a connection that sends nothing, within 10 s. */
  headersTimeout: 10_000,
  /** A whole request, body included (at most maxHttpBodyBytes), within 30 s. */
  requestTimeout: 30_000,
  /** An idle keep-alive connection is closed after 5 s (Node's default, made explicit). */
  keepAliveTimeout: 5_000,
  /** How often the two timeouts above are checked. */
  connectionsCheckingInterval: 1_000,
  /** With TLS: the handshake within 10 s (Node's default is 120 s). */
  handshakeTimeout: 10_000,
} as const;

/** How long a refused connection may take to read its 429 before it is cut. */
const REFUSED_GRACE_MS = 1_000;
/** At most one warning per this period: a flood of refusals must not become a flood of logs. */
const WARN_EVERY_MS = 10_000;

const REFUSAL_BODY = JSON.stringify({
  error: { code: 'rate_limited', message: 'too many connections from this address' },
});
const REFUSAL = [
  'HTTP/1.1 429 rate_limited',
  'Content-Type: application/json',
  `Content-Length: ${Buffer.byteLength(REFUSAL_BODY)}`,
  'Connection: close',
  '',
  REFUSAL_BODY,
].join('\r\n');

/**
 * Counts open TCP connections (HTTP and WebSocket alike) per client address and refuses those
 * beyond `max`: over plain HTTP with `429 rate_limited` written at once (before the request is
 * read), over TLS by closing before the handshake. A refused socket's request, if one arrives
 * anyway, must not be served: the HTTP handler asks `refused()`.
 *
 * Connections from a trusted proxy (`trust`, relay/core/trust-proxy.ts) carry many clients: they are
 * not counted as the proxy's; each request and WebSocket upgrade on them counts under its
 * forwarded client address instead, while it lasts (`admitForwarded`).
 */
export class AddressLimit {
  readonly #counts = new Map<string, number>();
  readonly #refused = new WeakSet<Socket>();
  #warnedAt = 0;

  constructor(
    readonly max: number,
    readonly logger: Logger,
    readonly trust: TrustProxy | null = null,
  ) {}

  /** Starts counting the server's connections; before any other listener sees them. */
  attach(server: Server): void {
    const tls = server instanceof TlsServer;
    server.prependListener('connection', (socket: Socket) => this.#admit(socket, tls));
  }

  /** True for a connection refused by this limit (its requests get no answer). */
  refused(socket: Socket): boolean {
    return this.#refused.has(socket);
  }

  /**
   * Behind a trusted proxy: counts `req` (an HTTP request, or an upgrade) under its forwarded
   * client address until `until` (its response, or its socket) closes; false when that address
   * already holds `max` (the caller answers 429). Requests from other peers were counted when
   * their connection opened: always true.
   */
  admitForwarded(req: IncomingMessage, until: EventEmitter): boolean {
    if (!isTrustedProxy(req.socket.remoteAddress ?? '', this.trust)) return true;
    const key = this.#take(clientAddress(req, this.trust));
    if (key === null) return false;
    until.once('close', () => this.#release(key));
    return true;
  }

  /**
   * Counts one more for `address` under its key (an IPv6 address under its /64: limitKey) and
   * returns the key to release it by; null (and a rate-limited warning) when that key is full.
   */
  #take(address: string): string | null {
    const key = limitKey(address);
    const count = this.#counts.get(key) ?? 0;
    if (count < this.max) {
      this.#counts.set(key, count + 1);
      return key;
    }
    const now = Date.now();
    const level = now - this.#warnedAt >= WARN_EVERY_MS ? 'warn' : 'debug';
    if (level === 'warn') this.#warnedAt = now;
    this.logger[level]({ address, open: count }, 'too many connections from one address');
    return null;
  }

  #release(key: string): void {
    const left = (this.#counts.get(key) ?? 1) - 1;
    if (left <= 0) this.#counts.delete(key);
    else this.#counts.set(key, left);
  }

  #admit(socket: Socket, tls: boolean): void {
    const address = socket.remoteAddress ?? '';
    // A trusted proxy's connections are counted per forwarded client (admitForwarded).
    if (isTrustedProxy(address, this.trust)) return;
    const key = this.#take(address);
    if (key === null) {
      this.#refused.add(socket);
      socket.on('error', (error) => this.logger.debug({ err: error }, 'refused socket error'));
      if (tls) socket.destroy();
      else socket.end(REFUSAL);
      setTimeout(() => socket.destroy(), REFUSED_GRACE_MS).unref();
      return;
    }
    socket.once('close', () => this.#release(key));
  }
}
