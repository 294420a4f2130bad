/**
 * One client socket: its identity, joined topics, limits and outbound backpressure.
 * A connection never throws into the server: every failure ends in a reply or a close.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '../protocol/errors.js';
import type { RelayLimits } from '../core/options.js';
import type { StoredUser } from '../core/store.js';
import { frameWriter, PreparedFrame, SplicedFrame, type FrameWriter } from './prepared-frame.js';
import { TokenBucket } from '../core/token-bucket.js';
import { flushAtTaskEnd, type WriteBatch } from './write-batch.js';

/**
 * A text frame: a string, UTF-8 bytes, a broadcast's frame prepared once for every receiver, or
 * a frame spliced around bytes shared by many receivers (prepared-frame.ts).
 */
export type OutboundFrame = string | Buffer | PreparedFrame | SplicedFrame;

/**
 * One joined (or joining) topic of one connection. Here, not in hub.ts, so that a connection's
 * subscriptions and the hub that holds them do not import each other.
 */
export interface Subscription {
  readonly topic: string;
  readonly joinRef: string;
  readonly connection: Connection;
  /**
   * While the join is being answered, live frames wait here (with the seq they carry, if any)
   * so that the join reply always comes first and nothing is sent twice. Null once joined.
   */
  held: { frame: OutboundFrame; seq: number | undefined }[] | null;
}

/** ws.send's options for every frame: text, never compressed (permessage-deflate is off). */
const TEXT_FRAME = { binary: false } as const;

/** Inbound frames waiting to be handled on one connection. */
export const MAX_INBOX_FRAMES = 256;

/**
 * How long a closed connection's peer has to answer the close handshake (or, a slow reader, to
 * read up to the close frame) before its socket is cut; also the relay's shutdown deadline.
 */
export const CLOSE_HANDSHAKE_GRACE_MS = 2_000;

export interface ConnectionInit {
  id: string;
  socket: WebSocket;
  /** The TCP socket under `socket` (the upgrade's), corked to batch writes; see write-batch.ts. */
  transport?: Duplex;
  user: StoredUser;
  deviceId: string;
  language: string;
  remoteAddress: string;
  limits: RelayLimits;
  logger: Logger;
}

export class Connection implements WriteBatch {
  readonly id: string;
  readonly user: StoredUser;
  readonly deviceId: string;
  readonly language: string;
  readonly remoteAddress: string;
  readonly connectedAt = new Date();
  /** Topic → subscription, for topics joined or being joined. */
  readonly subscriptions = new Map<string, Subscription>();
  readonly messages: TokenBucket;
  readonly typing: TokenBucket;
  readonly frames: TokenBucket;
  lastSeenAt = Date.now();
  #closed = false;
  readonly #socket: WebSocket;
  readonly #transport: Duplex | null;
  /** Writes prepared frames straight to #transport while ws is idle (prepared-frame.ts). */
  readonly #writer: FrameWriter | null;
  /** True while #transport is corked for this task's frames (write-batch.ts uncorks it). */
  #corked = false;
  /** bufferedAmount when this task's batch began: what the peer had not read yet. */
  #backlog = 0;
  readonly #limits: RelayLimits;
  readonly #logger: Logger;
  readonly #strikes: number[] = [];
  #inbox: Promise<void> = Promise.resolve();
  #inboxSize = 0;

