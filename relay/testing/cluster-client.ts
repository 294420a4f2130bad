/**
 * A small reconnecting client for cluster tests, doing what the product client does on
 * failover: it rotates over the node URLs when a connection fails, rejoins every chat with
 * `since_seq` = the last seq it has, backfills gaps over `GET /api/chats/:id/messages?after_seq=`,
 * drops seqs it already has, and resends unacknowledged messages with their `mobile_ref_id`
 * (the relay answers a resend of a stored message as a duplicate, so each is stored once).
 *
 * Per chat it keeps `delivered`: every message exactly once, in seq order, without gaps. It
 * speaks raw Phoenix V2 frames over `ws`, so tests see every frame (and count duplicates).
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type {
  ChatJoinReply,
  MessageSent,
  PresenceDiff,
  PresenceMeta,
  PresenceState,
  WireMessage,
} from '../protocol/events.js';

export interface ClusterClientOptions {
  /** Base HTTP URLs of the nodes (or of one load balancer), e.g. http://127.0.0.1:4000. */
  urls: string[];
  token: string;
  user: { id: string; name: string };
  chats: string[];
  device?: string;
  /** Delay before reconnection attempt N (0-based). Defaults to full jitter up to 200 ms. */
  backoffMs?: (attempt: number) => number;
  /** Heartbeat interval (the relay closes silent sockets). */
  heartbeatMs?: number;
}

/** One connection loss and the time until every chat was joined again. */
export interface Failover {
  fromUrl: string;
  toUrl: string;
  lostAt: number;
  rejoinedAt: number;
}

interface Outgoing {
  chatId: string;
  content: string;
  ref: string;
  sentAt: number;
  /** Resolves on the first `message_sent` (sendOnce) or on `sent` (send). */
  settle: (ack: MessageSent) => void;
  reliable: boolean;
}

type Frame = [string | null, string | null, string, string, Record<string, unknown>];

const RETRYABLE = new Set(['storage_error', 'overloaded', 'rate_limited']);
/** Out-of-order messages held per chat while a gap is backfilled. */
const MAX_BUFFERED = 10_000;

export class ClusterClient extends EventEmitter {
  readonly options: Required<ClusterClientOptions>;
  /** Per chat: every message once, in seq order (1, 2, 3, ...). */
  readonly delivered = new Map<string, WireMessage[]>();
  /** Acknowledgements (`status: "sent"`), by mobile_ref_id. */
  readonly acks = new Map<string, MessageSent>();
  readonly typing = new Map<string, string[]>();
  /** Per chat topic: user id → phx_ref → meta. */
  readonly presence = new Map<string, Map<string, Map<string, PresenceMeta>>>();
  readonly failovers: Failover[] = [];
  /** receive_message frames whose seq the client already had (the relay may repeat some). */
  wireDuplicates = 0;
  backfills = 0;
  connects = 0;
  /** When each message first reached this client (performance.now()), by message id. */
  readonly receivedAt = new Map<string, number>();

  readonly #buffered = new Map<string, Map<number, WireMessage>>();
  readonly #backfilling = new Map<string, Promise<void>>();
  readonly #outbox = new Map<string, Outgoing>();
  readonly #joinRefs = new Map<string, string>();
  /** Chat topics whose join is not answered yet on the current connection. */
  readonly #pendingJoins = new Set<string>();
  #ws: WebSocket | null = null;
  #urlIndex = 0;
  #ref = 0;
  #attempt = 0;
  #joined = false;
  #closed = false;
  #lostAt: number | null = null;
  #lostUrl = '';
  #heartbeat: NodeJS.Timeout | null = null;
  #sendCounter = 0;

  constructor(options: ClusterClientOptions) {
    super();
    this.setMaxListeners(1_000);
    this.options = {
      device: `device-${options.user.name}`,
      backoffMs: (attempt) => Math.round(Math.random() * Math.min(200, 20 * 2 ** attempt)),
      heartbeatMs: 20_000,
      ...options,
    };
    for (const chatId of options.chats) this.delivered.set(chatId, []);
  }

