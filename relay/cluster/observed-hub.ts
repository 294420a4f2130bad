/**
 * The Hub, observed: tells listeners when a user's first subscription to a topic on this node
 * begins or its last one ends, when a topic gains its first or loses its last local subscriber,
 * and how many receive_message frames went out. In a cluster, `userJoined` also answers for
 * the other nodes (through `remoteJoined`), which makes the pending-notification decision of
 * chat-service.ts and the new_notification decision of delivery.ts cluster-wide.
 */
import type { Connection } from '../transport/connection.js';
import { Hub, type Subscription } from '../transport/hub.js';

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

export class ObservedHub extends Hub {
  readonly #observers: HubObserver[] = [];
  /** topic → user → live subscriptions of that user to that topic on this node. */
  readonly #counts = new Map<string, Map<string, number>>();
  readonly #live = new WeakSet<Subscription>();
  /** Whether the user is subscribed to the topic on another node (cluster mode sets it). */
  remoteJoined: (userId: string, topic: string) => boolean = () => false;

  observe(observer: HubObserver): void {
    this.#observers.push(observer);
  }

  override subscribe(subscription: Subscription): void {
    super.subscribe(subscription);
    if (this.#live.has(subscription)) return;
    this.#live.add(subscription);
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

  override unsubscribe(subscription: Subscription): void {
    super.unsubscribe(subscription);
    if (!this.#live.has(subscription)) return;
    this.#live.delete(subscription);
    const { topic } = subscription;
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

  /** True when any connection of the user, on this node or (in a cluster) another, joined it. */
  override userJoined(userId: string, topic: string): boolean {
    return super.userJoined(userId, topic) || this.remoteJoined(userId, topic);
  }

  override broadcast(
    topic: string,
    text: string,
    options: { except?: Connection | undefined; seq?: number } = {},
  ): number {
    const sent = super.broadcast(topic, text, options);
    if (options.seq !== undefined)
      for (const observer of this.#observers) observer.delivered?.(sent);
    return sent;
  }
}
