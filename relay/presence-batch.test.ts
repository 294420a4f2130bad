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
});
