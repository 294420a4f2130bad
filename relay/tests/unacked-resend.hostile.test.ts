/**
 * kill -9 between commit and acknowledgement, on purpose: a client's socket runs through a proxy
 * that stops passing the relay's answers (relay/testing/blackhole-proxy.ts), the client sends,
 * the test waits until the message is stored, then kills the relay. The client saw no
 * `message_sent`; it resends with the same `mobile_ref_id` after the restart (SQLite) or on
 * another node of a cluster (PostgreSQL), as the real client does. The message must be stored
 * once, answered as the original (same seq and id, `duplicate: true`), and seen once on resume.
 * crash.hostile.test.ts reaches this state only when a random kill happens to land there.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ChatJoinReply, ChatSummary, MessageSent, WireMessage } from '../protocol/events.js';
import { startBlackholeProxy, type BlackholeProxy } from '../testing/blackhole-proxy.js';
import {
  freshDatabase,
  killAllNodes,
  spawnNode,
  startClusterServices,
  type ClusterServices,
} from '../testing/cluster-harness.js';
import {
  RawClient,
  api,
  eventually,
  removeDir,
  signIn,
  type Session,
} from '../testing/relay-harness.js';
import {
  killAllRelayProcesses,
  startRelayProcess,
  type RelayProcess,
} from '../testing/relay-process.js';

const proxies: BlackholeProxy[] = [];
const raws: RawClient[] = [];
const dirs: string[] = [];
let services: ClusterServices | null = null;

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.close();
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  await killAllRelayProcesses();
  await killAllNodes();
  for (const dir of dirs.splice(0)) removeDir(dir);
});
afterAll(async () => {
  await services?.stop();
});

async function mainRoom(relay: { url: string }, session: Session): Promise<string> {
  const chats = await api<{ chats: ChatSummary[] }>(relay, session.token, 'GET', '/api/chats');
  const main = chats.body.chats.find((chat) => chat.is_main);
  if (main === undefined) throw new Error('no main room');
  return main.id;
}

async function history(
  relay: { url: string },
  session: Session,
  chatId: string,
): Promise<WireMessage[]> {
  const page = await api<{ messages: WireMessage[] }>(
    relay,
    session.token,
    'GET',
    `/api/chats/${chatId}/messages?after_seq=0&limit=500`,
  );
  expect(page.status).toBe(200);
  return page.body.messages;
}

/** Waits until `ref` is stored (no event says "committed" to an outside observer). */
async function untilStored(
  relay: { url: string },
  session: Session,
  chatId: string,
  ref: string,
): Promise<WireMessage> {
  let found: WireMessage | undefined;
  await eventually(
    async () =>
      (found = (await history(relay, session, chatId)).find((m) => m.mobile_ref_id === ref)) !==
      undefined,
    10_000,
    `${ref} to be stored`,
  );
  return found as WireMessage;
}

/**
 * Through a proxy that then goes deaf: joins, sends `ref`, waits until it is stored, kills the
 * relay with SIGKILL. Returns what was stored and what the client heard.
 */
async function commitWithoutAck(
  relay: RelayProcess,
  session: Session,
  chatId: string,
  ref: string,
): Promise<{ stored: WireMessage; heardAck: boolean; droppedBytes: number }> {
  const proxy = await startBlackholeProxy(relay.port);
  proxies.push(proxy);
  const client = await RawClient.connect({ socketUrl: proxy.socketUrl }, session.token, 'laptop');
  raws.push(client);
  const joined = await client.join(`chat:${chatId}`);
  expect(joined.status).toBe('ok');
  proxy.blackhole();
  client.send(joined.joinRef, `chat:${chatId}`, 'send_message', {
    content: `committed, never acknowledged (${ref})`,
    mobile_ref_id: ref,
  });
  const stored = await untilStored(relay, session, chatId, ref);
  relay.child.kill('SIGKILL');
  expect((await relay.exited).signal).toBe('SIGKILL');
  await client.closed();
  const heardAck = client.frames.some((frame) => frame[3] === 'message_sent');
  return { stored, heardAck, droppedBytes: proxy.droppedBytes };
}

