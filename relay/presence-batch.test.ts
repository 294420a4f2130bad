import fc from 'fast-check';
import { Presence } from 'phoenix';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection, OutboundFrame } from './connection.js';
import { Hub } from './hub.js';
import { PRESENCE_BATCH_MS, PresenceBatcher } from './presence-batch.js';
import { PreparedFrame } from './prepared-frame.js';
import { PresenceTracker } from './presence.js';
import type { PresenceDiff, PresenceMeta } from './protocol/events.js';

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

/** A hub with one subscriber that records the presence_diff payloads it is sent. */
function watchedHub(): { hub: Hub; diffs: PresenceDiff[] } {
  const hub = new Hub();
  const diffs: PresenceDiff[] = [];
  // A unit test of the batcher: the subscriber only needs send().
  const connection = {
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

  it('brings every joiner of a window, with its shared presence_state, to the relay state', () => {
    // Ops on 3 users × 2 devices; a device that joins may be a new subscriber (snapshot: true)
    // that gets presence_state between its track and the batched diff, as joinChat does it.
    const op = fc.record({
      user: fc.constantFrom('ana', 'ben', 'cy'),
      device: fc.constantFrom('a', 'b'),
      join: fc.boolean(),
      snapshot: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 30 }),
        fc.array(op, { maxLength: 30 }),
        (before, during) => {
          const { hub, diffs } = watchedHub();
          const tracker = new PresenceTracker();
          const batcher = new PresenceBatcher(hub, tracker);
          const change = (o: (typeof before)[number]): PresenceDiff | null => {
            const ref = `${o.user}-${o.device}`;
            return o.join
              ? tracker.track(TOPIC, o.user, meta(ref))
              : tracker.untrack(TOPIC, o.user, ref);
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
            const diff = change(o);
            if (o.snapshot) snapshot();
            if (diff !== null) batcher.add(TOPIC, diff);
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
  });

  it("brings every joiner to the whole cluster's state when other nodes' devices change too", () => {
    // As on a cluster node: the tracker's state() adds other nodes' devices, whose changes are
    // applied to it and then added to the batcher like local ones (cluster.ts). A joiner gets
    // every diff broadcast after its presence_state.
    class ClusterLike extends PresenceTracker {
      readonly remote = new Map<string, PresenceMeta>();
      override state(topic: string): ReturnType<PresenceTracker['state']> {
        const state = super.state(topic);
        for (const [ref, m] of this.remote) {
          const userId = ref.split('-')[0] ?? '';
          state[userId] = { metas: [...(state[userId]?.metas ?? []), m] };
        }
        return state;
      }
    }
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
        const tracker = new ClusterLike();
        const batcher = new PresenceBatcher(hub, tracker);
        batcher.routesEveryChange();
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
    const tracker = new (class extends PresenceTracker {
      override state(topic: string): ReturnType<PresenceTracker['state']> {
        return { ...super.state(topic), remote: { metas: [meta('remote-1')] } };
      }
    })();
    const batcher = new PresenceBatcher(hub, tracker);
    expect(batcher.stateBytes(TOPIC)).not.toBe(batcher.stateBytes(TOPIC));
    batcher.routesEveryChange();
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
