/**
 * What every node must know about the others: who is subscribed to which topic there (for the
 * pending-notification and new_notification decisions), the Phoenix Presence entries of their
 * devices, and who is typing there. Each node owns its own part and replicates it to the others
 * over the bus's control messages:
 *
 * - changes go out as batched `ops`; a peer that missed any (seen as a jump in that node's
 *   envelope counter, a resubscription, or a node it does not know yet) asks for a `snapshot`
 *   and ignores that node's ops until the snapshot arrives;
 * - every node sends a `heartbeat` each `heartbeatMs`; a node not heard from for `nodeTtlMs`
 *   is dead: its presence entries leave and its typing users stop typing, so a crashed node's
 *   users vanish within `nodeTtlMs + heartbeatMs`. A node that stops cleanly says `bye`.
 *
 * Remote changes reach this node's clients as `presence_diff` and `typing_update` broadcasts.
 */
import type { Logger } from 'pino';
import { encodeFrame } from '../protocol/frame.js';
import { EVENTS, type PresenceDiff, type PresenceMeta } from '../protocol/events.js';
import { chatTopic } from '../protocol/topics.js';
import type { ControlMessage, Snapshot, StateOp } from './cluster-wire.js';
import type { Hub } from '../transport/hub.js';
import type { ClusterLink, RecoverReason } from './cluster-bus.js';

export interface ClusterStateOptions {
  nodeId: string;
  link: ClusterLink;
  /** This node's hub: remote presence and typing changes are broadcast to its subscribers. */
  hub: Hub;
  logger: Logger;
  /** How often this node says it is alive. */
  heartbeatMs: number;
  /** Silence after which another node counts as dead and its entries are dropped. */
  nodeTtlMs: number;
  /** Local changes waiting to be published; beyond this a snapshot replaces them. */
  maxQueuedOps?: number;
  /** The clock (ms); unit tests pass their own. */
  now?: () => number;
  /**
   * Where other nodes' presence changes go, one diff per topic: a node hands them to its
   * presence batcher (presence-batch.ts), so a storm of joins on other nodes reaches this
   * node's clients as one diff per window, like local joins. Without it they are broadcast at
   * once.
   */
  presenceChanged?: (topic: string, diff: PresenceDiff) => void;
}

interface PresenceEntry {
  userId: string;
  meta: PresenceMeta;
}

/** One node's shared state. */
interface NodeData {
  subs: Map<string, Set<string>>;
  presence: Map<string, Map<string, PresenceEntry>>;
  typing: Map<string, string[]>;
}

interface Replica {
  boot: string;
  lastSeen: number;
  /** False until a snapshot arrives; ops are ignored meanwhile (the snapshot includes them). */
  synced: boolean;
  requestedAt: number;
  data: NodeData;
}

/** Ops per published message: keeps each envelope a reasonable size. */
const OPS_PER_MESSAGE = 1_000;

function emptyData(): NodeData {
  return { subs: new Map(), presence: new Map(), typing: new Map() };
}

/** Collects presence joins and leaves per topic, then hands on one diff per topic. */
class DiffCollector {
  readonly #topics = new Map<string, PresenceDiff>();

  add(topic: string, kind: 'joins' | 'leaves', entry: PresenceEntry): void {
    let diff = this.#topics.get(topic);
    if (diff === undefined) this.#topics.set(topic, (diff = { joins: {}, leaves: {} }));
    const side = diff[kind];
    (side[entry.userId] ??= { metas: [] }).metas.push(entry.meta);
  }

  send(deliver: (topic: string, diff: PresenceDiff) => void): void {
    for (const [topic, diff] of this.#topics) deliver(topic, diff);
  }
}

export class ClusterState {
  readonly #o: Required<ClusterStateOptions>;
  readonly #local = emptyData();
  readonly #replicas = new Map<string, Replica>();
  /** Typing sets last announced to this node's clients, by chat. */
  readonly #announced = new Map<string, string>();
  #queue: StateOp[] = [];
  #overflowed = false;
  #flushScheduled = false;
  #snapshotScheduled = false;
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void)[] = [];

