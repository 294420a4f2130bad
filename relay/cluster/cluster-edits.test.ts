/**
 * Edits and deletes through a cluster (issue 17): three in-process nodes sharing one real Redis
 * and one real PostgreSQL. A change made through one node reaches live subscribers on another
 * in seq order with the messages around it; a client that was away resumes on a third node
 * and gets both changes; a deleted text is nowhere in what any node serves afterwards.
 */
import type { Socket } from 'phoenix';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRelay } from '../node/relay.js';
import type {
  ChatEvent,
  ChatJoinReply,
  HistoryPage,
  MessageChanged,
  WireMessage,
} from '../protocol/events.js';
import { chatTopic } from '../protocol/topics.js';
import {
  freshDatabase,
  startClusterServices,
  startNode,
  type ClusterServices,
} from '../testing/cluster-harness.js';
import { startRedisFaultProxy } from '../testing/redis-fault-proxy.js';
import {
  api,
  collect,
  connectPhoenix,
  join,
  mainChatId,
  push,
  signIn,
  until,
} from '../testing/relay-harness.js';

const LIMITS = {
  sessionAttemptsPerMinute: 10_000,
  messagesPerSecond: 100_000,
  messageBurst: 100_000,
};

let services: ClusterServices;
const nodes: RunningRelay[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  services = await startClusterServices();
}, 60_000);
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  await Promise.all(nodes.splice(0).map((node) => node.close()));
});
afterAll(async () => {
  await services?.stop();
});

async function cluster(): Promise<[RunningRelay, RunningRelay, RunningRelay]> {
  const databaseUrl = await freshDatabase(services);
  const first = await startNode(services, databaseUrl, 'node-1', { limits: LIMITS });
  const rest = await Promise.all(
    ['node-2', 'node-3'].map((id) => startNode(services, databaseUrl, id, { limits: LIMITS })),
  );
  nodes.push(first, ...rest);
  return [first, rest[0] as RunningRelay, rest[1] as RunningRelay];
}

/** Gaps a node saw in other nodes' bus envelope numbers (parley_bus_dropped_total, peer_gap). */
async function busGaps(node: RunningRelay): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const found = /^parley_bus_dropped_total\{[^}]*reason="peer_gap"[^}]*\} (\d+)/m.exec(text);
  return Number(found?.[1] ?? 0);
}

function socketOn(node: RunningRelay, token: string, device: string): Socket {
  const socket = connectPhoenix(node, token, device);
  sockets.push(socket);
  return socket;
}

