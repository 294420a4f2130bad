/**
 * Access after a membership change, across nodes: once a leave is acknowledged on one node,
 * the leaver can neither send nor read on another node, even one whose member cache still
 * lists them. Sends skip the read-only access check when the node's cache names the sender
 * (chat-service.ts); the database checks membership again in the statement that stores the
 * message, and reads always ask the database, so access never depends on the bus having
 * delivered the change. The worst case is tested: node B on a Redis of its own, so it never
 * hears of the leave at all; and the ordinary case of a shared bus.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatInfo, WireMessage } from '../protocol/events.js';
import type { RunningRelay } from '../node/relay.js';
import { ClusterClient } from '../testing/cluster-client.js';
import {
  freshDatabase,
  startClusterServices,
  startNode,
  type ClusterServices,
} from '../testing/cluster-harness.js';
import { RawClient, api, signIn, type Session } from '../testing/relay-harness.js';
import { startRedis, type RedisServer } from '../testing/services.js';

const LIMITS = {
  sessionAttemptsPerMinute: 10_000,
  messagesPerSecond: 100_000,
  messageBurst: 100_000,
};

let services: ClusterServices;
/** A second Redis: a node on it shares the database but hears nothing of the others. */
let isolatedRedis: RedisServer;
const nodes: RunningRelay[] = [];
const clients: ClusterClient[] = [];
const raws: RawClient[] = [];

beforeAll(async () => {
  [services, isolatedRedis] = await Promise.all([startClusterServices(), startRedis()]);
}, 60_000);
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const raw of raws.splice(0)) raw.close();
  await Promise.all(nodes.splice(0).map((node) => node.close()));
});
afterAll(async () => {
  await Promise.all([services?.stop(), isolatedRedis?.remove()]);
});

async function twoNodes(sharedBus: boolean): Promise<[RunningRelay, RunningRelay]> {
  const databaseUrl = await freshDatabase(services);
  const a = await startNode(services, databaseUrl, 'node-a', { limits: LIMITS });
  const b = await startNode(services, databaseUrl, 'node-b', {
    limits: LIMITS,
    ...(sharedBus ? {} : { redisUrl: isolatedRedis.url }),
  });
  nodes.push(a, b);
  return [a, b];
}

function client(node: RunningRelay, session: Session, chats: string[]): ClusterClient {
  const created = new ClusterClient({
    urls: [node.url],
    token: session.token,
    user: session.user,
    chats,
  });
  clients.push(created);
  return created;
}

/** Ben's private room with Ana in it, made on node A. */
async function privateRoom(a: RunningRelay, ben: Session, ana: Session): Promise<ChatInfo> {
  const created = await api<{ chat: ChatInfo }>(a, ben.token, 'POST', '/api/chats', {
    name: 'inner circle',
    visibility: 'private',
  });
  expect(created.status).toBe(201);
  const room = created.body.chat;
  const added = await api(a, ben.token, 'POST', `/api/chats/${room.id}/members`, {
    user_id: ana.user.id,
  });
  expect(added.status).toBeLessThan(300);
  return room;
}

describe.each([
  { bus: 'a bus that never delivers the leave to node B', sharedBus: false },
  { bus: 'a shared bus', sharedBus: true },
])('a member who left on node A, with $bus', ({ sharedBus }) => {
  it('can neither send nor read on node B once the leave is acknowledged', async () => {
    const [a, b] = await twoNodes(sharedBus);
    const ben = await signIn(a, 'Ben');
    const ana = await signIn(a, 'Ana');
    const room = await privateRoom(a, ben, ana);

    // Ana on node B: joined and sending, so node B's member cache lists her.
    const anaOnB = client(b, ana, [room.id]);
    await anaOnB.start();
    const before = await anaOnB.sendOnce(room.id, 'still here');
    expect(before).toMatchObject({ status: 'sent', seq: 1 });

    const left = await api(a, ana.token, 'POST', `/api/chats/${room.id}/leave`);
    expect(left.status).toBe(200);

    // Right after the acknowledgement, on node B: a send over the socket, when node B never
    // heard of the leave (with a shared bus it closes Ana's subscription instead, as
    // cluster.test.ts checks)...
    if (!sharedBus) {
      const afterLeave = await anaOnB.sendOnce(room.id, 'should not be stored');
      expect(afterLeave).toMatchObject({ status: 'error', reason: 'not_member' });
    }
    // ...a send over HTTP...
    const overHttp = await api<{ error?: { code: string } }>(
      b,
      ana.token,
      'POST',
      `/api/chats/${room.id}/messages`,
      { content: 'nor this', mobile_ref_id: 'http-after-leave' },
    );
    expect(overHttp.body.error?.code).toBe('not_member');
    // ...a resend of the message she sent while a member (exactly-once does not bypass it)...
    const resend = await api<{ error?: { code: string } }>(
      b,
      ana.token,
      'POST',
      `/api/chats/${room.id}/messages`,
      { content: 'still here', mobile_ref_id: anaOnB.acks.keys().next().value ?? '' },
    );
    expect(resend.body.error?.code).toBe('not_member');
    // ...reading the history, and joining the chat again.
    const read = await api<{ error?: { code: string } }>(
      b,
      ana.token,
      'GET',
      `/api/chats/${room.id}/messages?after_seq=0`,
    );
    expect(read.body.error?.code).toBe('not_member');
    const rejoin = await RawClient.connect(
      { socketUrl: `${b.url.replace(/^http/, 'ws')}/socket` },
      ana.token,
    );
    raws.push(rejoin);
    const joined = await rejoin.join(`chat:${room.id}`);
    expect(joined).toMatchObject({ status: 'error', response: { reason: 'not_member' } });

    // Only the message sent while a member was stored: Ben reads exactly that one.
    const history = await api<{ messages: WireMessage[] }>(
      a,
      ben.token,
      'GET',
      `/api/chats/${room.id}/messages?after_seq=0`,
    );
    expect(history.body.messages.map((message) => message.content)).toEqual(['still here']);
  }, 60_000);
});
