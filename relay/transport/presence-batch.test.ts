import fc from 'fast-check';
import { Presence } from 'phoenix';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection, OutboundFrame } from './connection.js';
import { Hub } from './hub.js';
import {
  PRESENCE_BATCH_MS,
  PRESENCE_BYTES_PER_S,
  PRESENCE_MAX_WINDOW_MS,
  PresenceBatcher,
} from './presence-batch.js';
import { PreparedFrame } from './prepared-frame.js';
import { PresenceTracker, type ChatPresence } from '../core/presence.js';
import type { PresenceDiff, PresenceMeta, PresenceState } from '../protocol/events.js';

const TOPIC = 'chat:room-1';

function meta(phxRef: string): PresenceMeta {
  return {
    phx_ref: phxRef,
    device_unique_id: `device-${phxRef}`,
    name: `user of ${phxRef}`,
    online_at: '2030-01-01T00:00:00.000Z',
  };
}

/** user id → sorted phx_refs, as a phoenix client lists them. */
function listed(state: object): Record<string, string[]> {
  const entries = Presence.list(state, (userId: string, presence: { metas: PresenceMeta[] }) => [
    userId,
    presence.metas.map((m) => m.phx_ref).sort(),
  ]);
  return Object.fromEntries(entries as [string, string[]][]);
}

/**
 * A presence as a cluster node's: this node's tracker, plus other nodes' devices (`remote`,
 * phx_ref → meta, the user id before the first '-'), as ClusterPresence composes them.
 */
class WithRemote implements ChatPresence {
  readonly local = new PresenceTracker();
  readonly remote = new Map<string, PresenceMeta>();

  constructor(public routesEveryChange: boolean) {}

  track(topic: string, userId: string, m: PresenceMeta): PresenceDiff {
    return this.local.track(topic, userId, m);
  }

  untrack(topic: string, userId: string, phxRef: string): PresenceDiff | null {
    return this.local.untrack(topic, userId, phxRef);
  }

  state(topic: string): PresenceState {
    const state = this.local.state(topic);
    for (const [ref, m] of this.remote) {
      const userId = ref.split('-')[0] ?? '';
      state[userId] = { metas: [...(state[userId]?.metas ?? []), m] };
    }
    return state;
  }

  stateJson(topic: string): string {
    return JSON.stringify(this.state(topic));
  }
}

/** A hub with one subscriber that records the presence_diff payloads it is sent. */
function watchedHub(): { hub: Hub; diffs: PresenceDiff[] } {
  const hub = new Hub();
  const diffs: PresenceDiff[] = [];
  // A unit test of the batcher: the subscriber only needs a user and send().
  const connection = {
    user: { id: 'watcher' },
    send(frame: OutboundFrame) {
      const text = frame instanceof PreparedFrame ? frame.payload.toString() : frame.toString();
      const parsed = JSON.parse(text) as [null, null, string, string, PresenceDiff];
      if (parsed[3] === 'presence_diff') diffs.push(parsed[4]);
      return true;
    },
  } as unknown as Connection;
  hub.subscribe({ topic: TOPIC, joinRef: '1', connection, held: null });
  return { hub, diffs };
}

