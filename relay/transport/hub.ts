/**
 * Who is connected and who joined what, on this node. Fan-out walks these sets; nothing here
 * touches the database.
 */
import type { Connection, OutboundFrame } from './connection.js';
import { PreparedFrame } from './prepared-frame.js';

/** One joined (or joining) topic of one connection. */
export interface Subscription {
  readonly topic: string;
  readonly joinRef: string;
  readonly connection: Connection;
  /**
   * While the join is being answered, live frames wait here (with the seq they carry, if any)
   * so that the join reply always comes first and nothing is sent twice. Null once joined.
   */
  held: { frame: OutboundFrame; seq: number | undefined }[] | null;
}

/** Frames held for one joining subscription; beyond this the join is failed and retried. */
export const MAX_HELD_FRAMES = 1_000;

export class Hub {
  readonly #topics = new Map<string, Set<Subscription>>();
  readonly #users = new Map<string, Set<Connection>>();
  readonly #connections = new Map<string, Connection>();
  #version = 0;

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
    set.add(subscription);
  }

  unsubscribe(subscription: Subscription): void {
    this.#version += 1;
    const set = this.#topics.get(subscription.topic);
    set?.delete(subscription);
    if (set?.size === 0) this.#topics.delete(subscription.topic);
  }

  subscribers(topic: string): ReadonlySet<Subscription> {
    return this.#topics.get(topic) ?? EMPTY_SUBSCRIPTIONS;
  }

  /** True when any connection of the user has joined the topic. */
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
