/**
 * Who is connected, as the core needs to know it: whether a user has a live subscription to a
 * topic (on this node, or, in a cluster, on any node). The transport's hub implements it on one
 * node; a cluster node's liveness asks the hub, then the other nodes (cluster/cluster.ts). The core plans notifications with it
 * and never sees a socket.
 */
export interface Liveness {
  /** True when the user has a live subscription to `topic` anywhere the relay can see. */
  userJoined(userId: string, topic: string): boolean;
}
