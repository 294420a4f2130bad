/**
 * HTTP output bounded per connection, the way `maxBufferedBytes` bounds a WebSocket's
 * (PROTOCOL.md, "Limits"):
 *
 * - **One answer at a time.** Node's HTTP server parses every pipelined request that arrives in
 *   one read and calls the handler for each at once, queueing their answers in memory until
 *   the ones before them are sent. So a connection that pipelined 100 history requests and
 *   never read made the relay build and hold 100 answers. Here a request is handled only once
 *   the answer before it on its connection was handed to the kernel; at most
 *   MAX_PIPELINED_REQUESTS may wait behind it, and a connection that pipelines more is closed.
 * - **A client that does not read is cut off.** Unsent output that makes no progress (no
 *   'drain') for HTTP_WRITE_STALL_MS, or that passes maxBufferedBytes, closes the connection.
 *
 * Together with history pages bounded by bytes (history-page.ts), one HTTP connection holds at
 * most about one answer (≤ maxPageBytes plus one message) of the relay's memory.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { RateLimitedLog } from '../core/rate-limited-log.js';

/** Requests one connection may have waiting behind the one being answered. */
export const MAX_PIPELINED_REQUESTS = 16;
/** Unsent output with no progress for this long closes the connection. */
export const HTTP_WRITE_STALL_MS = 10_000;
/** How often connections with unsent output are checked. */
const SWEEP_INTERVAL_MS = 1_000;
/** At most one warning per this period: a flood of cut connections is not a flood of logs. */
const WARN_EVERY_MS = 10_000;

interface ConnectionState {
  readonly socket: Socket;
  /** An answer is being made or sent. */
  busy: boolean;
  /** Requests parsed behind it, each waiting for its turn. */
  readonly waiting: (() => void)[];
  /** Waiting for the socket to drain before the next request. */
  draining: boolean;
  /** When the last answer started or the socket last drained. */
  progressAt: number;
}

export interface HttpOutputOptions {
  /** Unsent bytes one connection may hold at most (the WebSocket bound, `maxBufferedBytes`). */
  maxBufferedBytes: number;
  logger: Logger;
  /** HTTP_WRITE_STALL_MS unless given (tests). */
  stallMs?: number;
}

export class HttpOutputGuard {
  readonly #states = new WeakMap<Socket, ConnectionState>();
  /** Connections with an answer in progress: the only ones the sweep looks at. */
  readonly #busy = new Set<ConnectionState>();
  readonly #maxBufferedBytes: number;
  readonly #stallMs: number;
  readonly #log: RateLimitedLog;
  readonly #timer: NodeJS.Timeout;

  constructor(options: HttpOutputOptions) {
    this.#maxBufferedBytes = options.maxBufferedBytes;
    this.#stallMs = options.stallMs ?? HTTP_WRITE_STALL_MS;
    this.#log = new RateLimitedLog({
      logger: options.logger,
      intervalMs: WARN_EVERY_MS,
      level: 'warn',
      message: 'http connections closed: unsent output or pipelined requests over the bound',
      recoveredMessage: 'http connections read their answers again',
      countField: 'closed',
    });
    this.#timer = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  /**
   * Calls `answer` once every request before this one on its connection has been answered and
   * its output handed to the kernel; `res` closing (answered or cut) lets the next one go.
   */
  run(req: IncomingMessage, res: ServerResponse, answer: () => void): void {
    const { socket } = req;
    if (socket.destroyed) return;
    const state = this.#states.get(socket) ?? this.#track(socket);
    if (!state.busy) return this.#start(state, res, answer);
    if (state.waiting.length >= MAX_PIPELINED_REQUESTS) {
      this.#cut(state, 'too many pipelined requests');
      return;
    }
    state.waiting.push(() => this.#start(state, res, answer));
  }

  /** Stops the sweep (the relay is closing). */
  close(): void {
    clearInterval(this.#timer);
  }

  #track(socket: Socket): ConnectionState {
    const state: ConnectionState = {
      socket,
      busy: false,
      waiting: [],
      draining: false,
      progressAt: Date.now(),
    };
    this.#states.set(socket, state);
    socket.on('drain', () => {
      state.progressAt = Date.now();
      if (state.draining) {
        state.draining = false;
        this.#next(state);
      }
    });
    socket.once('close', () => {
      state.waiting.length = 0;
      this.#busy.delete(state);
    });
    return state;
  }

  #start(state: ConnectionState, res: ServerResponse, answer: () => void): void {
    if (state.socket.destroyed) return;
    state.busy = true;
    state.progressAt = Date.now();
    this.#busy.add(state);
    // 'close' follows both a finished answer and a cut connection.
    res.once('close', () => this.#answered(state));
    answer();
  }

  #answered(state: ConnectionState): void {
    const { socket } = state;
    if (socket.destroyed) return;
    if (socket.writableLength > this.#maxBufferedBytes) {
      this.#cut(state, 'unsent output over maxBufferedBytes');
      return;
    }
    // Small leftovers go out with the next answer; more waits until the kernel took it.
    if (socket.writableLength > socket.writableHighWaterMark) {
      state.draining = true;
      return;
    }
    this.#next(state);
  }

  #next(state: ConnectionState): void {
    state.busy = false;
    const next = state.waiting.shift();
    if (next === undefined) this.#busy.delete(state);
    else next();
  }

  #sweep(): void {
    const now = Date.now();
    for (const state of this.#busy) {
      const pending = state.socket.writableLength;
      if (pending > this.#maxBufferedBytes) {
        this.#cut(state, 'unsent output over maxBufferedBytes');
      } else if (pending > 0 && now - state.progressAt > this.#stallMs) {
        this.#cut(state, 'client stopped reading');
      }
    }
  }

  #cut(state: ConnectionState, reason: string): void {
    this.#log.occurred({
      address: state.socket.remoteAddress,
      pending: state.socket.writableLength,
      waiting: state.waiting.length,
      reason,
    });
    state.waiting.length = 0;
    this.#busy.delete(state);
    state.socket.destroy();
  }
}