  /** The node URL in use (or next to be tried). */
  get url(): string {
    return this.options.urls[this.#urlIndex % this.options.urls.length] ?? '';
  }

  get joined(): boolean {
    return this.#joined;
  }

  lastSeq(chatId: string): number {
    return this.delivered.get(chatId)?.at(-1)?.seq ?? 0;
  }

  /** Connects (rotating on failure) and resolves once every chat is joined. */
  async start(urlIndex = 0): Promise<void> {
    this.#urlIndex = urlIndex;
    this.#connect();
    await this.waitFor(() => this.#joined, 15_000, 'the first join');
  }

  /**
   * Sends reliably: resent after reconnects and retryable errors until it is stored; resolves
   * with the `sent` acknowledgement.
   */
  send(chatId: string, content: string, ref = this.#nextRef()): Promise<MessageSent> {
    return this.#queue(chatId, content, ref, true);
  }

  /** Sends once on the current connection; resolves with the first message_sent (sent or error). */
  sendOnce(chatId: string, content: string, ref = this.#nextRef()): Promise<MessageSent> {
    return this.#queue(chatId, content, ref, false);
  }

  setTyping(chatId: string, typing: boolean): void {
    this.#push(`chat:${chatId}`, 'typing', { typing });
  }

  /** User ids present in the chat (any device), sorted. */
  presentIn(chatId: string): string[] {
    return [...(this.presence.get(`chat:${chatId}`)?.keys() ?? [])].sort();
  }

  /** Resolves when `check` holds, re-checked on every change; rejects after `timeoutMs`. */
  waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onChange = (): void => {
        if (!check()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`${this.options.user.name}: timed out waiting for ${what} (${this.summary()})`),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('change', onChange);
      };
      this.on('change', onChange);
    });
  }

  /** The client's state in one line, for failure messages. */
  summary(): string {
    const chats = [...this.delivered.keys()].map((chatId) => {
      const buffered = [...(this.#buffered.get(chatId)?.keys() ?? [])];
      return `${chatId.slice(0, 6)}: last ${this.lastSeq(chatId)}, buffered [${buffered.slice(0, 5).join(',')}${buffered.length > 5 ? ',…' : ''}]${this.#backfilling.has(chatId) ? ', backfilling' : ''}`;
    });
    return `${this.joined ? 'joined' : 'not joined'} at ${this.url}; ${chats.join('; ')}; outbox ${this.#outbox.size}; backfills ${this.backfills}`;
  }

  /** Drops the connection as a network failure would (no close handshake). */
  dropConnection(): void {
    this.#ws?.terminate();
  }

  close(): void {
    this.#closed = true;
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    this.#ws?.terminate();
  }

  // ---- connection -------------------------------------------------------------------------

  #connect(): void {
    if (this.#closed) return;
    const base = this.url;
    const query = new URLSearchParams({
      token: this.options.token,
      device_unique_id: this.options.device,
      vsn: '2.0.0',
    });
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/socket/websocket?${query}`);
    this.#ws = ws;
    this.#joined = false;
    ws.on('open', () => {
      this.connects += 1;
      this.#joinAll(ws);
    });
    ws.on('message', (data) => this.#onFrame(JSON.parse(data.toString()) as Frame));
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
    });
    ws.on('close', () => this.#onLost(ws, base));
    if (this.#heartbeat === null) {
      this.#heartbeat = setInterval(
        () => this.#push('phoenix', 'heartbeat', {}),
        this.options.heartbeatMs,
      );
      this.#heartbeat.unref();
    }
  }

  #onLost(ws: WebSocket, base: string): void {
    if (this.#ws !== ws) return;
    this.#ws = null;
    if (this.#joined || this.#lostAt === null) {
      this.#lostAt = performance.now();
      this.#lostUrl = base;
    }
    this.#joined = false;
    this.emit('change');
    if (this.#closed) return;
    // Next node; with one URL (a load balancer) the same one again.
    this.#urlIndex += 1;
    const delay = this.options.backoffMs(this.#attempt);
    this.#attempt += 1;
    setTimeout(() => this.#connect(), delay).unref();
  }

  #joinAll(ws: WebSocket): void {
    this.#pendingJoins.clear();
    for (const chatId of this.options.chats) {
      const ref = this.#nextFrameRef();
      this.#joinRefs.set(`chat:${chatId}`, ref);
      this.#pendingJoins.add(`chat:${chatId}`);
      ws.send(
        JSON.stringify([
          ref,
          ref,
          `chat:${chatId}`,
          'phx_join',
          { since_seq: this.lastSeq(chatId) },
        ]),
      );
    }
  }

  #onJoined(topic: string, reply: ChatJoinReply): void {
    const chatId = topic.slice('chat:'.length);
    for (const message of reply.messages) this.#accept(chatId, message, 'history');
    if (reply.has_more || reply.last_seq > this.lastSeq(chatId)) void this.#backfill(chatId);
    if (this.#pendingJoins.size > 0) return;
    this.#joined = true;
    this.#attempt = 0;
    if (this.#lostAt !== null) {
      this.failovers.push({
        fromUrl: this.#lostUrl,
        toUrl: this.url,
        lostAt: this.#lostAt,
        rejoinedAt: performance.now(),
      });
      this.#lostAt = null;
    }
    // Whatever was not acknowledged goes again, with the same mobile_ref_id.
    for (const outgoing of this.#outbox.values()) this.#transmit(outgoing);
    this.emit('change');
  }

  #onFrame([joinRef, ref, topic, event, payload]: Frame): void {
    if (event === 'phx_reply') {
      const status = payload.status;
      const response = payload.response as Record<string, unknown>;
      if (ref !== null && ref === this.#joinRefs.get(topic) && joinRef === ref) {
        if (status !== 'ok') {
          // A refused join (the node is shutting down, say): treat it as a lost connection.
          this.#ws?.terminate();
          return;
        }
        this.#pendingJoins.delete(topic);
        this.#onJoined(topic, response as unknown as ChatJoinReply);
      }
      return;
    }
    if (!topic.startsWith('chat:')) return;
    const chatId = topic.slice('chat:'.length);
    switch (event) {
      case 'receive_message':
        this.#accept(chatId, payload as unknown as WireMessage, 'live');
        break;
      case 'message_sent':
        this.#onSent(payload as unknown as MessageSent);
        break;
      case 'typing_update':
        this.typing.set(chatId, (payload.user_ids as string[] | undefined) ?? []);
        this.emit('change');
        break;
      case 'presence_state':
        this.#presenceState(topic, payload as unknown as PresenceState);
        break;
      case 'presence_diff':
        this.#presenceDiff(topic, payload as unknown as PresenceDiff);
        break;
    }
  }

  // ---- messages ---------------------------------------------------------------------------

  #accept(chatId: string, message: WireMessage, via: 'live' | 'history' | 'own'): void {
    const list = this.delivered.get(chatId);
    if (list === undefined) return;
    if (!this.receivedAt.has(message.message_id)) {
      this.receivedAt.set(message.message_id, performance.now());
    }
    const last = list.at(-1)?.seq ?? 0;
    if (message.seq <= last) {
      if (via === 'live') this.wireDuplicates += 1;
      return;
    }
    let buffered = this.#buffered.get(chatId);
    if (message.seq > last + 1) {
      if (buffered === undefined) this.#buffered.set(chatId, (buffered = new Map()));
      if (buffered.size < MAX_BUFFERED) buffered.set(message.seq, message);
      void this.#backfill(chatId);
      return;
    }
    list.push(message);
    for (let next = buffered?.get(message.seq + 1); next !== undefined;) {
      buffered?.delete(next.seq);
      list.push(next);
      next = buffered?.get(next.seq + 1);
    }
    if (buffered !== undefined) {
      for (const seq of buffered.keys()) if (seq <= (list.at(-1)?.seq ?? 0)) buffered.delete(seq);
    }
    this.emit('change');
  }

  /** Pages the chat's history after the last seq held, over HTTP, until nothing is missing. */
  #backfill(chatId: string): Promise<void> {
    const running = this.#backfilling.get(chatId);
    if (running !== undefined) return running;
    const task = (async () => {
      try {
        for (let more = true; more && !this.#closed;) {
          this.backfills += 1;
          const res = await fetch(
            `${this.url}/api/chats/${chatId}/messages?after_seq=${this.lastSeq(chatId)}&limit=500`,
            { headers: { authorization: `Bearer ${this.options.token}` } },
          );
          if (res.status !== 200) return;
          const page = (await res.json()) as { messages: WireMessage[]; has_more: boolean };
          for (const message of page.messages) this.#accept(chatId, message, 'history');
          more = page.has_more;
        }
      } catch {
        // The node is gone: the rejoin after reconnecting resumes from the last seq anyway.
      } finally {
        this.#backfilling.delete(chatId);
      }
      // Messages buffered beyond what the page covered (committed meanwhile): go again.
      const buffered = this.#buffered.get(chatId);
      if (buffered !== undefined && buffered.size > 0 && !this.#closed) {
        void this.#backfill(chatId);
      }
    })();
    this.#backfilling.set(chatId, task);
    return task;
  }

  #queue(chatId: string, content: string, ref: string, reliable: boolean): Promise<MessageSent> {
    return new Promise((resolve) => {
      const outgoing: Outgoing = {
        chatId,
        content,
        ref,
        sentAt: performance.now(),
        reliable,
        settle: resolve,
      };
      this.#outbox.set(ref, outgoing);
      if (this.#joined) this.#transmit(outgoing);
    });
  }

  #transmit(outgoing: Outgoing): void {
    this.#push(`chat:${outgoing.chatId}`, 'send_message', {
      content: outgoing.content,
      mobile_ref_id: outgoing.ref,
    });
  }

  #onSent(ack: MessageSent): void {
    const outgoing = this.#outbox.get(ack.mobile_ref_id);
    if (outgoing === undefined) return;
    if (ack.status === 'sent') {
      this.#outbox.delete(outgoing.ref);
      this.acks.set(outgoing.ref, ack);
      if (ack.seq !== null && ack.message_id !== null && ack.timestamp !== null) {
        // Our own message: the relay does not echo it to this connection; the ack tells its seq.
        this.#accept(
          outgoing.chatId,
          {
            chat_id: outgoing.chatId,
            message_id: ack.message_id,
            seq: ack.seq,
            content: outgoing.content,
            sender_id: this.options.user.id,
            sender_name: this.options.user.name,
            timestamp: ack.timestamp,
            expires_at: null,
            mobile_ref_id: outgoing.ref,
            edited_at: null,
            deleted_at: null,
            version_seq: ack.seq,
          },
          'own',
        );
      }
      outgoing.settle(ack);
      this.emit('change');
      return;
    }
    if (!outgoing.reliable || !RETRYABLE.has(ack.reason ?? '')) {
      this.#outbox.delete(outgoing.ref);
      outgoing.settle(ack);
      this.emit('change');
      return;
    }
    setTimeout(() => {
      if (this.#joined && this.#outbox.has(outgoing.ref)) this.#transmit(outgoing);
    }, 50).unref();
  }

  // ---- presence ---------------------------------------------------------------------------

  #presenceState(topic: string, state: PresenceState): void {
    const users = new Map<string, Map<string, PresenceMeta>>();
    for (const [userId, { metas }] of Object.entries(state)) {
      users.set(userId, new Map(metas.map((meta) => [meta.phx_ref, meta])));
    }
    this.presence.set(topic, users);
    this.emit('change');
  }

  #presenceDiff(topic: string, diff: PresenceDiff): void {
    let users = this.presence.get(topic);
    if (users === undefined) this.presence.set(topic, (users = new Map()));
    for (const [userId, { metas }] of Object.entries(diff.joins)) {
      let refs = users.get(userId);
      if (refs === undefined) users.set(userId, (refs = new Map()));
      for (const meta of metas) refs.set(meta.phx_ref, meta);
    }
    for (const [userId, { metas }] of Object.entries(diff.leaves)) {
      const refs = users.get(userId);
      for (const meta of metas) refs?.delete(meta.phx_ref);
      if (refs?.size === 0) users.delete(userId);
    }
    this.emit('change');
  }

  // ---- frames -----------------------------------------------------------------------------

  #push(topic: string, event: string, payload: object): void {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return;
    const joinRef = topic === 'phoenix' ? null : (this.#joinRefs.get(topic) ?? null);
    ws.send(JSON.stringify([joinRef, this.#nextFrameRef(), topic, event, payload]));
  }

  #nextFrameRef(): string {
    this.#ref += 1;
    return String(this.#ref);
  }

  #nextRef(): string {
    this.#sendCounter += 1;
    return `${this.options.user.name}-${this.#sendCounter}`;
  }
}
