import { Presence } from 'phoenix';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PresenceMeta } from '../protocol/events.js';
import { PRESENCE_METAS_PER_USER, PresenceTracker } from './presence.js';

const TOPIC = 'chat:room-1';

function meta(phxRef: string, name: string): PresenceMeta {
  return {
    phx_ref: phxRef,
    device_unique_id: `device-${phxRef}`,
    name,
    online_at: '2030-01-01T00:00:00.000Z',
  };
}

/** What a phoenix client shows: user id → the phx_refs of its devices. */
function listed(state: object): Record<string, string[]> {
  const entries = Presence.list(state, (userId: string, presence: { metas: PresenceMeta[] }) => [
    userId,
    presence.metas.map((m) => m.phx_ref).sort(),
  ]);
  return Object.fromEntries(entries as [string, string[]][]);
}

describe('PresenceTracker', () => {
  let tracker: PresenceTracker;

  beforeEach(() => {
    tracker = new PresenceTracker();
  });

  it('track returns a Phoenix join diff and adds the device to the state', () => {
    const diff = tracker.track(TOPIC, 'ana', meta('1', 'Ana'));
    expect(diff).toEqual({ joins: { ana: { metas: [meta('1', 'Ana')] } }, leaves: {} });
    expect(tracker.state(TOPIC)).toEqual({ ana: { metas: [meta('1', 'Ana')] } });
  });

  it('keeps one meta per device under the user id', () => {
    tracker.track(TOPIC, 'ana', meta('1', 'Ana'));
    tracker.track(TOPIC, 'ana', meta('2', 'Ana'));
    tracker.track(TOPIC, 'ben', meta('3', 'Ben'));
    expect(listed(tracker.state(TOPIC))).toEqual({ ana: ['1', '2'], ben: ['3'] });
  });

  it('untrack returns a Phoenix leave diff with the departing meta', () => {
    tracker.track(TOPIC, 'ana', meta('1', 'Ana'));
    tracker.track(TOPIC, 'ana', meta('2', 'Ana'));
    expect(tracker.untrack(TOPIC, 'ana', '1')).toEqual({
      joins: {},
      leaves: { ana: { metas: [meta('1', 'Ana')] } },
    });
    expect(listed(tracker.state(TOPIC))).toEqual({ ana: ['2'] });
    tracker.untrack(TOPIC, 'ana', '2');
    expect(tracker.state(TOPIC)).toEqual({});
  });

  it("lists at most PRESENCE_METAS_PER_USER devices of a user; a waiting one takes a leaver's place", () => {
    const refs = Array.from({ length: PRESENCE_METAS_PER_USER + 2 }, (_, i) => String(i));
    const diffs = refs.map((ref) => tracker.track(TOPIC, 'ana', meta(ref, 'Ana')));
    expect(diffs.slice(PRESENCE_METAS_PER_USER)).toEqual([
      { joins: {}, leaves: {} },
      { joins: {}, leaves: {} },
    ]);
    expect(listed(tracker.state(TOPIC))).toEqual({
      ana: refs.slice(0, PRESENCE_METAS_PER_USER).sort(),
    });
    // A waiting device leaves unseen; a listed one leaves and the next waiting one is listed.
    expect(tracker.untrack(TOPIC, 'ana', refs[PRESENCE_METAS_PER_USER + 1] ?? '')).toEqual({
      joins: {},
      leaves: {},
    });
    expect(tracker.untrack(TOPIC, 'ana', '0')).toEqual({
      joins: { ana: { metas: [meta(String(PRESENCE_METAS_PER_USER), 'Ana')] } },
      leaves: { ana: { metas: [meta('0', 'Ana')] } },
    });
    expect(tracker.state(TOPIC).ana?.metas).toHaveLength(PRESENCE_METAS_PER_USER);
    expect(JSON.parse(tracker.stateJson(TOPIC))).toEqual(tracker.state(TOPIC));
  });

  it('untrack of something never tracked returns null and changes nothing', () => {
    tracker.track(TOPIC, 'ana', meta('1', 'Ana'));
    expect(tracker.untrack(TOPIC, 'ana', 'nope')).toBeNull();
    expect(tracker.untrack(TOPIC, 'ben', '1')).toBeNull();
    expect(tracker.untrack('chat:other', 'ana', '1')).toBeNull();
    expect(listed(tracker.state(TOPIC))).toEqual({ ana: ['1'] });
  });

  it('keeps topics apart', () => {
    tracker.track(TOPIC, 'ana', meta('1', 'Ana'));
    tracker.track('chat:room-2', 'ben', meta('2', 'Ben'));
    expect(listed(tracker.state(TOPIC))).toEqual({ ana: ['1'] });
    expect(listed(tracker.state('chat:room-2'))).toEqual({ ben: ['2'] });
    expect(tracker.state('chat:unknown')).toEqual({});
  });

  it('a phoenix client fed presence_state then presence_diffs sees what the relay holds', () => {
    tracker.track(TOPIC, 'ana', meta('1', 'Ana'));
    tracker.track(TOPIC, 'ben', meta('2', 'Ben'));
    // A client joins: it receives presence_state, then every later diff.
    let client: object = Presence.syncState({}, tracker.state(TOPIC));
    expect(listed(client)).toEqual({ ana: ['1'], ben: ['2'] });

    const joins: string[] = [];
    const leaves: string[] = [];
    const onJoin = (key?: string) => joins.push(key ?? '');
    const onLeave = (key?: string) => leaves.push(key ?? '');
    const apply = (diff: ReturnType<PresenceTracker['track']> | null): void => {
      expect(diff).not.toBeNull();
      if (diff !== null) client = Presence.syncDiff(client, diff, onJoin, onLeave);
    };

    apply(tracker.track(TOPIC, 'ana', meta('3', 'Ana')));
    apply(tracker.track(TOPIC, 'cy', meta('4', 'Cy')));
    apply(tracker.untrack(TOPIC, 'ben', '2'));
    apply(tracker.untrack(TOPIC, 'ana', '1'));

    expect(listed(client)).toEqual({ ana: ['3'], cy: ['4'] });
    expect(listed(client)).toEqual(listed(tracker.state(TOPIC)));
    expect(joins).toEqual(['ana', 'cy']);
    expect(leaves).toEqual(['ben', 'ana']);
    // A client that reconnects and resyncs from a fresh presence_state lands on the same list.
    expect(listed(Presence.syncState(client, tracker.state(TOPIC)))).toEqual(listed(client));
  });

  it('a client keeps the metas the relay sent, field for field', () => {
    tracker.track(TOPIC, 'ana', meta('1', 'Ana'));
    const client = Presence.syncState({}, tracker.state(TOPIC));
    const [metas] = Presence.list(
      client,
      (_id: string, presence: { metas: PresenceMeta[] }) => presence.metas,
    );
    expect(metas).toEqual([meta('1', 'Ana')]);
  });
});
