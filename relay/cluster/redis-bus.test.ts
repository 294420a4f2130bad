/**
 * The Redis bus against a real redis-server: cross-node delivery, bounded buffers while Redis
 * is down or stalled, resubscription by itself after a restart, gap detection.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvent } from '../core/bus.js';
import type { ControlMessage } from './cluster-wire.js';
import { RelayMetrics } from '../node/metrics.js';
import type { RecoverReason } from './cluster-bus.js';
import { RedisBus, reconnectDelay } from './redis-bus.js';
import { startRedis, type RedisServer } from '../testing/services.js';
import type { WireMessage } from '../protocol/events.js';

const logger = pino({ level: process.env.PARLEY_TEST_LOG ?? 'silent' });
let redis: RedisServer;
const buses: RedisBus[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.remove();
});
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
  // A test that stopped Redis leaves it running again for the next one.
  if (redis.pid === null) await redis.start();
});

async function bus(
  nodeId: string,
  extra: { maxInFlight?: number; metrics?: RelayMetrics; channel?: string } = {},
): Promise<RedisBus> {
  const created = new RedisBus({
    url: redis.url,
    nodeId,
    logger,
    reconnectMaxMs: 100,
    ...extra,
  });
  buses.push(created);
  await created.connect();
  return created;
}

function message(seq: number, chatId = 'chat-1'): BusEvent {
  const wire: WireMessage = {
    chat_id: chatId,
    message_id: `m${seq}`,
    seq,
    content: `hello ${seq}`,
    sender_id: 'u1',
    sender_name: 'Ana',
    timestamp: new Date(0).toISOString(),
    expires_at: null,
    mobile_ref_id: `r${seq}`,
    edited_at: null,
    deleted_at: null,
    version_seq: seq,
  };
  return { type: 'message', message: wire, originConnectionId: 'conn-1' };
}

/** Resolves with the first `count` events a bus's handlers receive. */
function nextEvents(target: RedisBus, count: number): Promise<BusEvent[]> {
  return new Promise((resolve) => {
    const seen: BusEvent[] = [];
    const stop = target.subscribe((event) => {
      seen.push(event);
      if (seen.length === count) {
        stop();
        resolve(seen);
      }
    });
  });
}

function nextRecover(target: RedisBus, reason: RecoverReason): Promise<void> {
  return new Promise((resolve) => {
    const stop = target.onRecover((seen) => {
      if (seen !== reason) return;
      stop();
      resolve();
    });
  });
}

/** The sum of a counter's series whose labels include `labels`. */
async function counterValue(
  metric: { get(): Promise<{ values: { labels: object; value: number }[] }> },
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((value) =>
      Object.entries(labels).every(([k, v]) => (value.labels as Record<string, unknown>)[k] === v),
    )
    .reduce((sum, value) => sum + value.value, 0);
}

