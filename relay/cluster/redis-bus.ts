/**
 * The cluster Bus: Redis pub/sub (ioredis) on one channel shared by every node.
 *
 * Redis is a fast path, never the source of truth. Events reach this node's own handlers
 * synchronously, exactly as with LocalBus, whether Redis is up or not; other nodes get them
 * through Redis. Nothing waits for Redis: while it is unreachable, publishes are dropped (and
 * counted) instead of queued, and at most `maxInFlight` publishes may await Redis's answer, so
 * no buffer grows without bound. Losses are noticed, not silent: every envelope carries its
 * node's counter, so a receiver sees the jump, and after Redis comes back the subscriber
 * resubscribes by itself. Both raise `onRecover`, on which the node re-reads what it may have
 * missed from the store (see catch-up.ts and cluster-state.ts). Clients detect seq gaps too.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BusEvent } from '../core/bus.js';
import type { ClusterBus, ControlHandler, ControlSender, RecoverReason } from './cluster-bus.js';
import { envelopeSchema, type ControlMessage, type Envelope } from './cluster-wire.js';
import { SeqOrder } from './seq-order.js';

/** The bus events that hold a place in a chat's stream. */
type StreamEvent = Extract<BusEvent, { type: 'message' | 'change' }>;

/** What the bus counts (node/metrics.ts's BusMetrics has these): a cluster node passes its own. */
export interface BusMetrics {
  busDropped: { inc(labels: { reason: string }): void };
  busEvents: { inc(labels: { direction: 'in' | 'out'; kind: string }): void };
  busLag: { observe(seconds: number): void };
  error(kind: 'bus_publish' | 'bus_decode' | 'bus_connection'): void;
}

export interface RedisBusOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  nodeId: string;
  logger: Logger;
  metrics?: BusMetrics | undefined;
  /** Pub/sub channel shared by the nodes of one cluster. */
  channel?: string;
  /** Publishes awaiting Redis's reply; beyond this, new ones are dropped. */
  maxInFlight?: number;
  /** Longest wait between reconnection attempts (attempts back off with full jitter). */
  reconnectMaxMs?: number;
  /** How long `connect` waits for Redis before the node starts anyway (and keeps retrying). */
  connectTimeoutMs?: number;
  /** Peers remembered for gap detection; the least recently heard beyond this are forgotten. */
  maxPeers?: number;
  /** How long a message that overtook its predecessor waits for it (seq-order.ts). */
  orderHoldMs?: number;
}

export const REDIS_BUS_DEFAULTS = {
  channel: 'parley:bus',
  maxInFlight: 10_000,
  reconnectMaxMs: 2_000,
  connectTimeoutMs: 5_000,
  maxPeers: 1_000,
  orderHoldMs: 100,
} as const;

interface Peer {
  boot: string;
  counter: number;
}

/** Full-jitter exponential backoff with a cap (STYLE.md: no thundering herd after a restart). */
export function reconnectDelay(attempt: number, capMs: number): number {
  const ceiling = Math.min(capMs, 50 * 2 ** Math.min(attempt, 16));
  return Math.max(10, Math.round(Math.random() * ceiling));
}

export class RedisBus implements ClusterBus {
  readonly nodeId: string;
  /** Changes with every start of this process, so peers can tell a restart from a gap. */
  readonly bootId = randomUUID();
  readonly #options: Required<Omit<RedisBusOptions, 'metrics'>> & { metrics: BusMetrics | null };
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #handlers = new Set<(event: BusEvent) => void>();
  readonly #controlHandlers = new Set<ControlHandler>();
  readonly #recoverHandlers = new Set<(reason: RecoverReason) => void>();
  readonly #peers = new Map<string, Peer>();
  #counter = 0;
  #inFlight = 0;
  #subscribed = false;
  #everSubscribed = false;
  #closed = false;
  #lastWarning = '';
  /** Callers of whenConnected() waiting for both connections. */
  #waiters: (() => void)[] = [];
  /**
   * A chat's stream events (messages, edits, deletes) reach the handlers in the chat's seq
   * order, local and remote alike.
   */
  readonly #order: SeqOrder<StreamEvent>;

