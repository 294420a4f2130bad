/**
 * Presence and typing for a cluster node: the single-node trackers, with every local change
 * also handed to the cluster state (which replicates it), and every read answering for the
 * whole cluster. chat-channel.ts uses them unchanged.
 */
import type { PresenceDiff, PresenceMeta, PresenceState } from '../protocol/events.js';
import type { ClusterState } from './cluster-state.js';
import { PresenceTracker } from '../core/presence.js';
import { TypingTracker } from '../core/typing.js';

export class ClusterPresence extends PresenceTracker {
  readonly #cluster: ClusterState;

  constructor(cluster: ClusterState) {
    super();
    this.#cluster = cluster;
  }

  override track(topic: string, userId: string, meta: PresenceMeta): PresenceDiff {
    const diff = super.track(topic, userId, meta);
    this.#replicate(topic, diff);
    return diff;
  }

  override untrack(topic: string, userId: string, phxRef: string): PresenceDiff | null {
    const diff = super.untrack(topic, userId, phxRef);
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
  override state(topic: string): PresenceState {
    const state = super.state(topic);
    for (const [userId, metas] of this.#cluster.remotePresence(topic)) {
      state[userId] = { metas: [...(state[userId]?.metas ?? []), ...metas] };
    }
    return state;
  }
}

export class ClusterTyping extends TypingTracker {
  readonly #cluster: ClusterState;

  constructor(ttlMs: number, cluster: ClusterState) {
    // The tracker announces changes of this node's typing set; the cluster state merges them
    // with the other nodes' sets and broadcasts the union.
    super(ttlMs, (chatId, userIds) => cluster.localTyping(chatId, userIds));
    this.#cluster = cluster;
  }

  /** Everyone typing in the chat, on any node. */
  override typingIn(chatId: string): string[] {
    return this.#cluster.typingIn(chatId);
  }
}