/** The client comes back: resumes from seq 0, then resends its unacknowledged message. */
async function resumeAndResend(
  relay: RelayProcess,
  session: Session,
  chatId: string,
  ref: string,
): Promise<{ resumed: WireMessage[]; answer: MessageSent }> {
  const client = await RawClient.connect(relay, session.token, 'laptop');
  raws.push(client);
  const joined = await client.join(`chat:${chatId}`, { since_seq: 0 });
  expect(joined.status).toBe('ok');
  const resumed = (joined.response as unknown as ChatJoinReply).messages;
  client.send(joined.joinRef, `chat:${chatId}`, 'send_message', {
    content: `committed, never acknowledged (${ref})`,
    mobile_ref_id: ref,
  });
  const frame = await client.waitFor(
    (f) => f[3] === 'message_sent' && (f[4] as MessageSent).mobile_ref_id === ref,
    10_000,
  );
  return { resumed, answer: frame[4] as MessageSent };
}

function expectOnce(stored: WireMessage, resumed: WireMessage[], answer: MessageSent): void {
  expect(resumed.filter((m) => m.mobile_ref_id === stored.mobile_ref_id)).toEqual([stored]);
  expect(answer).toMatchObject({
    status: 'sent',
    seq: stored.seq,
    message_id: stored.message_id,
    duplicate: true,
  });
}

describe('kill -9 after the commit, before the acknowledgement (hostile)', () => {
  it('SQLite: the resend after the restart is answered with the original, stored once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-unacked-'));
    dirs.push(dataDir);
    const first = await startRelayProcess(['--data', dataDir]);
    const ana = await signIn(first, 'Ana');
    const main = await mainRoom(first, ana);
    const lost = await commitWithoutAck(first, ana, main, 'unacked-1');
    expect(lost.heardAck).toBe(false);

    const second = await startRelayProcess(['--data', dataDir]);
    const { resumed, answer } = await resumeAndResend(second, ana, main, 'unacked-1');
    expectOnce(lost.stored, resumed, answer);
    const stored = await history(second, ana, main);
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.filter((m) => m.mobile_ref_id === 'unacked-1')).toHaveLength(1);
    console.log(
      `unacked resend (SQLite): stored as seq ${lost.stored.seq}, ${lost.droppedBytes} bytes of ` +
        `answers withheld before the kill, resend answered duplicate with the same seq`,
    );
  });

  it('cluster: the resend on another node after failover is answered with the original, stored once', async () => {
    services = await startClusterServices();
    const databaseUrl = await freshDatabase(services);
    const env = (nodeId: string): Record<string, string> => ({
      PARLEY_DATABASE_URL: databaseUrl,
      PARLEY_REDIS_URL: (services as ClusterServices).redis.url,
      PARLEY_NODE_ID: nodeId,
      PARLEY_JWT_SECRET: 'a-secret-shared-by-both-nodes-of-this-test-cluster',
    });
    const n1 = await spawnNode(env('node-1'));
    const n2 = await spawnNode(env('node-2'));
    const ana = await signIn(n1, 'Ana');
    const main = await mainRoom(n1, ana);
    const lost = await commitWithoutAck(n1, ana, main, 'unacked-cluster-1');
    expect(lost.heardAck).toBe(false);

    const { resumed, answer } = await resumeAndResend(n2, ana, main, 'unacked-cluster-1');
    expectOnce(lost.stored, resumed, answer);
    const stored = await history(n2, ana, main);
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.filter((m) => m.mobile_ref_id === 'unacked-cluster-1')).toHaveLength(1);
    console.log(
      `unacked resend (cluster, PostgreSQL): stored as seq ${lost.stored.seq} through node 1, ` +
        `node 1 killed, resend through node 2 answered duplicate with the same seq`,
    );
  });
});