  constructor(options: RedisBusOptions) {
    this.#options = { ...REDIS_BUS_DEFAULTS, ...options, metrics: options.metrics ?? null };
    this.nodeId = options.nodeId;
    this.#order = new SeqOrder<StreamEvent>({
      position: (event) =>
        event.type === 'message'
          ? { chatId: event.message.chat_id, seq: event.message.seq }
          : { chatId: event.event.chat_id, seq: event.event.seq },
      holdMs: this.#options.orderHoldMs,
      deliver: (event) => this.#dispatch(event),
    });
    const common = {
      // Fail at once rather than queue while disconnected: the queue would be unbounded.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // This class resubscribes itself, so it knows when the subscription is back.
      autoResubscribe: false,
      lazyConnect: true,
      retryStrategy: (attempt: number) => reconnectDelay(attempt, this.#options.reconnectMaxMs),
    };
    this.#publisher = new Redis(options.url, {
      ...common,
      connectionName: `parley-pub-${this.nodeId}`,
    });
    this.#subscriber = new Redis(options.url, {
      ...common,
      connectionName: `parley-sub-${this.nodeId}`,
    });
    for (const [role, client] of [
      ['publisher', this.#publisher],
      ['subscriber', this.#subscriber],
    ] as const) {
      client.on('error', (error: Error) => this.#warn(role, error));
      client.on('ready', () => this.#options.logger.info({ role }, 'redis connected'));
    }
    this.#subscriber.on('ready', () => void this.#subscribe());
    this.#publisher.on('ready', () => this.#wakeWaiters());
    this.#subscriber.on('close', () => {
      if (this.#subscribed) this.#options.logger.warn('redis subscription lost');
      this.#subscribed = false;
    });
    this.#subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.#options.channel) this.#receive(text);
    });
  }

  /**
   * Connects both connections and subscribes. Waits at most `connectTimeoutMs`; a node whose
   * Redis is not there yet still starts (not ready at /readyz) and keeps retrying.
   */
  async connect(): Promise<void> {
    const subscribed = this.whenConnected();
    for (const client of [this.#publisher, this.#subscriber]) {
      client.connect().catch((error: unknown) => this.#warn('connect', error));
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.#options.connectTimeoutMs);
    });
    const late = await Promise.race([subscribed.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      this.#options.logger.warn(
        { timeoutMs: this.#options.connectTimeoutMs },
        'redis not reachable yet; starting anyway and retrying',
      );
    }
  }

  /** Resolves once both connections are up and the subscription is active (or on close). */
  whenConnected(): Promise<void> {
    if (this.connected || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wakeWaiters(): void {
    if (!this.connected && !this.#closed) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  /** True while both connections are up and the subscription is active. */
  get connected(): boolean {
    return (
      this.#subscribed && this.#publisher.status === 'ready' && this.#subscriber.status === 'ready'
    );
  }

  /** Readiness: connected, and Redis answers a PING within `timeoutMs`. */
  async ready(timeoutMs = 1_000): Promise<boolean> {
    if (!this.connected) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.#publisher.ping().then((answer) => answer === 'PONG'),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
    } catch {
      // Not connected at this instant: not ready; the client reconnects by itself.
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Other nodes heard from since start (bounded by `maxPeers`). */
  get peerCount(): number {
    return this.#peers.size;
  }

  /** Forgets a peer that left or expired, so its next boot starts a fresh stream. */
  forgetPeer(node: string): void {
    this.#peers.delete(node);
  }

  publish(event: BusEvent): void {
    // Sent first: a handler that throws must not keep the other nodes from hearing of it.
    this.#send({ e: event }, 'event');
    if (event.type === 'message' || event.type === 'change') this.#order.push(event);
    else for (const handler of this.#handlers) handler(event);
  }

  subscribe(handler: (event: BusEvent) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Sends a control message to the other nodes only (see cluster-state.ts). */
  publishControl(message: ControlMessage): void {
    this.#send({ c: message }, 'control');
  }

  onControl(handler: ControlHandler): () => void {
    this.#controlHandlers.add(handler);
    return () => this.#controlHandlers.delete(handler);
  }

  /** Called after bus traffic may have been lost: resubscribed after an outage, or a peer gap. */
  onRecover(handler: (reason: RecoverReason) => void): () => void {
    this.#recoverHandlers.add(handler);
    return () => this.#recoverHandlers.delete(handler);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const resolve of this.#waiters.splice(0)) resolve();
    this.#handlers.clear();
    this.#controlHandlers.clear();
    this.#recoverHandlers.clear();
    // QUIT answers after the publishes already sent; when Redis is gone, just drop the sockets.
    await Promise.all(
      [this.#publisher, this.#subscriber].map((client) =>
        client.status === 'ready'
          ? client.quit().then(
              () => undefined,
              () => client.disconnect(),
            )
          : client.disconnect(),
      ),
    );
  }

  #send(body: Pick<Envelope, 'e' | 'c'>, kind: 'event' | 'control'): void {
    if (this.#closed) return;
    // Counted even when dropped: the peers then see the jump and recover.
    this.#counter += 1;
    const metrics = this.#options.metrics;
    if (this.#publisher.status !== 'ready') {
      metrics?.busDropped.inc({ reason: 'disconnected' });
      return;
    }
    if (this.#inFlight >= this.#options.maxInFlight) {
      metrics?.busDropped.inc({ reason: 'buffer_full' });
      return;
    }
    const envelope: Envelope = {
      v: 1,
      n: this.nodeId,
      b: this.bootId,
      s: this.#counter,
      t: Date.now(),
      ...body,
    };
    this.#inFlight += 1;
    this.#publisher.publish(this.#options.channel, JSON.stringify(envelope)).then(
      () => {
        this.#inFlight -= 1;
        metrics?.busEvents.inc({ direction: 'out', kind });
      },
      (error: unknown) => {
        this.#inFlight -= 1;
        metrics?.busDropped.inc({ reason: 'publish_failed' });
        metrics?.error('bus_publish');
        this.#warn('publish', error);
      },
    );
  }

  async #subscribe(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#subscriber.subscribe(this.#options.channel);
    } catch (error) {
      // The connection dropped again before the subscription: the next 'ready' retries.
      this.#warn('subscribe', error);
      return;
    }
    this.#subscribed = true;
    this.#lastWarning = '';
    this.#wakeWaiters();
    if (this.#everSubscribed) {
      this.#options.logger.info({ channel: this.#options.channel }, 'redis resubscribed');
      this.#recover('resubscribed');
    }
    this.#everSubscribed = true;
  }

  #receive(text: string): void {
    const metrics = this.#options.metrics;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    const checked = envelopeSchema.safeParse(parsed);
    if (!checked.success) {
      metrics?.error('bus_decode');
      this.#options.logger.warn({ err: checked.error.message }, 'bad bus envelope ignored');
      return;
    }
    const envelope = checked.data;
    if (envelope.n === this.nodeId) {
      // Our own publishes were delivered locally already. Another boot with our id is a
      // misconfigured cluster (two nodes with one PARLEY_NODE_ID): say so.
      if (envelope.b !== this.bootId) this.#warn('node id', new Error('another node uses this id'));
      return;
    }
    metrics?.busLag.observe(Math.max(0, Date.now() - envelope.t) / 1000);
    metrics?.busEvents.inc({
      direction: 'in',
      kind: envelope.e === undefined ? 'control' : 'event',
    });
    const peer = this.#peers.get(envelope.n);
    const fresh = peer === undefined || peer.boot !== envelope.b;
    const gap = !fresh && envelope.s !== peer.counter + 1;
    // Re-insert: the map is kept in least-recently-heard order for the bound below.
    this.#peers.delete(envelope.n);
    this.#peers.set(envelope.n, {
      boot: envelope.b,
      counter: fresh ? envelope.s : Math.max(peer.counter, envelope.s),
    });
    if (this.#peers.size > this.#options.maxPeers) {
      const oldest = this.#peers.keys().next();
      if (oldest.done !== true) this.#peers.delete(oldest.value);
    }
    if (gap) {
      metrics?.busDropped.inc({ reason: 'peer_gap' });
      this.#options.logger.warn(
        { peer: envelope.n, expected: (peer?.counter ?? 0) + 1, got: envelope.s },
        'bus gap detected',
      );
      this.#recover('gap');
    }
    if (envelope.e !== undefined) {
      if (envelope.e.type === 'message' || envelope.e.type === 'change') {
        this.#order.push(envelope.e);
      } else this.#dispatch(envelope.e);
    }
    if (envelope.c !== undefined) {
      const from: ControlSender = { node: envelope.n, boot: envelope.b, fresh, gap };
      for (const handler of this.#controlHandlers) {
        try {
          handler(envelope.c, from);
        } catch (error) {
          this.#options.logger.error({ err: error }, 'control handler failed');
        }
      }
    }
  }

  /** Hands an event from another node (or a held one) to every handler; one failing is logged. */
  #dispatch(event: BusEvent): void {
    for (const handler of this.#handlers) {
      try {
        handler(event);
      } catch (error) {
        this.#options.logger.error({ err: error, type: event.type }, 'bus handler failed');
      }
    }
  }

  #recover(reason: RecoverReason): void {
    for (const handler of this.#recoverHandlers) {
      try {
        handler(reason);
      } catch (error) {
        this.#options.logger.error({ err: error, reason }, 'recover handler failed');
      }
    }
  }

  /** Logs a Redis problem once per distinct message (a down Redis would repeat it every retry). */
  #warn(context: string, error: unknown): void {
    const message = `${context}: ${error instanceof Error ? error.message : String(error)}`;
    if (message === this.#lastWarning) return;
    this.#lastWarning = message;
    if (context !== 'publish') this.#options.metrics?.error('bus_connection');
    this.#options.logger.warn({ err: message }, 'redis bus problem');
  }
}