describe('RedisBus', () => {
  it('delivers to local handlers at once and to other nodes in publish order, never back to the sender', async () => {
    const a = await bus('node-a');
    const b = await bus('node-b');
    const c = await bus('node-c');
    const localSeen: BusEvent[] = [];
    a.subscribe((event) => localSeen.push(event));
    const atB = nextEvents(b, 200);
    const atC = nextEvents(c, 200);
    for (let seq = 1; seq <= 200; seq += 1) a.publish(message(seq));
    // Local delivery is synchronous, like LocalBus.
    expect(localSeen).toHaveLength(200);
    const expected = Array.from({ length: 200 }, (_, index) => message(index + 1));
    expect(await atB).toEqual(expected);
    expect(await atC).toEqual(expected);
    // Nothing came back to A through Redis: one more event proves the stream was drained.
    const marker = nextEvents(a, 1);
    b.publish(message(999, 'other'));
    expect(await marker).toEqual([message(999, 'other')]);
    expect(localSeen).toHaveLength(201);
  });

  it('sends control messages to the other nodes only, with who sent them', async () => {
    const a = await bus('node-a');
    const b = await bus('node-b');
    const seenAtA: ControlMessage[] = [];
    a.onControl((control) => seenAtA.push(control));
    const atB = new Promise<{ message: ControlMessage; node: string; fresh: boolean }>(
      (resolve) => {
        b.onControl((control, from) =>
          resolve({ message: control, node: from.node, fresh: from.fresh }),
        );
      },
    );
    a.publishControl({ type: 'heartbeat' });
    expect(await atB).toEqual({ message: { type: 'heartbeat' }, node: 'node-a', fresh: true });
    expect(seenAtA).toEqual([]);
  });

  it('drops instead of queueing while Redis is down, then resubscribes by itself and reports the gap', async () => {
    const metrics = new RelayMetrics({ nodeId: 'node-a', processMetrics: false });
    const a = await bus('node-a', { metrics });
    const b = await bus('node-b');
    const warmUp = nextEvents(b, 1);
    a.publish(message(1));
    await warmUp;

    const resubscribedA = nextRecover(a, 'resubscribed');
    const resubscribedB = nextRecover(b, 'resubscribed');
    await redis.kill();
    // Local delivery goes on without Redis; the remote copies are dropped, not queued.
    const local: BusEvent[] = [];
    a.subscribe((event) => local.push(event));
    for (let seq = 2; seq <= 51; seq += 1) a.publish(message(seq));
    expect(local).toHaveLength(50);
    expect(await a.ready()).toBe(false);
    expect(await counterValue(metrics.busDropped, {})).toBe(50);

    await redis.start();
    await Promise.all([resubscribedA, resubscribedB, a.whenConnected(), b.whenConnected()]);
    expect(await a.ready()).toBe(true);
    // The first envelope after the outage shows B that 50 of A's went missing.
    const gap = nextRecover(b, 'gap');
    const after = nextEvents(b, 1);
    a.publish(message(52));
    await gap;
    expect(await after).toEqual([message(52)]);
  });

  it('bounds the publishes awaiting a stalled Redis', async () => {
    const metrics = new RelayMetrics({ nodeId: 'node-a', processMetrics: false });
    const a = await bus('node-a', { metrics, maxInFlight: 5 });
    const b = await bus('node-b');
    const pid = redis.pid;
    if (pid === null) throw new Error('redis is not running');
    process.kill(pid, 'SIGSTOP');
    try {
      for (let seq = 1; seq <= 20; seq += 1) a.publish(message(seq));
      expect(await counterValue(metrics.busDropped, { reason: 'buffer_full' })).toBe(15);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The five that were in flight arrive once Redis wakes up.
    const atB = await nextEvents(b, 5);
    expect(atB.map((event) => (event.type === 'message' ? event.message.seq : 0))).toEqual([
      1, 2, 3, 4, 5,
    ]);
  });

  it('ignores envelopes that do not validate, counting them as errors', async () => {
    const metrics = new RelayMetrics({ nodeId: 'node-b', processMetrics: false });
    const a = await bus('node-a');
    const b = await bus('node-b', { metrics });
    const raw = new Redis(redis.url);
    try {
      const seen = nextEvents(b, 1);
      await raw.publish('parley:bus', 'not json');
      await raw.publish(
        'parley:bus',
        JSON.stringify({ v: 1, n: 'x', b: 'y', s: 1, t: 0, e: { type: 'nope' } }),
      );
      a.publish(message(7));
      expect(await seen).toEqual([message(7)]);
      expect(await counterValue(metrics.errors, { kind: 'bus_decode' })).toBe(2);
    } finally {
      raw.disconnect();
    }
  });

  it('carries membership changes, and reads those of older nodes that name no added users', async () => {
    const a = await bus('node-a');
    const b = await bus('node-b');
    const raw = new Redis(redis.url);
    try {
      const seen = nextEvents(b, 2);
      a.publish({ type: 'membership', chatId: 'c1', addedUserIds: ['u2'], removedUserIds: [] });
      await raw.publish(
        'parley:bus',
        JSON.stringify({
          v: 1,
          n: 'node-old',
          b: 'boot-1',
          s: 1,
          t: Date.now(),
          e: { type: 'membership', chatId: 'c2', removedUserIds: ['u3'] },
        }),
      );
      expect(await seen).toEqual(
        expect.arrayContaining([
          { type: 'membership', chatId: 'c1', addedUserIds: ['u2'], removedUserIds: [] },
          { type: 'membership', chatId: 'c2', addedUserIds: [], removedUserIds: ['u3'] },
        ]),
      );
    } finally {
      raw.disconnect();
    }
  });

  it('keeps clusters on different channels apart', async () => {
    const a = await bus('node-a', { channel: 'cluster-1' });
    const b = await bus('node-b', { channel: 'cluster-2' });
    const c = await bus('node-c', { channel: 'cluster-2' });
    const seenAtB: BusEvent[] = [];
    b.subscribe((event) => seenAtB.push(event));
    const atB = nextEvents(b, 1);
    a.publish(message(1));
    c.publish(message(2));
    expect(await atB).toEqual([message(2)]);
    expect(seenAtB).toEqual([message(2)]);
  });
});

describe('reconnectDelay', () => {
  it('backs off with full jitter under a cap', () => {
    for (let attempt = 0; attempt < 40; attempt += 1) {
      const delay = reconnectDelay(attempt, 2_000);
      expect(delay).toBeGreaterThanOrEqual(10);
      expect(delay).toBeLessThanOrEqual(2_000);
    }
    const spread = new Set(Array.from({ length: 50 }, () => reconnectDelay(10, 2_000)));
    expect(spread.size).toBeGreaterThan(10);
  });
});