  constructor(init: ConnectionInit) {
    this.id = init.id;
    this.user = init.user;
    this.deviceId = init.deviceId;
    this.language = init.language;
    this.remoteAddress = init.remoteAddress;
    this.#socket = init.socket;
    this.#transport = init.transport ?? null;
    this.#writer = this.#transport === null ? null : frameWriter(init.socket, this.#transport);
    this.#limits = init.limits;
    this.#logger = init.logger;
    this.messages = new TokenBucket(init.limits.messagesPerSecond, init.limits.messageBurst);
    this.typing = new TokenBucket(init.limits.typingPerSecond, init.limits.typingBurst);
    this.frames = new TokenBucket(init.limits.framesPerSecond, init.limits.frameBurst);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes queued for this client that the kernel has not taken yet (ws's bufferedAmount). */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  /**
   * Queues one text frame. A client that stops reading is cut off once its queue passes
   * maxBufferedBytes, so one slow reader never grows the relay's memory.
   *
   * Frames sent during one task are batched into one writev (write-batch.ts): the first corks
   * the TCP socket and the task's end uncorks it. Corked bytes are ours, not the peer's backlog,
   * so the slow-consumer check looks at the backlog from before the batch; a batch that reaches
   * maxBufferedBytes is handed to the kernel early, so it stays bounded too.
   */
  send(frame: OutboundFrame): boolean {
    if (this.#closed) return false;
    const max = this.#limits.maxBufferedBytes;
    const transport = this.#transport;
    if (transport === null || !this.#corked) {
      const buffered = this.#socket.bufferedAmount;
      if (buffered > max) {
        this.closeSlowConsumer();
        return false;
      }
      if (transport !== null) {
        this.#corked = true;
        this.#backlog = buffered;
        transport.cork();
        flushAtTaskEnd(this);
      }
    } else if (this.#socket.bufferedAmount - this.#backlog > max) {
      transport.uncork();
      transport.cork();
      this.#backlog = this.#socket.bufferedAmount;
      if (this.#backlog > max) {
        this.closeSlowConsumer();
        return false;
      }
    }
    if (frame instanceof PreparedFrame || frame instanceof SplicedFrame) {
      // Written straight to the socket as framed; ws.send (header and payload as two chunks)
      // when ws is not idle.
      if (this.#writer === null || !this.#writer.write(frame))
        this.#socket.send(frame.payload, TEXT_FRAME);
    } else {
      this.#socket.send(frame, TEXT_FRAME);
    }
    return true;
  }

  /** Writes the frames batched during this task (called by write-batch.ts). */
  flushWrites(): void {
    this.#corked = false;
    this.#transport?.uncork();
  }

  /**
   * Runs inbound frames one after another, so a client's sends are stored in the order it sent
   * them. Returns false when too many frames are waiting (the caller closes the connection).
   */
  enqueue(task: () => Promise<void>): boolean {
    if (this.#inboxSize >= MAX_INBOX_FRAMES) return false;
    this.#inboxSize += 1;
    this.#inbox = this.#inbox.then(task).finally(() => {
      this.#inboxSize -= 1;
    });
    return true;
  }

  /**
   * Records a limit breach (the caller already answered it). Returns true when the breaches in
   * the last minute passed strikesPerMinute and the connection was closed with 1008.
   */
  strike(reason: string, now: number = Date.now()): boolean {
    this.#strikes.push(now);
    while (this.#strikes.length > 0 && (this.#strikes[0] ?? now) <= now - 60_000)
      this.#strikes.shift();
    if (this.#strikes.length <= this.#limits.strikesPerMinute) return false;
    this.#logger.warn({ conn: this.id, user: this.user.id, reason }, 'closing flooding connection');
    this.close(CLOSE_CODES.POLICY_VIOLATION, 'rate_limited');
    return true;
  }

  closeSlowConsumer(): void {
    if (this.#closed) return;
    this.#logger.warn(
      { conn: this.id, user: this.user.id, buffered: this.#socket.bufferedAmount },
      'closing slow consumer',
    );
    // Nothing more is queued from here on; the close frame waits behind the backlog and the
    // socket is cut after the grace period if the peer still does not read.
    this.close(CLOSE_CODES.SLOW_CONSUMER, 'slow_consumer');
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close(code, reason);
    // A peer that never answers the close handshake is cut after a grace period.
    setTimeout(() => this.#socket.terminate(), CLOSE_HANDSHAKE_GRACE_MS).unref();
  }

  /** Marks the socket gone (the server saw it close). */
  markClosed(): void {
    this.#closed = true;
  }
}