  constructor(options: ClusterStateOptions) {
    const { hub } = options;
    this.#o = {
      maxQueuedOps: 10_000,
      now: Date.now,
      presenceChanged: (topic, diff) =>
        hub.broadcast(topic, encodeFrame(null, null, topic, EVENTS.presenceDiff, diff)),
      ...options,
    };
  }

  /** Starts listening, asks every node for its state and starts the heartbeat. */
  start(): void {
    this.#unsubscribe = [
      this.#o.link.onControl((message, from) => this.#onControl(message, from)),
      this.#o.link.onRecover((reason) => this.#onRecover(reason)),
    ];
    this.#o.link.publishControl({ type: 'heartbeat' });
    this.#o.link.publishControl({ type: 'sync_request', targets: null });
    this.#timer = setInterval(() => this.tick(), this.#o.heartbeatMs);
    this.#timer.unref();
  }

  /** Publishes what is queued and says goodbye, so peers drop this node's entries at once. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#flush();
    this.#o.link.publishControl({ type: 'bye' });
    for (const stop of this.#unsubscribe.splice(0)) stop();
  }

  /** Heartbeat, expiry of silent nodes, re-requests of missing snapshots. Runs on the timer. */
  tick(): void {
    this.#flush();
    this.#o.link.publishControl({ type: 'heartbeat' });
    const now = this.#o.now();
    for (const [node, replica] of this.#replicas) {
      if (now - replica.lastSeen > this.#o.nodeTtlMs) {
        this.#o.logger.warn({ peer: node, silentMs: now - replica.lastSeen }, 'node expired');
        this.#drop(node);
      } else if (!replica.synced && now - replica.requestedAt >= this.#o.heartbeatMs) {
        this.#request(node, replica);
      }
    }
  }

  /** Nodes this node currently hears from. */
  get peerCount(): number {
    return this.#replicas.size;
  }

  // ---- this node's changes ----------------------------------------------------------------

  /** This node's first subscription of the user to the topic began (on) or its last ended. */
  localSub(topic: string, userId: string, on: boolean): void {
    applySub(this.#local, topic, userId, on);
    this.#enqueue({ op: 'sub', topic, userId, on });
  }

  localPresence(topic: string, userId: string, meta: PresenceMeta, on: boolean): void {
    applyPresence(this.#local, topic, { userId, meta }, on);
    this.#enqueue({ op: 'presence', topic, userId, meta, on });
  }

  /** The users typing in a chat on this node changed. */
  localTyping(chatId: string, userIds: string[]): void {
    if (userIds.length === 0) this.#local.typing.delete(chatId);
    else this.#local.typing.set(chatId, [...userIds]);
    this.#enqueue({ op: 'typing', chatId, userIds });
    this.#announceTyping(chatId);
  }

  // ---- what the other nodes have ----------------------------------------------------------

  /** True when the user has a subscription to the topic on another node. */
  remoteJoined(userId: string, topic: string): boolean {
    for (const replica of this.#replicas.values()) {
      if (replica.data.subs.get(topic)?.has(userId) === true) return true;
    }
    return false;
  }

  /** Presence entries of other nodes' devices in the topic. */
  remotePresence(topic: string): Map<string, PresenceMeta[]> {
    const users = new Map<string, PresenceMeta[]>();
    for (const replica of this.#replicas.values()) {
      for (const entry of replica.data.presence.get(topic)?.values() ?? []) {
        let metas = users.get(entry.userId);
        if (metas === undefined) users.set(entry.userId, (metas = []));
        metas.push(entry.meta);
      }
    }
    return users;
  }

  /** Everyone typing in the chat on any node: this node's users first. */
  typingIn(chatId: string): string[] {
    const users = new Set(this.#local.typing.get(chatId) ?? []);
    for (const replica of this.#replicas.values()) {
      for (const userId of replica.data.typing.get(chatId) ?? []) users.add(userId);
    }
    return [...users];
  }

  // ---- replication ------------------------------------------------------------------------

  #enqueue(op: StateOp): void {
    if (this.#overflowed) return;
    if (this.#queue.length >= this.#o.maxQueuedOps) {
      // Too many changes at once: one snapshot carries them all, and the queue stays bounded.
      this.#queue = [];
      this.#overflowed = true;
    } else {
      this.#queue.push(op);
    }
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#overflowed) {
      this.#overflowed = false;
      this.#queue = [];
      this.#publishSnapshot();
      return;
    }
    while (this.#queue.length > 0) {
      this.#o.link.publishControl({ type: 'ops', ops: this.#queue.splice(0, OPS_PER_MESSAGE) });
    }
  }

  #publishSnapshot(): void {
    // Queued ops first: the snapshot must not overtake them, nor be overtaken by them.
    const queued = this.#queue.splice(0);
    if (queued.length > 0) this.#o.link.publishControl({ type: 'ops', ops: queued });
    const state: Snapshot = {
      subs: [...this.#local.subs].map(([topic, users]) => [topic, [...users]]),
      presence: [...this.#local.presence].map(([topic, entries]) => [topic, [...entries.values()]]),
      typing: [...this.#local.typing],
    };
    this.#o.link.publishControl({ type: 'snapshot', state });
  }

  #scheduleSnapshot(): void {
    if (this.#snapshotScheduled) return;
    this.#snapshotScheduled = true;
    // Several peers asking in the same moment get one snapshot.
    setImmediate(() => {
      this.#snapshotScheduled = false;
      this.#publishSnapshot();
    });
  }

  #request(node: string, replica: Replica): void {
    replica.requestedAt = this.#o.now();
    this.#o.link.publishControl({ type: 'sync_request', targets: [node] });
  }

  #onRecover(reason: RecoverReason): void {
    // Something from someone may be missing: start over from everyone's snapshot.
    this.#o.logger.info({ reason }, 'resynchronising cluster state');
    const now = this.#o.now();
    for (const replica of this.#replicas.values()) {
      replica.synced = false;
      replica.requestedAt = now;
    }
    this.#o.link.publishControl({ type: 'sync_request', targets: null });
  }

  #onControl(
    message: ControlMessage,
    from: { node: string; boot: string; fresh: boolean; gap: boolean },
  ): void {
    if (from.node === this.#o.nodeId) return;
    let replica = this.#replicas.get(from.node);
    if (replica !== undefined && replica.boot !== from.boot) {
      // The node restarted: what its previous life had is gone.
      this.#drop(from.node);
      replica = undefined;
    }
    if (message.type === 'bye') {
      if (replica !== undefined) {
        this.#o.logger.info({ peer: from.node }, 'node left');
        this.#drop(from.node);
      }
      return;
    }
    const now = this.#o.now();
    if (replica === undefined) {
      this.#o.logger.info({ peer: from.node }, 'node joined');
      replica = {
        boot: from.boot,
        lastSeen: now,
        synced: false,
        requestedAt: Number.NEGATIVE_INFINITY,
        data: emptyData(),
      };
      this.#replicas.set(from.node, replica);
    }
    replica.lastSeen = now;
    if (from.gap) {
      // Something from that node went missing: ask for its whole state now.
      replica.synced = false;
      replica.requestedAt = Number.NEGATIVE_INFINITY;
    }
    switch (message.type) {
      case 'heartbeat':
        break;
      case 'ops':
        if (replica.synced) this.#applyOps(from.node, replica, message.ops);
        break;
      case 'snapshot':
        this.#replace(replica, snapshotData(message.state));
        replica.synced = true;
        break;
      case 'sync_request':
        if (message.targets === null || message.targets.includes(this.#o.nodeId)) {
          this.#scheduleSnapshot();
        }
        break;
    }
    if (!replica.synced && now - replica.requestedAt >= this.#o.heartbeatMs) {
      this.#request(from.node, replica);
    }
  }

  #applyOps(node: string, replica: Replica, ops: StateOp[]): void {
    const diffs = new DiffCollector();
    const typingChats = new Set<string>();
    for (const op of ops) {
      switch (op.op) {
        case 'sub':
          applySub(replica.data, op.topic, op.userId, op.on);
          break;
        case 'presence': {
          const entry = { userId: op.userId, meta: op.meta };
          if (applyPresence(replica.data, op.topic, entry, op.on)) {
            diffs.add(op.topic, op.on ? 'joins' : 'leaves', entry);
          }
          break;
        }
        case 'typing':
          if (op.userIds.length === 0) replica.data.typing.delete(op.chatId);
          else replica.data.typing.set(op.chatId, op.userIds);
          typingChats.add(op.chatId);
          break;
      }
    }
    this.#o.logger.trace({ peer: node, ops: ops.length }, 'applied peer ops');
    diffs.send(this.#o.presenceChanged);
    for (const chatId of typingChats) this.#announceTyping(chatId);
  }

  /** Replaces a replica's data, telling this node's clients what changed. */
  #replace(replica: Replica, next: NodeData): void {
    const previous = replica.data;
    replica.data = next;
    const diffs = new DiffCollector();
    for (const topic of new Set([...previous.presence.keys(), ...next.presence.keys()])) {
      const before = previous.presence.get(topic) ?? new Map<string, PresenceEntry>();
      const after = next.presence.get(topic) ?? new Map<string, PresenceEntry>();
      for (const [ref, entry] of before) if (!after.has(ref)) diffs.add(topic, 'leaves', entry);
      for (const [ref, entry] of after) if (!before.has(ref)) diffs.add(topic, 'joins', entry);
    }
    diffs.send(this.#o.presenceChanged);
    for (const chatId of new Set([...previous.typing.keys(), ...next.typing.keys()])) {
      this.#announceTyping(chatId);
    }
  }

  #drop(node: string): void {
    const replica = this.#replicas.get(node);
    if (replica === undefined) return;
    this.#replace(replica, emptyData());
    this.#replicas.delete(node);
    this.#o.link.forgetPeer(node);
  }

  /** Broadcasts the chat's typing set to this node's clients if it changed. */
  #announceTyping(chatId: string): void {
    const userIds = this.typingIn(chatId);
    const key = userIds.join('\n');
    if ((this.#announced.get(chatId) ?? '') === key) return;
    if (userIds.length === 0) this.#announced.delete(chatId);
    else this.#announced.set(chatId, key);
    const topic = chatTopic(chatId);
    this.#o.hub.broadcast(
      topic,
      encodeFrame(null, null, topic, EVENTS.typingUpdate, { chat_id: chatId, user_ids: userIds }),
    );
  }
}

function applySub(data: NodeData, topic: string, userId: string, on: boolean): void {
  let users = data.subs.get(topic);
  if (on) {
    if (users === undefined) data.subs.set(topic, (users = new Set()));
    users.add(userId);
  } else if (users !== undefined) {
    users.delete(userId);
    if (users.size === 0) data.subs.delete(topic);
  }
}

/** Returns true when the entry was added (on) or removed (off). */
function applyPresence(data: NodeData, topic: string, entry: PresenceEntry, on: boolean): boolean {
  let entries = data.presence.get(topic);
  if (on) {
    if (entries === undefined) data.presence.set(topic, (entries = new Map()));
    const had = entries.has(entry.meta.phx_ref);
    entries.set(entry.meta.phx_ref, entry);
    return !had;
  }
  if (entries?.delete(entry.meta.phx_ref) !== true) return false;
  if (entries.size === 0) data.presence.delete(topic);
  return true;
}

function snapshotData(state: Snapshot): NodeData {
  const data = emptyData();
  for (const [topic, users] of state.subs) data.subs.set(topic, new Set(users));
  for (const [topic, entries] of state.presence) {
    data.presence.set(topic, new Map(entries.map((entry) => [entry.meta.phx_ref, entry])));
  }
  for (const [chatId, users] of state.typing) if (users.length > 0) data.typing.set(chatId, users);
  return data;
}
