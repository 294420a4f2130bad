/**
 * Who is connected and who joined what, on this node. Fan-out walks these sets; nothing here
 * touches the database. Observers hear when a user's first subscription to a topic on this node
 * begins or its last one ends, when a topic gains its first or loses its last subscriber here,
 * and how many receive_message frames went out (metrics; a cluster node replicates the first
 * two, cluster.ts).
 */
import type { Connection, OutboundFrame, Subscription } from './connection.js';
import type { Liveness } from '../core/liveness.js';
import { PreparedFrame } from './prepared-frame.js';

export type { Subscription } from './connection.js';

/** Frames held for one joining subscription; beyond this the join is failed and retried. */
export const MAX_HELD_FRAMES = 1_000;

export interface HubObserver {
  /** Every accepted subscription (a join), e.g. for metrics. */
  subscribed?(subscription: Subscription): void;
  /** The user's first subscription to the topic on this node began (on), or the last ended. */
  userTopic?(topic: string, userId: string, on: boolean): void;
  /** The topic's first subscriber on this node arrived (on), or its last left. */
  topic?(topic: string, on: boolean): void;
  /** A broadcast carrying a seq (receive_message) reached `sent` subscribers. */
  delivered?(sent: number): void;
}

/** On one node, the hub is the Liveness the core plans notifications with. */
export class Hub implements Liveness {
  readonly #topics = new Map<string, Set<Subscription>>();
  readonly #users = new Map<string, Set<Connection>>();
  readonly #connections = new Map<string, Connection>();
  readonly #observers: HubObserver[] = [];
  /** topic → user → live subscriptions of that user to that topic on this node. */
  readonly #counts = new Map<string, Map<string, number>>();
  #version = 0;

  observe(observer: HubObserver): void {
    this.#observers.push(observer);
  }

  /** Bumped by every add, remove, subscribe and unsubscribe: caches of who is where key on it. */
  get version(): number {
    return this.#version;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  get connections(): Iterable<Connection> {
    return this.#connections.values();
  }

  byId(id: string): Connection | undefined {
    return this.#connections.get(id);
  }

  add(connection: Connection): void {
    this.#version += 1;
    this.#connections.set(connection.id, connection);
    let set = this.#users.get(connection.user.id);
    if (set === undefined) this.#users.set(connection.user.id, (set = new Set()));
    set.add(connection);
  }

  remove(connection: Connection): void {
    this.#version += 1;
    this.#connections.delete(connection.id);
    const set = this.#users.get(connection.user.id);
    set?.delete(connection);
    if (set?.size === 0) this.#users.delete(connection.user.id);
  }

  connectionsOf(userId: string): ReadonlySet<Connection> {
    return this.#users.get(userId) ?? EMPTY;
  }

  isOnline(userId: string): boolean {
    return this.#users.has(userId);
  }

  subscribe(subscription: Subscription): void {
    this.#version += 1;
    let set = this.#topics.get(subscription.topic);
    if (set === undefined) this.#topics.set(subscription.topic, (set = new Set()));
    if (set.has(subscription)) return;
    set.add(subscription);
    const { topic } = subscription;
    const userId = subscription.connection.user.id;
    let users = this.#counts.get(topic);
    const firstForTopic = users === undefined;
    if (users === undefined) this.#counts.set(topic, (users = new Map()));
    const count = (users.get(userId) ?? 0) + 1;
    users.set(userId, count);
    for (const observer of this.#observers) {
      observer.subscribed?.(subscription);
      if (firstForTopic) observer.topic?.(topic, true);
      if (count === 1) observer.userTopic?.(topic, userId, true);
    }
  }

  unsubscribe(subscription: Subscription): void {
    this.#version += 1;
    const { topic } = subscription;
    const set = this.#topics.get(topic);
    if (set?.delete(subscription) !== true) return;
    if (set.size === 0) this.#topics.delete(topic);
    const userId = subscription.connection.user.id;
    const users = this.#counts.get(topic);
    const count = (users?.get(userId) ?? 1) - 1;
    if (count > 0) users?.set(userId, count);
    else users?.delete(userId);
    const lastForTopic = users?.size === 0;
    if (lastForTopic) this.#counts.delete(topic);
    for (const observer of this.#observers) {
      if (count === 0) observer.userTopic?.(topic, userId, false);
      if (lastForTopic) observer.topic?.(topic, false);
    }
  }

  subscribers(topic: string): ReadonlySet<Subscription> {
    return this.#topics.get(topic) ?? EMPTY_SUBSCRIPTIONS;
  }

  /** True when any connection of the user on this node has joined the topic. */
  userJoined(userId: string, topic: string): boolean {
    for (const connection of this.connectionsOf(userId)) {
      if (connection.subscriptions.has(topic)) return true;
    }
    return false;
  }

  /**
   * Sends one pre-serialized frame to every subscriber of the topic, except one connection
   * (the sender's, for receive_message). Subscriptions still joining hold the frame.
   */
  broadcast(
    topic: string,
    text: string,
    options: { except?: Connection | undefined; seq?: number } = {},
  ): number {
    const set = this.#topics.get(topic);
    if (set === undefined) return 0;
    // Encode and frame once: every subscriber gets the same bytes (prepared-frame.ts).
    const frame = new PreparedFrame(text);
    const { except, seq } = options;
    let sent = 0;
    for (const subscription of set) {
      if (subscription.connection === except) continue;
      if (deliver(subscription, frame, seq)) sent += 1;
    }
    if (seq !== undefined) for (const observer of this.#observers) observer.delivered?.(sent);
    return sent;
  }
}

/** Sends to one subscription, or holds the frame while its join is answered. */
export function deliver(subscription: Subscription, frame: OutboundFrame, seq?: number): boolean {
  if (subscription.held !== null) {
    if (subscription.held.length >= MAX_HELD_FRAMES) {
      subscription.connection.closeSlowConsumer();
      return false;
    }
    subscription.held.push({ frame, seq });
    return true;
  }
  return subscription.connection.send(frame);
}

const EMPTY: ReadonlySet<Connection> = new Set();
const EMPTY_SUBSCRIPTIONS: ReadonlySet<Subscription> = new Set();
