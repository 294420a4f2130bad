/**
 * Unit tests of the cluster state's replication rules, with nodes connected by an in-memory
 * link (a fake of the Redis bus for this one module; cluster.test.ts runs the real thing) and
 * a clock the test moves.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ControlMessage } from './cluster-wire.js';
import type { ClusterLink, ControlHandler, RecoverReason } from './cluster-bus.js';
import { ClusterState } from './cluster-state.js';
import { Hub } from '../transport/hub.js';
import type { PresenceMeta } from '../protocol/events.js';

const HEARTBEAT_MS = 100;
const TTL_MS = 300;

/** Records the frames the state broadcasts to "its clients". */
class RecordingHub extends Hub {
  readonly frames: { topic: string; event: string; payload: Record<string, unknown> }[] = [];

  override broadcast(topic: string, text: string): number {
    const [, , , event, payload] = JSON.parse(text) as [
      null,
      null,
      string,
      string,
      Record<string, unknown>,
    ];
    this.frames.push({ topic, event, payload });
    return 1;
  }

  take(): { topic: string; event: string; payload: Record<string, unknown> }[] {
    return this.frames.splice(0);
  }
}

/** Connects nodes like the bus does: per-sender counters, so dropped messages show as gaps. */
class MemoryNet {
  readonly #links = new Map<string, MemoryLink>();
  /** While true, nothing is delivered (counters still advance: a lossy outage). */
  partitioned = false;
  readonly sent: { from: string; message: ControlMessage }[] = [];

  link(node: string): MemoryLink {
    const link = new MemoryLink(node, this);
    this.#links.set(node, link);
    return link;
  }

  deliver(from: MemoryLink, message: ControlMessage): void {
    this.sent.push({ from: from.node, message });
    if (this.partitioned) return;
    for (const link of this.#links.values()) if (link !== from) link.receive(from, message);
  }
}

class MemoryLink implements ClusterLink {
  readonly boot = Math.random().toString(36).slice(2);
  counter = 0;
  readonly #seen = new Map<string, { boot: string; counter: number }>();
  readonly #handlers = new Set<ControlHandler>();
  readonly #recover = new Set<(reason: RecoverReason) => void>();
  closed = false;

  constructor(
    readonly node: string,
    readonly net: MemoryNet,
  ) {}

  publishControl(message: ControlMessage): void {
    if (this.closed) return;
    this.counter += 1;
    // Through JSON, as over Redis: nothing shared by reference.
    this.net.deliver(this, JSON.parse(JSON.stringify(message)) as ControlMessage);
  }

  receive(from: MemoryLink, message: ControlMessage): void {
    if (this.closed) return;
    const peer = this.#seen.get(from.node);
    const fresh = peer === undefined || peer.boot !== from.boot;
    const gap = !fresh && from.counter !== peer.counter + 1;
    this.#seen.set(from.node, { boot: from.boot, counter: from.counter });
    for (const handler of this.#handlers) {
      handler(message, { node: from.node, boot: from.boot, fresh, gap });
    }
  }