describe('edits and deletes in a cluster (in-process nodes, real Redis and PostgreSQL)', () => {
  it('reach live subscribers on other nodes in seq order, and a client resuming on a third node', async () => {
    const [n1, n2, n3] = await cluster();
    const ana = await signIn(n1, 'Ana');
    const ben = await signIn(n2, 'Ben');
    const cy = await signIn(n3, 'Cy');
    const main = await mainChatId(n1, ana.token);
    const topic = chatTopic(main);

    // Ana writes through node 1; Ben reads on node 2 and then goes away.
    const anaChannel = socketOn(n1, ana.token, 'ana-1').channel(topic, {});
    expect((await join(anaChannel)).status).toBe('ok');
    const benSocket = socketOn(n2, ben.token, 'ben-1');
    const benChannel = benSocket.channel(topic, {});
    const benJoin = await join<ChatJoinReply>(benChannel);
    expect(benJoin.status).toBe('ok');
    expect(benJoin.response.stream_version).toBe(2);
    const benSeen = collect<WireMessage>(benChannel, 'receive_message');
    const sent: WireMessage[] = [];
    for (const content of ['keep me, typo', 'delete me: launch code 4711']) {
      const reply = await push<{ seq: number; message_id: string }>(anaChannel, 'send_message', {
        content,
        mobile_ref_id: `ref-${content.length}`,
      });
      expect(reply.status).toBe('ok');
    }
    await until(() => benSeen.length === 2, 5_000, 'Ben sees both messages');
    sent.push(...benSeen);
    const benSynced = Math.max(...sent.map((m) => m.seq));
    benSocket.disconnect();

    // Cy watches on node 3 while Ana edits (socket, node 1) and deletes (HTTP, node 1).
    const cyChannel = socketOn(n3, cy.token, 'cy-1').channel(topic, {});
    expect((await join(cyChannel)).status).toBe('ok');
    const cyEdits = collect<ChatEvent>(cyChannel, 'message_edited');
    const cyDeletes = collect<ChatEvent>(cyChannel, 'message_deleted');
    const cyMessages = collect<WireMessage>(cyChannel, 'receive_message');
    const [keep, gone] = sent as [WireMessage, WireMessage];
    const edited = await push<MessageChanged>(anaChannel, 'edit_message', {
      message_id: keep.message_id,
      content: 'keep me, fixed',
      ref_id: 'edit-1',
    });
    expect(edited.status).toBe('ok');
    const after = await push(anaChannel, 'send_message', { content: 'after', mobile_ref_id: 'r3' });
    expect(after.status).toBe('ok');
    const deleted = await api<MessageChanged>(
      n1,
      ana.token,
      'DELETE',
      `/api/chats/${main}/messages/${gone.message_id}`,
    );
    expect(deleted.status).toBe(200);
    expect(deleted.body.event.type).toBe('message_deleted');

    await until(
      () => cyEdits.length === 1 && cyDeletes.length === 1 && cyMessages.length === 1,
      5_000,
      'Cy sees the edit, the next message and the delete live on node 3',
    );
    // One stream, in order: edit, message, delete.
    expect([cyEdits[0]?.seq, cyMessages[0]?.seq, cyDeletes[0]?.seq]).toEqual([
      benSynced + 1,
      benSynced + 2,
      benSynced + 3,
    ]);
    expect(cyEdits[0]).toMatchObject({ message_id: keep.message_id, content: 'keep me, fixed' });

    // Ben comes back on node 3 with the seq he had: the join reply brings both changes.
    const back = socketOn(n3, ben.token, 'ben-2').channel(topic, { since_seq: benSynced });
    const resumed = await join<ChatJoinReply>(back);
    expect(resumed.status).toBe('ok');
    expect(resumed.response.events.map((e) => [e.type, e.message_id])).toEqual([
      ['message_edited', keep.message_id],
      ['message_deleted', gone.message_id],
    ]);
    expect(resumed.response.messages.map((m) => m.content)).toEqual(['after']);
    expect(resumed.response.last_seq).toBe(benSynced + 3);

    // Every node serves the current state; the deleted text is nowhere.
    for (const node of [n1, n2, n3]) {
      const page = await api<HistoryPage>(
        node,
        ben.token,
        'GET',
        `/api/chats/${main}/messages?after_seq=0`,
      );
      const body = JSON.stringify(page.body);
      expect(body).not.toContain('launch code');
      const byId = new Map(page.body.messages.map((m) => [m.message_id, m]));
      expect(byId.get(keep.message_id)).toMatchObject({ content: 'keep me, fixed' });
      expect(byId.get(gone.message_id)).toMatchObject({ content: '' });
      expect(byId.get(gone.message_id)?.deleted_at).not.toBeNull();
    }
    const search = await api<{ messages: WireMessage[] }>(
      n2,
      ben.token,
      'GET',
      `/api/search?q=launch`,
    );
    expect(search.body.messages).toEqual([]);
  });

  it("refuses a change of another user's message on every node and takes no seq", async () => {
    const [n1, n2, n3] = await cluster();
    const ana = await signIn(n1, 'Ana');
    const ben = await signIn(n2, 'Ben');
    const main = await mainChatId(n1, ana.token);
    const posted = await api<{ message: WireMessage }>(
      n1,
      ana.token,
      'POST',
      `/api/chats/${main}/messages`,
      { content: 'mine', mobile_ref_id: 'm1' },
    );
    const message = posted.body.message;
    for (const node of [n1, n2, n3]) {
      const edit = await api<MessageChanged>(
        node,
        ben.token,
        'PATCH',
        `/api/chats/${main}/messages/${message.message_id}`,
        { content: 'hijacked', ref_id: `x-${node.port}` },
      );
      expect(edit.status).toBe(403);
      const remove = await api<MessageChanged>(
        node,
        ben.token,
        'DELETE',
        `/api/chats/${main}/messages/${message.message_id}`,
      );
      expect(remove.status).toBe(403);
    }
    const chat = await api<{ chat: { last_seq: number } }>(
      n3,
      ana.token,
      'GET',
      `/api/chats/${main}`,
    );
    expect(chat.body.chat.last_seq).toBe(message.seq);
  });

  it('re-sends change events a lossy bus dropped, from the store, in seq order', async () => {
    // Node 2 reaches Redis through a proxy that drops every change event on its way in: only
    // catch-up (a peer gap seen on the next envelope or heartbeat, then readStreamPage) can
    // bring Ben the edit and the delete.
    const proxy = await startRedisFaultProxy(services.redis.port, (_channel, payload) =>
      payload.includes('"type":"change"'),
    );
    try {
      const databaseUrl = await freshDatabase(services);
      const n1 = await startNode(services, databaseUrl, 'node-1', { limits: LIMITS });
      const n2 = await startNode(services, databaseUrl, 'node-2', {
        limits: LIMITS,
        redisUrl: proxy.url,
      });
      nodes.push(n1, n2);
      const ana = await signIn(n1, 'Ana');
      const ben = await signIn(n2, 'Ben');
      const main = await mainChatId(n1, ana.token);
      const topic = chatTopic(main);
      const anaChannel = socketOn(n1, ana.token, 'ana-1').channel(topic, {});
      expect((await join(anaChannel)).status).toBe('ok');
      const benChannel = socketOn(n2, ben.token, 'ben-1').channel(topic, {});
      expect((await join(benChannel)).status).toBe('ok');
      const benMessages = collect<WireMessage>(benChannel, 'receive_message');
      const benEdits = collect<ChatEvent>(benChannel, 'message_edited');
      const benDeletes = collect<ChatEvent>(benChannel, 'message_deleted');
      for (const content of ['first, typo', 'second: secret 9931']) {
        const reply = await push(anaChannel, 'send_message', { content, mobile_ref_id: content });
        expect(reply.status).toBe('ok');
      }
      await until(() => benMessages.length === 2, 5_000, 'Ben sees both messages');
      const [first, second] = benMessages as [WireMessage, WireMessage];

      const edited = await push<MessageChanged>(anaChannel, 'edit_message', {
        message_id: first.message_id,
        content: 'first, fixed',
        ref_id: 'e1',
      });
      expect(edited.status).toBe('ok');
      const deleted = await push<MessageChanged>(anaChannel, 'delete_message', {
        message_id: second.message_id,
      });
      expect(deleted.status).toBe('ok');

      await until(
        () => benEdits.length >= 1 && benDeletes.length >= 1,
        10_000,
        'Ben gets the dropped edit and delete through catch-up',
      );
      expect(proxy.dropped).toBeGreaterThanOrEqual(2);
      expect(await busGaps(n2)).toBeGreaterThanOrEqual(1);
      expect(benEdits).toEqual([edited.response.event]);
      expect(benDeletes).toEqual([deleted.response.event]);
      expect(benEdits[0]).toMatchObject({ message_id: first.message_id, content: 'first, fixed' });
      expect([benEdits[0]?.seq, benDeletes[0]?.seq]).toEqual([second.seq + 1, second.seq + 2]);
      expect(JSON.stringify(benDeletes)).not.toContain('secret 9931');
    } finally {
      await proxy.close();
    }
  });
});
