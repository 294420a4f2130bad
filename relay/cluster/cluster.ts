/**
 * A relay node of a cluster, wired: the cluster state (presence, typing and subscriptions of
 * the other nodes, with heartbeats and expiry), catch-up after bus losses, and liveness that
 * answers for every node. Single-node relays never load any of this.
 */
import type { Logger } from 'pino';
import { CatchUp } from './catch-up.js';
import type { ClusterBus } from './cluster-bus.js';
import { ClusterPresence, ClusterTyping } from './cluster-presence.js';
import { ClusterState } from './cluster-state.js';
import type { Hub } from '../transport/hub.js';
import type { Liveness } from '../core/liveness.js';
import type { MembershipCache } from '../core/membership-cache.js';
import { presenceBatcher, type PresenceBatcher } from '../transport/presence-batch.js';
import type { RelayLimits } from '../core/options.js';
import type { Store } from '../core/store.js';

export interface ClusterNodeDeps {
  nodeId: string;
  bus: ClusterBus;
  hub: Hub;
  store: Store;
  members: MembershipCache;
  limits: RelayLimits;
  logger: Logger;
  heartbeatMs: number;
  nodeTtlMs: number;
  /** Ends a user's subscriptions to a chat on this node (socket-server.ts). */
  revoke: (userId: string, chatId: string) => void;
}

/**
 * Made before the relay's ChatService (which plans notifications with its liveness), started
 * once the relay is wired: nothing is sent or listened to before start().
 */
export class ClusterNode {
  /** This node's devices and every other node's (chat-channel.ts uses it as any presence). */
  readonly presence: ClusterPresence;
  /** Everyone typing, on any node. */
  readonly typing: ClusterTyping;
  /**
   * Whether the user is subscribed to the topic on this node (the hub) or on another: makes the
   * pending-notification decision of chat-service.ts and the new_notification decision of
   * delivery.ts cluster-wide.
   */
  readonly liveness: Liveness;
  readonly #deps: ClusterNodeDeps;
  readonly #state: ClusterState;
  readonly #catchUp: CatchUp;
  #stops: (() => void)[] = [];

  constructor(deps: ClusterNodeDeps) {
    const { hub } = deps;
    this.#deps = deps;
    let batcher: PresenceBatcher | null = null;
    const state = new ClusterState({
      nodeId: deps.nodeId,
      link: deps.bus,
      hub,
      logger: deps.logger,
      heartbeatMs: deps.heartbeatMs,
      nodeTtlMs: deps.nodeTtlMs,
      // Other nodes' presence changes join this node's presence windows (presence-batch.ts).
      presenceChanged: (topic, diff) => batcher?.add(topic, diff),
    });
    this.#state = state;
    // Every change of the cluster-wide state reaches the batcher (the line above), so joiners
    // of one window can share one encoded presence_state, other nodes' devices included.
    this.presence = new ClusterPresence(state, { routesEveryChange: true });
    batcher = presenceBatcher(hub, this.presence);
    this.typing = new ClusterTyping(deps.limits.typingTtlMs, state);
    this.liveness = {
      userJoined: (userId, topic) =>
        hub.userJoined(userId, topic) || state.remoteJoined(userId, topic),
    };
    this.#catchUp = new CatchUp({
      store: deps.store,
      hub,
      members: deps.members,
      revoke: deps.revoke,
      logger: deps.logger,
      maxPerChat: deps.limits.resumeMax,
      maxBytesPerChat: deps.limits.maxPageBytes,
    });
  }

  /** Replicates this node's subscriptions, listens to the bus and starts the heartbeat. */
  start(): void {
    const { bus, hub, members } = this.#deps;
    const state = this.#state;
    const catchUp = this.#catchUp;
    hub.observe({
      userTopic: (topic, userId, on) => state.localSub(topic, userId, on),
      topic: (topic, on) => catchUp.topicActive(topic, on),
    });
    this.#stops = [
      bus.subscribe((event) => catchUp.observe(event)),
      bus.onRecover(() => {
        // Membership events may be among the lost: members are read afresh, and catch-up
        // revokes this node's subscriptions of users removed meanwhile.
        members.clear();
        void catchUp.recover();
      }),
    ];
    state.start();
  }

  /** Other nodes currently heard from. */
  peers(): number {
    return this.#state.peerCount;
  }

  /** Says goodbye to the other nodes and stops the heartbeat. */
  close(): void {
    this.#state.stop();
    for (const stop of this.#stops.splice(0)) stop();
  }
}
