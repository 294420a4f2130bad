/**
 * What a cluster node needs from its bus, beyond the events every bus carries: a control
 * channel between nodes, word of possible losses, and forgetting a node that left. The Redis bus
 * implements it (redis-bus.ts); the cluster state uses only the link part (cluster-state.ts),
 * and unit tests pass an in-memory link.
 */
import type { Bus } from '../core/bus.js';
import type { ControlMessage } from './cluster-wire.js';

/** Who sent a control message. `fresh`: the first envelope heard from this boot of that node. */
export interface ControlSender {
  node: string;
  boot: string;
  fresh: boolean;
  gap: boolean;
}

export type ControlHandler = (message: ControlMessage, from: ControlSender) => void;
export type RecoverReason = 'resubscribed' | 'gap';

/** The part of the bus the cluster state uses. */
export interface ClusterLink {
  publishControl(message: ControlMessage): void;
  onControl(handler: ControlHandler): () => void;
  onRecover(handler: (reason: RecoverReason) => void): () => void;
  forgetPeer(node: string): void;
}

/** A bus that links the nodes of a cluster. */
export interface ClusterBus extends Bus, ClusterLink {}