  onControl(handler: ControlHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  onRecover(handler: (reason: RecoverReason) => void): () => void {
    this.#recover.add(handler);
    return () => this.#recover.delete(handler);
  }

  forgetPeer(node: string): void {
    this.#seen.delete(node);
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function meta(ref: string, name = 'Ana'): PresenceMeta {
  return { phx_ref: ref, device_unique_id: 'd', name, online_at: '2030-01-01T00:00:00.000Z' };
}

function setup(names: string[]) {
  const net = new MemoryNet();
  let now = 0;
  const nodes = names.map((nodeId) => {
    const hub = new RecordingHub();
    const link = net.link(nodeId);
    const state = new ClusterState({
      nodeId,
      link,
      hub,
      logger: pino({ level: 'silent' }),
      heartbeatMs: HEARTBEAT_MS,
      nodeTtlMs: TTL_MS,
      now: () => now,
    });
    return { nodeId, hub, link, state };
  });
  for (const node of nodes) node.state.start();
  return {
    net,
    nodes,
    advance: (ms: number) => {
      now += ms;
    },
    stop: () => {
      for (const node of nodes) node.state.stop();
    },
  };
}

describe('ClusterState', () => {
  it('replicates subscriptions, presence and typing to the other nodes', async () => {
    const { nodes, stop } = setup(['a', 'b']);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    try {
      await tick();
      b.hub.take();
      a.state.localSub('chat:1', 'ana', true);
      a.state.localPresence('chat:1', 'ana', meta('r1'), true);
      a.state.localTyping('1', ['ana']);
      await tick();
      expect(b.state.remoteJoined('ana', 'chat:1')).toBe(true);
      expect(b.state.remoteJoined('ana', 'chat:2')).toBe(false);
      expect([...b.state.remotePresence('chat:1')]).toEqual([['ana', [meta('r1')]]]);
      expect(b.state.typingIn('1')).toEqual(['ana']);
      expect(b.hub.take()).toEqual([
        {
          topic: 'chat:1',
          event: 'presence_diff',
          payload: { joins: { ana: { metas: [meta('r1')] } }, leaves: {} },
        },
        { topic: 'chat:1', event: 'typing_update', payload: { chat_id: '1', user_ids: ['ana'] } },
      ]);
      // B's own typer joins the set; both nodes announce the union.
      a.hub.take();
      b.state.localTyping('1', ['ben']);
      await tick();
      expect(b.hub.take().map((f) => f.payload)).toEqual([
        { chat_id: '1', user_ids: ['ben', 'ana'] },
      ]);
      expect(a.hub.take().map((f) => f.payload)).toEqual([
        { chat_id: '1', user_ids: ['ana', 'ben'] },
      ]);
    } finally {
      stop();
    }
  });

  it('drops a silent node after nodeTtlMs: its users leave and stop typing', async () => {
    const { nodes, advance, stop } = setup(['a', 'b']);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    try {
      await tick();
      a.state.localPresence('chat:1', 'ana', meta('r1'), true);
      a.state.localTyping('1', ['ana']);
      await tick();
      b.hub.take();
      // A dies: no more heartbeats from it. B keeps ticking.
      a.link.closed = true;
      advance(TTL_MS);
      b.state.tick();
      expect(b.state.peerCount).toBe(1);
      advance(1);
      b.state.tick();
      expect(b.state.peerCount).toBe(0);
      expect(b.hub.take()).toEqual([
        {
          topic: 'chat:1',
          event: 'presence_diff',
          payload: { joins: {}, leaves: { ana: { metas: [meta('r1')] } } },
        },
        { topic: 'chat:1', event: 'typing_update', payload: { chat_id: '1', user_ids: [] } },
      ]);
      expect(b.state.remotePresence('chat:1').size).toBe(0);
    } finally {
      stop();
    }
  });

  it('forgets a node that says bye at once', async () => {
    const { nodes, stop } = setup(['a', 'b']);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    try {
      await tick();
      a.state.localSub('notifications:ana', 'ana', true);
      await tick();
      expect(b.state.remoteJoined('ana', 'notifications:ana')).toBe(true);
      a.state.stop();
      expect(b.state.remoteJoined('ana', 'notifications:ana')).toBe(false);
      expect(b.state.peerCount).toBe(0);
    } finally {
      stop();
    }
  });

  it('asks for a snapshot after a gap, ignores ops meanwhile, and ends up exact', async () => {
    const { net, nodes, stop } = setup(['a', 'b']);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    try {
      await tick();
      a.state.localPresence('chat:1', 'ana', meta('r1'), true);
      await tick();
      // B misses A's next changes.
      net.partitioned = true;
      a.state.localPresence('chat:1', 'ana', meta('r1'), false);
      a.state.localPresence('chat:1', 'ana', meta('r2'), true);
      a.state.localSub('chat:1', 'ana', true);
      await tick();
      net.partitioned = false;
      b.hub.take();
      net.sent.length = 0;
      // A's next heartbeat shows B the jump in A's counter.
      a.state.tick();
      await tick();
      expect(net.sent.map((s) => `${s.from}:${s.message.type}`)).toEqual([
        'a:heartbeat',
        'b:sync_request',
        'a:snapshot',
      ]);
      expect([...b.state.remotePresence('chat:1')]).toEqual([['ana', [meta('r2')]]]);
      expect(b.state.remoteJoined('ana', 'chat:1')).toBe(true);
      // B's clients were told exactly what changed.
      expect(b.hub.take()).toEqual([
        {
          topic: 'chat:1',
          event: 'presence_diff',
          payload: {
            joins: { ana: { metas: [meta('r2')] } },
            leaves: { ana: { metas: [meta('r1')] } },
          },
        },
      ]);
    } finally {
      stop();
    }
  });

  it('learns a node that joins later from its snapshot, and the newcomer learns the others', async () => {
    const { nodes, stop } = setup(['a']);
    const [a] = nodes as [(typeof nodes)[0]];
    try {
      a.state.localPresence('chat:1', 'ana', meta('r1'), true);
      await tick();
      // A second cluster view: a late node on the same in-memory net as A.
      const lateHub = new RecordingHub();
      const late = new ClusterState({
        nodeId: 'late',
        link: a.link.net.link('late'),
        hub: lateHub,
        logger: pino({ level: 'silent' }),
        heartbeatMs: HEARTBEAT_MS,
        nodeTtlMs: TTL_MS,
      });
      late.start();
      await tick();
      expect([...late.remotePresence('chat:1')]).toEqual([['ana', [meta('r1')]]]);
      late.localSub('chat:9', 'zed', true);
      await tick();
      expect(a.state.remoteJoined('zed', 'chat:9')).toBe(true);
      late.stop();
    } finally {
      stop();
    }
  });

  it('sends one snapshot instead of an unbounded queue of changes', async () => {
    const net = new MemoryNet();
    const link = net.link('a');
    const peer = net.link('b');
    const received: ControlMessage[] = [];
    peer.onControl((message) => received.push(message));
    const state = new ClusterState({
      nodeId: 'a',
      link,
      hub: new RecordingHub(),
      logger: pino({ level: 'silent' }),
      heartbeatMs: HEARTBEAT_MS,
      nodeTtlMs: TTL_MS,
      maxQueuedOps: 10,
    });
    for (let i = 0; i < 25; i += 1) state.localSub(`chat:${i}`, 'ana', true);
    await tick();
    expect(received.map((message) => message.type)).toEqual(['snapshot']);
    const [snapshot] = received;
    expect(snapshot?.type === 'snapshot' ? snapshot.state.subs.length : 0).toBe(25);
  });
});
