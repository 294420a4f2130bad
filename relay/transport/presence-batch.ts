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
 *
 * Churn is coalesced and paced too. A device that joins and leaves within one window, unseen by
 * any joiner's presence_state, is left out of the diff altogether (net zero); and after a large
 * diff a topic's next window waits until the diff's bytes fit PRESENCE_BYTES_PER_S (at most
 * PRESENCE_MAX_WINDOW_MS), so what one window gathered longer is still one diff. Why: one user
 * with 32 connections joining and leaving the main room sent every member 0.15–0.28 MB/s, in
 * diffs of up to 480 KB (presence-churn.hostile.test.ts; with presence.ts's per-user cap, the
 * same churn now costs each member about 16 KB/s).
 */
import { encodeFrame } from '../protocol/frame.js';
import {
  EVENTS,
  type PresenceDiff,
  type PresenceMeta,
  type PresenceState,
} from '../protocol/events.js';
import type { Hub } from './hub.js';
import type { ChatPresence } from '../core/presence.js';

/** How long presence changes of one topic are gathered before they are broadcast. */
export const PRESENCE_BATCH_MS = 100;
/** Presence bytes per second a topic's diffs may average once they are large (per member). */
export const PRESENCE_BYTES_PER_S = 16 * 1024;
/** The longest a topic's window is stretched to pace large diffs. */
export const PRESENCE_MAX_WINDOW_MS = 2_000;

/** user id → phx_ref → meta */
type Metas = Map<string, Map<string, PresenceMeta>>;

interface Pending {
  joins: Metas;
  leaves: Metas;
  /** phx_refs of pending joins that a joiner's presence_state already holds. */
  seen: Set<string>;
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
  readonly #presence: ChatPresence;
  readonly #windowMs: number;
  readonly #pending = new Map<string, Pending>();
  /** topic → presence_state JSON, UTF-8, shared by the joiners of the current window. */
  readonly #snapshots = new Map<string, Buffer>();
  /** topic → when its next window may end, after a diff too large for PRESENCE_BYTES_PER_S. */
  readonly #pacedUntil = new Map<string, number>();
  /** Topics whose state was taken in the current turn of the event loop (see #markSeen). */
  readonly #statesThisTurn = new Set<string>();
  constructor(hub: Hub, presence: ChatPresence, windowMs: number = PRESENCE_BATCH_MS) {
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
   * A presence whose state may change without add() (ChatPresence.routesEveryChange false)
   * gives each joiner a fresh state instead.
   */
  stateBytes(topic: string): Buffer {
    if (!this.#presence.routesEveryChange) {
      this.#markSeen(topic);
      return Buffer.from(this.#presence.stateJson(topic));
    }
    let snapshot = this.#snapshots.get(topic);
    if (snapshot === undefined) {
      this.#markSeen(topic);
      snapshot = Buffer.from(this.#presence.stateJson(topic));
      this.#snapshots.set(topic, snapshot);
    }
    return snapshot;
  }

  /**
   * A state is taken now: the window's joins so far are in it, so their leaves must be sent.
   * So are the joins added later in this same turn: chat-channel.ts tracks a joiner, takes its
   * state, then adds its join, all at once.
   */
  #markSeen(topic: string): void {
    if (this.#statesThisTurn.size === 0) queueMicrotask(() => this.#statesThisTurn.clear());
    this.#statesThisTurn.add(topic);
    const pending = this.#pending.get(topic);
    if (pending === undefined) return;
    for (const metas of pending.joins.values()) {
      for (const ref of metas.keys()) pending.seen.add(ref);
    }
  }

  /** Queues a presence change of `topic` (applied to the tracker already) for its subscribers. */
  add(topic: string, diff: PresenceDiff): void {
    const joins = Object.entries(diff.joins);
    const leaves = Object.entries(diff.leaves);
    if (joins.length === 0 && leaves.length === 0) return;
    let pending = this.#pending.get(topic);
    if (pending === undefined) {
      // A snapshot taken while no window was open saw every change so far; this one and the
      // rest of the window reach its holders through the flush.
      this.#pending.set(
        topic,
        (pending = { joins: new Map(), leaves: new Map(), seen: new Set() }),
      );
      const paced = (this.#pacedUntil.get(topic) ?? 0) - performance.now();
      this.#pacedUntil.delete(topic);
      setTimeout(() => this.#flush(topic), Math.max(this.#windowMs, paced)).unref();
    }
    for (const [userId, { metas }] of joins) {
      for (const meta of metas) {
        // A join replaces a pending leave of the same phx_ref: clients apply joins before
        // leaves, so keeping both would remove the device that just came back. Such a device
        // was known before this window, so a later leave of it must be sent.
        const returned = pending.leaves.get(userId)?.delete(meta.phx_ref) === true;
        put(pending.joins, userId, meta);
        if (returned || this.#statesThisTurn.has(topic)) pending.seen.add(meta.phx_ref);
      }
    }
    for (const [userId, { metas }] of leaves) {
      for (const meta of metas) {
        // A device that joined in this window and that no joiner's state holds yet is, for
        // everyone, as if it had never come: both go. Otherwise the leave keeps its pending
        // join: a joiner may have been sent a state that already has the device, and
        // join-then-leave ends with it gone for everyone.
        const joined = pending.joins.get(userId);
        if (joined?.has(meta.phx_ref) === true && !pending.seen.has(meta.phx_ref)) {
          joined.delete(meta.phx_ref);
          continue;
        }
        put(pending.leaves, userId, meta);
      }
    }
  }

  #flush(topic: string): void {
    const pending = this.#pending.get(topic);
    this.#pending.delete(topic);
    this.#snapshots.delete(topic);
    if (pending === undefined) return;
    const diff: PresenceDiff = { joins: toState(pending.joins), leaves: toState(pending.leaves) };
    if (Object.keys(diff.joins).length === 0 && Object.keys(diff.leaves).length === 0) return;
    const frame = encodeFrame(null, null, topic, EVENTS.presenceDiff, diff);
    // Bytes, near enough: presence is mostly ASCII, and this only sets a pace.
    const paceMs = Math.min(PRESENCE_MAX_WINDOW_MS, (frame.length / PRESENCE_BYTES_PER_S) * 1_000);
    if (paceMs > this.#windowMs) this.#pacedUntil.set(topic, performance.now() + paceMs);
    this.#hub.broadcast(topic, frame);
  }
}

const batchers = new WeakMap<Hub, PresenceBatcher>();

/** The batcher of a relay (one per hub and presence), created on first use. */
export function presenceBatcher(hub: Hub, presence: ChatPresence): PresenceBatcher {
  let batcher = batchers.get(hub);
  if (batcher === undefined) batchers.set(hub, (batcher = new PresenceBatcher(hub, presence)));
  return batcher;
}