describe('PresenceBatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the changes of one window as one diff', () => {
    const { hub, diffs } = watchedHub();
    const batcher = new PresenceBatcher(hub, new PresenceTracker());
    batcher.add(TOPIC, { joins: { ana: { metas: [meta('1')] } }, leaves: {} });
    batcher.add(TOPIC, { joins: { ben: { metas: [meta('2')] } }, leaves: {} });
    batcher.add(TOPIC, { joins: {}, leaves: { cy: { metas: [meta('3')] } } });
    expect(diffs).toEqual([]);
    vi.advanceTimersByTime(PRESENCE_BATCH_MS);
    expect(diffs).toEqual([
      {
        joins: { ana: { metas: [meta('1')] }, ben: { metas: [meta('2')] } },
        leaves: { cy: { metas: [meta('3')] } },
      },
    ]);
    vi.advanceTimersByTime(PRESENCE_BATCH_MS * 5);
    expect(diffs).toHaveLength(1);
  });

  it('leaves out a device that came and went within a window unseen, not one a joiner saw', async () => {
    const { hub, diffs } = watchedHub();
    const tracker = new PresenceTracker();
    const batcher = new PresenceBatcher(hub, tracker);
    // Unseen: nobody's presence_state held it, so nobody needs to hear of it.
    batcher.add(TOPIC, tracker.track(TOPIC, 'ana', meta('1')));
    await Promise.resolve();
    batcher.add(TOPIC, tracker.untrack(TOPIC, 'ana', '1') ?? { joins: {}, leaves: {} });
    vi.advanceTimersByTime(PRESENCE_BATCH_MS);
    expect(diffs).toEqual([]);
    // Seen: a joiner's state (taken in the same turn as its join, as chat-channel.ts does) had it.
    const joined = tracker.track(TOPIC, 'ben', meta('2'));
    const state = JSON.parse(batcher.stateBytes(TOPIC).toString()) as object;
    batcher.add(TOPIC, joined);
    await Promise.resolve();
    batcher.add(TOPIC, tracker.untrack(TOPIC, 'ben', '2') ?? { joins: {}, leaves: {} });
    vi.advanceTimersByTime(PRESENCE_BATCH_MS);
    expect(diffs).toEqual([
      { joins: { ben: { metas: [meta('2')] } }, leaves: { ben: { metas: [meta('2')] } } },
    ]);
    const [diff = { joins: {}, leaves: {} }] = diffs;
    expect(listed(Presence.syncDiff(Presence.syncState({}, state), diff))).toEqual({});
  });

  it('paces a topic after a large diff: the next window waits until its bytes fit the budget', () => {
    const { hub, diffs } = watchedHub();
    const tracker = new PresenceTracker();
    const batcher = new PresenceBatcher(hub, tracker);
    const big = (ref: string): PresenceMeta => ({
      ...meta(ref),
      device_unique_id: 'd'.repeat(128),
    });
    for (let i = 0; i < 40; i += 1) batcher.add(TOPIC, tracker.track(TOPIC, `u${i}`, big(`a${i}`)));
    vi.advanceTimersByTime(PRESENCE_BATCH_MS);
    expect(diffs).toHaveLength(1);
    const bytes = JSON.stringify([null, null, TOPIC, 'presence_diff', diffs[0]]).length;
    const paceMs = (bytes / PRESENCE_BYTES_PER_S) * 1_000;
    expect(paceMs).toBeGreaterThan(PRESENCE_BATCH_MS * 2);
    batcher.add(TOPIC, tracker.track(TOPIC, 'late', meta('late')));
    vi.advanceTimersByTime(PRESENCE_BATCH_MS);
    expect(diffs).toHaveLength(1);
    vi.advanceTimersByTime(Math.min(paceMs, PRESENCE_MAX_WINDOW_MS));
    expect(diffs).toHaveLength(2);
    expect(diffs[1]).toEqual({ joins: { late: { metas: [meta('late')] } }, leaves: {} });
  });

  it.each([
    ['every device listed', 8],
    ['one device listed per user, the other waiting', 1],
  ])(
    'brings every joiner of a window, with its shared presence_state, to the relay state (%s)',
    async (_, perUser) => {
      // Ops on 3 users × 2 devices; a device that joins may be a new subscriber (snapshot: true)
      // that gets presence_state between its track and the batched diff, as joinChat does it,
      // all in one turn; each op is its own turn (join-then-leave in a window may cancel out).
      const op = fc.record({
        user: fc.constantFrom('ana', 'ben', 'cy'),
        device: fc.constantFrom('a', 'b'),
        join: fc.boolean(),
        snapshot: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { maxLength: 30 }),
          fc.array(op, { maxLength: 30 }),
          async (before, during) => {
            const { hub, diffs } = watchedHub();
            const tracker = new PresenceTracker(perUser);
            const batcher = new PresenceBatcher(hub, tracker);
            // As the relay does: each join has its own phx_ref, and joining again first ends
            // the device's previous subscription.
            const current = new Map<string, string>();
            let joins = 0;
            const change = (o: (typeof before)[number]): PresenceDiff[] => {
              const device = `${o.user}-${o.device}`;
              const previous = current.get(device);
              current.delete(device);
              const left = previous === undefined ? null : tracker.untrack(TOPIC, o.user, previous);
              if (!o.join) return left === null ? [] : [left];
              joins += 1;
              current.set(device, `${device}-${joins}`);
              const joined = tracker.track(TOPIC, o.user, meta(`${device}-${joins}`));
              return left === null ? [joined] : [left, joined];
            };
            const clients: object[] = [];
            const snapshot = (): void => {
              clients.push(
                Presence.syncState({}, JSON.parse(batcher.stateBytes(TOPIC).toString()) as object),
              );
            };
            for (const o of before) change(o);
            snapshot();
            for (const o of during) {
              const changes = change(o);
              if (o.snapshot) snapshot();
              for (const diff of changes) batcher.add(TOPIC, diff);
              await Promise.resolve();
            }
            vi.advanceTimersByTime(PRESENCE_BATCH_MS);
            const expected = listed(tracker.state(TOPIC));
            for (const client of clients) {
              let state = client;
              for (const diff of diffs) state = Presence.syncDiff(state, diff);
              expect(listed(state)).toEqual(expected);
            }
            // After the flush a joiner gets a fresh snapshot, not the window's.
            expect(JSON.parse(batcher.stateBytes(TOPIC).toString())).toEqual(tracker.state(TOPIC));
          },
        ),
      );
    },
  );

  it("brings every joiner to the whole cluster's state when other nodes' devices change too", () => {
    // As on a cluster node: the presence's state() adds other nodes' devices, whose changes are
    // applied to it and then added to the batcher like local ones (cluster.ts). A joiner gets
    // every diff broadcast after its presence_state.
    const op = fc.record({
      user: fc.constantFrom('ana', 'ben', 'cy'),
      device: fc.constantFrom('a', 'b', 'r1', 'r2'),
      join: fc.boolean(),
      snapshot: fc.boolean(),
      flush: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const { hub, diffs } = watchedHub();
        const tracker = new WithRemote(true);
        const batcher = new PresenceBatcher(hub, tracker);
        const clients: { state: object; from: number }[] = [];
        const snapshots = new Set<Buffer>();
        const snapshot = (): void => {
          const bytes = batcher.stateBytes(TOPIC);
          snapshots.add(bytes);
          const state = Presence.syncState({}, JSON.parse(bytes.toString()) as object);
          clients.push({ state, from: diffs.length });
        };
        for (const o of ops) {
          const ref = `${o.user}-${o.device}`;
          let diff: PresenceDiff | null;
          if (o.device.startsWith('r')) {
            // Another node's device: applied to the replica, then added (cluster-state.ts).
            const had = tracker.remote.has(ref);
            if (o.join === had) continue;
            if (o.join) tracker.remote.set(ref, meta(ref));
            else tracker.remote.delete(ref);
            const side = { [o.user]: { metas: [meta(ref)] } };
            diff = o.join ? { joins: side, leaves: {} } : { joins: {}, leaves: side };
          } else {
            diff = o.join
              ? tracker.track(TOPIC, o.user, meta(ref))
              : tracker.untrack(TOPIC, o.user, ref);
          }
          if (o.snapshot) snapshot();
          if (diff !== null) batcher.add(TOPIC, diff);
          if (o.flush) vi.advanceTimersByTime(PRESENCE_BATCH_MS);
        }
        vi.advanceTimersByTime(PRESENCE_BATCH_MS);
        const expected = listed(tracker.state(TOPIC));
        for (const client of clients) {
          let state = client.state;
          for (const diff of diffs.slice(client.from)) state = Presence.syncDiff(state, diff);
          expect(listed(state)).toEqual(expected);
        }
        // Shared within a window: never more snapshots than windows plus one.
        expect(snapshots.size).toBeLessThanOrEqual(diffs.length + 1);
      }),
    );
  });

  it("gives each joiner a fresh state unless every change reaches it, then shares a window's", () => {
    const { hub } = watchedHub();
    const tracker = new WithRemote(false);
    tracker.remote.set('remote-1', meta('remote-1'));
    const batcher = new PresenceBatcher(hub, tracker);
    expect(batcher.stateBytes(TOPIC)).not.toBe(batcher.stateBytes(TOPIC));
    tracker.routesEveryChange = true;
    const first = batcher.stateBytes(TOPIC);
    expect(batcher.stateBytes(TOPIC)).toBe(first);
    expect(JSON.parse(first.toString())).toEqual(tracker.state(TOPIC));
    batcher.add(TOPIC, tracker.track(TOPIC, 'ana', meta('ana-a')));
    expect(batcher.stateBytes(TOPIC)).toBe(first);
    vi.advanceTimersByTime(PRESENCE_BATCH_MS);
    const second = batcher.stateBytes(TOPIC);
    expect(second).not.toBe(first);
    expect(JSON.parse(second.toString())).toEqual(tracker.state(TOPIC));
  });
});
