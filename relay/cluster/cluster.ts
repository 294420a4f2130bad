/**
 * A relay node of a cluster, wired: the cluster state (presence, typing and subscriptions of
 * the other nodes, with heartbeats and expiry), catch-up after bus losses, and the hub's
 * cluster-wide `userJoined`. Single-node relays never load any of this.
 */
import type { Logger } from 'pino';
import { CatchUp } from './catch-up.js';
import type { ClusterBus } from './cluster-bus.js';
import { ClusterPresence, ClusterTyping } from './cluster-presence.js';
import { ClusterState } from './cluster-state.js';
import type { MembershipCache } from '../core/membership-cache.js';
import type { ObservedHub } from './observed-hub.js';
import { presenceBatcher, type PresenceBatcher } from '../transport/presence-batch.js';
import type { RelayLimits } from '../core/options.js';
import type { Store } from '../core/store.js';

export interface ClusterNodeDeps {
  nodeId: string;
  bus: ClusterBus;
  hub: ObservedHub;
  store: Store;
  members: MembershipCache;
  limits: RelayLimits;
  logger: Logger;
  heartbeatMs: number;
  nodeTtlMs: number;
  /** Ends a user's subscriptions to a chat on this node (socket-server.ts). */
  revoke: (userId: string, chatId: string) => void;
}

export interface ClusterNode {
  presence: ClusterPresence;
  typing: ClusterTyping;
  /** Other nodes currently heard from. */
  peers(): number;
  /** Says goodbye to the other nodes and stops the heartbeat. */
  close(): void;
}

export function startClusterNode(deps: ClusterNodeDeps): ClusterNode {
  const { bus, hub } = deps;
  let batcher: PresenceBatcher | null = null;
  const state = new ClusterState({
    nodeId: deps.nodeId,
    link: bus,
    hub,
    logger: deps.logger,
    heartbeatMs: deps.heartbeatMs,
    nodeTtlMs: deps.nodeTtlMs,
    // Other nodes' presence changes join this node's presence windows (presence-batch.ts).
    presenceChanged: (topic, diff) => batcher?.add(topic, diff),
  });
  const presence = new ClusterPresence(state);
  batcher = presenceBatcher(hub, presence);
  // Every change of the cluster-wide state now reaches the batcher, so joiners of one window
  // can share one encoded presence_state, other nodes' devices included.
  batcher.routesEveryChange();
  const catchUp = new CatchUp({
    store: deps.store,
    hub,
    members: deps.members,
    revoke: deps.revoke,
    logger: deps.logger,
    maxPerChat: deps.limits.resumeMax,
    maxBytesPerChat: deps.limits.maxPageBytes,
  });
  hub.remoteJoined = (userId, topic) => state.remoteJoined(userId, topic);
  hub.observe({
    userTopic: (topic, userId, on) => state.localSub(topic, userId, on),
    topic: (topic, on) => catchUp.topicActive(topic, on),
  });
  const stops = [
    bus.subscribe((event) => catchUp.observe(event)),
    bus.onRecover(() => {
      // Membership events may be among the lost: members are read afresh, and catch-up revokes
      // this node's subscriptions of users removed meanwhile.
      deps.members.clear();
      void catchUp.recover();
    }),
  ];
  state.start();
  return {
    presence,
    typing: new ClusterTyping(deps.limits.typingTtlMs, state),
    peers: () => state.peerCount,
    close: () => {
      state.stop();
      for (const stop of stops) stop();
    },
  };
}
