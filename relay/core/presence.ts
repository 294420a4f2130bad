/**
 * Phoenix Presence on chat topics: one entry per joined device (`phx_ref`), keyed by user id,
 * in the shape the `phoenix` client's Presence class consumes (`presence_state`, `presence_diff`).
 *
 * At most PRESENCE_METAS_PER_USER devices of one user are listed per chat; further devices are
 * tracked, unlisted, and take the place of a listed one that leaves. Why: every listed device
 * is in every joiner's presence_state and every change of one is a diff to every member, so a
 * user holding 32 connections that joined and left the main room over and over sent each member
 * 0.15–0.28 MB/s of presence_diff (presence-churn.hostile.test.ts).
 */
import type { PresenceDiff, PresenceMeta, PresenceState } from '../protocol/events.js';

/** Devices of one user listed in one chat's presence; the user's other devices wait unlisted. */
export const PRESENCE_METAS_PER_USER = 8;

interface UserPresence {
  /** Listed: in the state and the diffs, at most PRESENCE_METAS_PER_USER. */
  listed: Map<string, PresenceMeta>;
  /** Tracked but not listed, oldest first: the next to be listed when a listed one leaves. */
  waiting: Map<string, PresenceMeta>;
}

function noChange(): PresenceDiff {
  return { joins: {}, leaves: {} };
}

/**
 * Presence as the transport needs it (chat-channel.ts, presence-batch.ts): a PresenceTracker on
 * one host; in a cluster, ClusterPresence, which wraps one (cluster/cluster-presence.ts).
 */
export interface ChatPresence {
  /** Adds a device; the diff is empty when the user already has its listed devices. */
  track(topic: string, userId: string, meta: PresenceMeta): PresenceDiff;
  /** Removes a device (see PresenceTracker.untrack); null for one never tracked. */
  untrack(topic: string, userId: string, phxRef: string): PresenceDiff | null;
  /** Everyone listed in the topic, in the Phoenix Presence shape. */
  state(topic: string): PresenceState;
  /** `state(topic)` as JSON. */
  stateJson(topic: string): string;
  /**
   * True when every change of state() reaches the presence batcher's add() (presence-batch.ts):
   * this node's as the diffs track and untrack return (chat-channel.ts adds them), any other
   * (another node's devices) from whoever applies it. Only then may the joiners of one batch
   * window share one presence_state.
   */
  readonly routesEveryChange: boolean;
}

/** This node's presence: its state changes only through track and untrack. */
export class PresenceTracker implements ChatPresence {
  readonly routesEveryChange = true;
  readonly #topics = new Map<string, Map<string, UserPresence>>();
  /** topic → user id → that user's `"id":{"metas":[...]}` in JSON, until their metas change. */
  readonly #encoded = new Map<string, Map<string, string>>();
  readonly #metasPerUser: number;

  constructor(metasPerUser: number = PRESENCE_METAS_PER_USER) {
    this.#metasPerUser = metasPerUser;
  }

  /** Adds a device; the diff is empty when the user already has its listed devices. */
  track(topic: string, userId: string, meta: PresenceMeta): PresenceDiff {
    let users = this.#topics.get(topic);
    if (users === undefined) this.#topics.set(topic, (users = new Map()));
    let user = users.get(userId);
    if (user === undefined) users.set(userId, (user = { listed: new Map(), waiting: new Map() }));
    if (user.listed.size >= this.#metasPerUser && !user.listed.has(meta.phx_ref)) {
      user.waiting.set(meta.phx_ref, meta);
      return noChange();
    }
    user.listed.set(meta.phx_ref, meta);
    this.#encoded.get(topic)?.delete(userId);
    return { joins: { [userId]: { metas: [meta] } }, leaves: {} };
  }

  /**
   * Removes a device: a leave diff, with the join of the user's next waiting device if one takes
   * its place; empty for a device that was not listed; null for one never tracked.
   */
  untrack(topic: string, userId: string, phxRef: string): PresenceDiff | null {
    const users = this.#topics.get(topic);
    const user = users?.get(userId);
    if (users === undefined || user === undefined) return null;
    if (user.waiting.delete(phxRef)) return noChange();
    const meta = user.listed.get(phxRef);
    if (meta === undefined) return null;
    user.listed.delete(phxRef);
    this.#encoded.get(topic)?.delete(userId);
    const diff: PresenceDiff = { joins: {}, leaves: { [userId]: { metas: [meta] } } };
    const next = user.waiting.values().next();
    if (next.done !== true) {
      user.waiting.delete(next.value.phx_ref);
      user.listed.set(next.value.phx_ref, next.value);
      diff.joins[userId] = { metas: [next.value] };
    }
    if (user.listed.size === 0) users.delete(userId);
    if (users.size === 0) {
      this.#topics.delete(topic);
      this.#encoded.delete(topic);
    }
    return diff;
  }

  state(topic: string): PresenceState {
    const state: PresenceState = {};
    for (const [userId, user] of this.#topics.get(topic) ?? []) {
      state[userId] = { metas: [...user.listed.values()] };
    }
    return state;
  }

  /**
   * `state(topic)` as JSON, joined from per-user pieces that are encoded once per change of that
   * user. Why: every joiner gets the whole state, so a storm of N joins into one room encoded
   * N²/2 metas (JSON.stringify was a third of a 3,000-client connect storm's profile); now each
   * join encodes one user and copies the rest.
   */
  stateJson(topic: string): string {
    const users = this.#topics.get(topic);
    if (users === undefined) return '{}';
    let encoded = this.#encoded.get(topic);
    if (encoded === undefined) this.#encoded.set(topic, (encoded = new Map()));
    const parts: string[] = [];
    for (const [userId, user] of users) {
      let part = encoded.get(userId);
      if (part === undefined) {
        part = `${JSON.stringify(userId)}:${JSON.stringify({ metas: [...user.listed.values()] })}`;
        encoded.set(userId, part);
      }
      parts.push(part);
    }
    return `{${parts.join(',')}}`;
  }
}
