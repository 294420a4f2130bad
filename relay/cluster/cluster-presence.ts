/**
 * Presence and typing for a cluster node: each wraps the single-node tracker, hands every local
 * change to the cluster state too (which replicates it), and answers every read for the whole
 * cluster. chat-channel.ts uses them as it uses the single-node trackers.
 */
import type { PresenceDiff, PresenceMeta, PresenceState } from '../protocol/events.js';
import type { ClusterState } from './cluster-state.js';
import { PresenceTracker, type ChatPresence } from '../core/presence.js';
import { TypingTracker, type ChatTyping, type TypingChange } from '../core/typing.js';

/** What cluster presence needs of the cluster state. */
export type PresenceReplica = Pick<ClusterState, 'localPresence' | 'remotePresence'>;

export class ClusterPresence implements ChatPresence {
  readonly routesEveryChange: boolean;
  readonly #local = new PresenceTracker();
  readonly #cluster: PresenceReplica;

  /**
   * `routesEveryChange`: whether whoever applies other nodes' changes (cluster.ts) also hands
   * them to this node's presence batcher.
   */
  constructor(cluster: PresenceReplica, options: { routesEveryChange: boolean }) {
    this.#cluster = cluster;
    this.routesEveryChange = options.routesEveryChange;
  }

  track(topic: string, userId: string, meta: PresenceMeta): PresenceDiff {
    const diff = this.#local.track(topic, userId, meta);
    this.#replicate(topic, diff);
    return diff;
  }

  untrack(topic: string, userId: string, phxRef: string): PresenceDiff | null {
    const diff = this.#local.untrack(topic, userId, phxRef);
    if (diff !== null) this.#replicate(topic, diff);
    return diff;
  }

  /** Hands the cluster what other nodes list: a device waiting unlisted here is not sent. */
  #replicate(topic: string, diff: PresenceDiff): void {
    for (const [userId, { metas }] of Object.entries(diff.leaves)) {
      for (const meta of metas) this.#cluster.localPresence(topic, userId, meta, false);
    }
    for (const [userId, { metas }] of Object.entries(diff.joins)) {
      for (const meta of metas) this.#cluster.localPresence(topic, userId, meta, true);
    }
  }

  /** This node's devices and every other node's, in the Phoenix Presence shape. */
  state(topic: string): PresenceState {
    const state = this.#local.state(topic);
    for (const [userId, metas] of this.#cluster.remotePresence(topic)) {
      state[userId] = { metas: [...(state[userId]?.metas ?? []), ...metas] };
    }
    return state;
  }

  /** The whole cluster's state, encoded whole (the per-user cache knows this node only). */
  stateJson(topic: string): string {
    return JSON.stringify(this.state(topic));
  }
}

export class ClusterTyping implements ChatTyping {
  readonly #local: TypingTracker;
  readonly #cluster: Pick<ClusterState, 'localTyping' | 'typingIn'>;

  constructor(ttlMs: number, cluster: Pick<ClusterState, 'localTyping' | 'typingIn'>) {
    // The tracker announces changes of this node's typing set; the cluster state merges them
    // with the other nodes' sets and broadcasts the union.
    this.#local = new TypingTracker(ttlMs, (chatId, userIds) =>
      cluster.localTyping(chatId, userIds),
    );
    this.#cluster = cluster;
  }

  set(change: TypingChange): void {
    this.#local.set(change);
  }

  dropConnection(connectionId: string, chatId?: string): void {
    this.#local.dropConnection(connectionId, chatId);
  }

  sweep(now?: number): void {
    this.#local.sweep(now);
  }

  /** Everyone typing in the chat, on any node. */
  typingIn(chatId: string): string[] {
    return this.#cluster.typingIn(chatId);
  }
}
