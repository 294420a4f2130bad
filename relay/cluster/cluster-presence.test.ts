/**
 * Cluster presence and typing wrap this node's trackers: local changes are handed to the
 * cluster state (what other nodes list), reads answer for every node.
 */
import { describe, expect, it } from 'vitest';
import { ClusterPresence, ClusterTyping, type PresenceReplica } from './cluster-presence.js';
import { PRESENCE_METAS_PER_USER } from '../core/presence.js';
import type { PresenceMeta } from '../protocol/events.js';

function meta(phxRef: string): PresenceMeta {
  return {
    phx_ref: phxRef,
    device_unique_id: `device-${phxRef}`,
    name: `Name "${phxRef}"`,
    online_at: '2030-01-01T00:00:00.000Z',
  };
}

/** Records what is replicated; other nodes' devices are set by the test. */
class FakeReplica implements PresenceReplica {
  readonly sent: [string, string, string, boolean][] = [];
  readonly remote = new Map<string, Map<string, PresenceMeta[]>>();

  localPresence(topic: string, userId: string, m: PresenceMeta, on: boolean): void {
    this.sent.push([topic, userId, m.phx_ref, on]);
  }

  remotePresence(topic: string): Map<string, PresenceMeta[]> {
    return this.remote.get(topic) ?? new Map();
  }
}

describe('ClusterPresence', () => {
  it("lists and encodes this node's devices and the other nodes'", () => {
    const replica = new FakeReplica();
    replica.remote.set(
      'chat:a',
      new Map([
        ['ana', [meta('far-1')]],
        ['ben', [meta('far-2')]],
      ]),
    );
    const presence = new ClusterPresence(replica, { routesEveryChange: true });
    expect(presence.routesEveryChange).toBe(true);
    presence.track('chat:a', 'ana', meta('1'));
    const expected = {
      ana: { metas: [meta('1'), meta('far-1')] },
      ben: { metas: [meta('far-2')] },
    };
    expect(presence.state('chat:a')).toEqual(expected);
    expect(JSON.parse(presence.stateJson('chat:a'))).toEqual(expected);
    expect(presence.state('chat:b')).toEqual({});
  });

  it('replicates listed devices only, and the one that takes a leaving device’s place', () => {
    const replica = new FakeReplica();
    const presence = new ClusterPresence(replica, { routesEveryChange: false });
    expect(presence.routesEveryChange).toBe(false);
    for (let i = 0; i <= PRESENCE_METAS_PER_USER; i += 1) {
      presence.track('chat:a', 'ana', meta(`d${i}`));
    }
    const waiting = `d${PRESENCE_METAS_PER_USER}`;
    expect(replica.sent.map(([, , ref]) => ref)).not.toContain(waiting);
    expect(replica.sent).toHaveLength(PRESENCE_METAS_PER_USER);
    replica.sent.length = 0;
    const diff = presence.untrack('chat:a', 'ana', 'd0');
    expect(diff?.joins).toEqual({ ana: { metas: [meta(waiting)] } });
    expect(replica.sent).toEqual([
      ['chat:a', 'ana', 'd0', false],
      ['chat:a', 'ana', waiting, true],
    ]);
    replica.sent.length = 0;
    expect(presence.untrack('chat:a', 'ana', 'never')).toBeNull();
    expect(replica.sent).toEqual([]);
  });
});

describe('ClusterTyping', () => {
  it("hands this node's typing set to the cluster and reads everyone's from it", () => {
    const announced: [string, string[]][] = [];
    const typing = new ClusterTyping(1_000, {
      localTyping: (chatId, userIds) => announced.push([chatId, userIds]),
      typingIn: (chatId) => (chatId === 'c1' ? ['ana', 'far'] : []),
    });
    typing.set({ chatId: 'c1', userId: 'ana', connectionId: 'x', typing: true, now: 0 });
    typing.set({ chatId: 'c1', userId: 'ben', connectionId: 'y', typing: true, now: 0 });
    typing.dropConnection('y');
    typing.sweep(1_000);
    expect(announced).toEqual([
      ['c1', ['ana']],
      ['c1', ['ana', 'ben']],
      ['c1', ['ana']],
      ['c1', []],
    ]);
    expect(typing.typingIn('c1')).toEqual(['ana', 'far']);
  });
});
