/**
 * Batches this node's presence_diff broadcasts per chat topic: joins and leaves within
 * PRESENCE_BATCH_MS go out as one diff to every subscriber.
 *
 * Why: each join and each leave used to be broadcast to every subscriber of the topic at once,
 * so N devices joining one room cost N²/2 frames (connect storm of 2,000 clients: 91 s until
 * all joined, against 1.4 s for raw `ws`; the profile was all `writev` of presence_diff frames).
 * Batched, a storm costs one frame per subscriber per window. Phoenix Presence clients apply a
 * merged diff exactly like the diffs it replaces (joins first, then leaves, keyed by phx_ref),
 * and a joiner that also sees its own join deduplicates it by phx_ref.
 */
import { encodeFrame } from './protocol/frame.js';
import type { PresenceDiff, PresenceMeta, PresenceState } from './protocol/events.js';
import type { Hub } from './hub.js';
import { PresenceTracker } from './presence.js';

/** How long presence changes of one topic are gathered before they are broadcast. */
export const PRESENCE_BATCH_MS = 100;

/** user id → phx_ref → meta */
type Metas = Map<string, Map<string, PresenceMeta>>;

interface Pending {
  joins: Metas;
  leaves: Metas;
}

function put(into: Metas, userId: string, meta: PresenceMeta): void {
  let metas = into.get(userId);
  if (metas === undefined) into.set(userId, (metas = new Map()));
  metas.set(meta.phx_ref, meta);
}

function toState(metas: Metas): PresenceState {
  const state: PresenceState = {};
  for (const [userId, byRef] of metas) {
    if (byRef.size > 0) state[userId] = { metas: [...byRef.values()] };
  }
  return state;
}

export class PresenceBatcher {
  readonly #hub: Hub;
  readonly #presence: PresenceTracker;
  readonly #windowMs: number;
  readonly #pending = new Map<string, Pending>();
  /** topic → presence_state JSON, UTF-8, shared by the joiners of the current window. */
  readonly #snapshots = new Map<string, Buffer>();
  /** True when every change of the tracker's state reaches add() (routesEveryChange). */
  #routesEveryChange = false;

  constructor(hub: Hub, presence: PresenceTracker, windowMs: number = PRESENCE_BATCH_MS) {
    this.#hub = hub;
    this.#presence = presence;
    this.#windowMs = windowMs;
  }

  /**
   * The presence_state JSON for a joiner, as UTF-8. It is encoded once per window and shared by
   * every joiner in it (written to each as the same bytes: SplicedFrame): any change after the
   * snapshot goes through add(), so the window's diff, which every subscriber (the joiner too)
   * gets at the flush, brings the snapshot up to date.
   *
   * A tracker that adds to state() (a cluster node adds other nodes' devices) may change
   * outside this batcher: its joiners each get a fresh state, unless its owner routes those
   * changes through add() too and says so with {@link routesEveryChange}.
   */
  stateBytes(topic: string): Buffer {
    if (this.#presence.state !== PresenceTracker.prototype.state && !this.#routesEveryChange) {
      return Buffer.from(this.#presence.stateJson(topic));
    }
    let snapshot = this.#snapshots.get(topic);
    if (snapshot === undefined) {
      snapshot = Buffer.from(this.#presence.stateJson(topic));
      this.#snapshots.set(topic, snapshot);
    }
    return snapshot;
  }

  /**
   * Declares that every change of the tracker's state, including what a subclass adds (other
   * nodes' devices), is applied to it and then passed to add(), as joinChat does locally.
   */
  routesEveryChange(): void {
    this.#routesEveryChange = true;
  }

  /** Queues a presence change of `topic` (applied to the tracker already) for its subscribers. */
  add(topic: string, diff: PresenceDiff): void {
    let pending = this.#pending.get(topic);
    if (pending === undefined) {
      // A snapshot taken while no window was open saw every change so far; this one and the
      // rest of the window reach its holders through the flush.
      this.#pending.set(topic, (pending = { joins: new Map(), leaves: new Map() }));
      setTimeout(() => this.#flush(topic), this.#windowMs).unref();
    }
    for (const [userId, { metas }] of Object.entries(diff.joins)) {
      for (const meta of metas) {
        // A join replaces a pending leave of the same phx_ref: clients apply joins before
        // leaves, so keeping both would remove the device that just came back.
        pending.leaves.get(userId)?.delete(meta.phx_ref);
        put(pending.joins, userId, meta);
      }
    }
    for (const [userId, { metas }] of Object.entries(diff.leaves)) {
      // A leave keeps its pending join: a joiner may have been sent a state that already has
      // the device, and join-then-leave ends with it gone for everyone.
      for (const meta of metas) put(pending.leaves, userId, meta);
    }
  }

  #flush(topic: string): void {
    const pending = this.#pending.get(topic);
    this.#pending.delete(topic);
    this.#snapshots.delete(topic);
    if (pending === undefined) return;
    const diff: PresenceDiff = { joins: toState(pending.joins), leaves: toState(pending.leaves) };
    if (Object.keys(diff.joins).length === 0 && Object.keys(diff.leaves).length === 0) return;
    this.#hub.broadcast(topic, encodeFrame(null, null, topic, 'presence_diff', diff));
  }
}

const batchers = new WeakMap<Hub, PresenceBatcher>();

/** The batcher of a relay (one per hub and tracker), created on first use. */
export function presenceBatcher(hub: Hub, presence: PresenceTracker): PresenceBatcher {
  let batcher = batchers.get(hub);
  if (batcher === undefined) batchers.set(hub, (batcher = new PresenceBatcher(hub, presence)));
  return batcher;
}
