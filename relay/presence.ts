/**
 * Phoenix Presence on chat topics: one entry per joined device (`phx_ref`), keyed by user id,
 * in the shape the `phoenix` client's Presence class consumes (`presence_state`, `presence_diff`).
 */
import type { PresenceDiff, PresenceMeta, PresenceState } from './protocol/events.js';

export class PresenceTracker {
  readonly #topics = new Map<string, Map<string, Map<string, PresenceMeta>>>();
  /** topic → user id → that user's `"id":{"metas":[...]}` in JSON, until their metas change. */
  readonly #encoded = new Map<string, Map<string, string>>();

  track(topic: string, userId: string, meta: PresenceMeta): PresenceDiff {
    let users = this.#topics.get(topic);
    if (users === undefined) this.#topics.set(topic, (users = new Map()));
    let metas = users.get(userId);
    if (metas === undefined) users.set(userId, (metas = new Map()));
    metas.set(meta.phx_ref, meta);
    this.#encoded.get(topic)?.delete(userId);
    return { joins: { [userId]: { metas: [meta] } }, leaves: {} };
  }

  untrack(topic: string, userId: string, phxRef: string): PresenceDiff | null {
    const users = this.#topics.get(topic);
    const metas = users?.get(userId);
    const meta = metas?.get(phxRef);
    if (users === undefined || metas === undefined || meta === undefined) return null;
    metas.delete(phxRef);
    this.#encoded.get(topic)?.delete(userId);
    if (metas.size === 0) users.delete(userId);
    if (users.size === 0) {
      this.#topics.delete(topic);
      this.#encoded.delete(topic);
    }
    return { joins: {}, leaves: { [userId]: { metas: [meta] } } };
  }

  state(topic: string): PresenceState {
    const state: PresenceState = {};
    for (const [userId, metas] of this.#topics.get(topic) ?? []) {
      state[userId] = { metas: [...metas.values()] };
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
    // A subclass that adds to state() (a cluster node adds the other nodes' devices) is encoded
    // whole, so nothing it adds is left out.
    if (this.state !== PresenceTracker.prototype.state) return JSON.stringify(this.state(topic));
    const users = this.#topics.get(topic);
    if (users === undefined) return '{}';
    let encoded = this.#encoded.get(topic);
    if (encoded === undefined) this.#encoded.set(topic, (encoded = new Map()));
    const parts: string[] = [];
    for (const [userId, metas] of users) {
      let part = encoded.get(userId);
      if (part === undefined) {
        part = `${JSON.stringify(userId)}:${JSON.stringify({ metas: [...metas.values()] })}`;
        encoded.set(userId, part);
      }
      parts.push(part);
    }
    return `{${parts.join(',')}}`;
  }
}
