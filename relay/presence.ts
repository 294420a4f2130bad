/**
 * Phoenix Presence on chat topics: one entry per joined device (`phx_ref`), keyed by user id,
 * in the shape the `phoenix` client's Presence class consumes (`presence_state`, `presence_diff`).
 */
import type { PresenceDiff, PresenceMeta, PresenceState } from './protocol/events.js';

export class PresenceTracker {
  readonly #topics = new Map<string, Map<string, Map<string, PresenceMeta>>>();

  track(topic: string, userId: string, meta: PresenceMeta): PresenceDiff {
    let users = this.#topics.get(topic);
    if (users === undefined) this.#topics.set(topic, (users = new Map()));
    let metas = users.get(userId);
    if (metas === undefined) users.set(userId, (metas = new Map()));
    metas.set(meta.phx_ref, meta);
    return { joins: { [userId]: { metas: [meta] } }, leaves: {} };
  }

  untrack(topic: string, userId: string, phxRef: string): PresenceDiff | null {
    const users = this.#topics.get(topic);
    const metas = users?.get(userId);
    const meta = metas?.get(phxRef);
    if (users === undefined || metas === undefined || meta === undefined) return null;
    metas.delete(phxRef);
    if (metas.size === 0) users.delete(userId);
    if (users.size === 0) this.#topics.delete(topic);
    return { joins: {}, leaves: { [userId]: { metas: [meta] } } };
  }

  state(topic: string): PresenceState {
    const state: PresenceState = {};
    for (const [userId, metas] of this.#topics.get(topic) ?? []) {
      state[userId] = { metas: [...metas.values()] };
    }
    return state;
  }
}
