/**
 * The cluster as it runs in production: three `relay/cli/cli.ts` processes configured by
 * environment (PARLEY_DATABASE_URL, PARLEY_REDIS_URL, PARLEY_NODE_ID, a shared
 * PARLEY_JWT_SECRET), one real Redis, one real PostgreSQL. One node is killed with SIGKILL
 * while senders keep sending; its clients fail over to the others and nothing acknowledged is
 * lost, duplicated or reordered. Slow: real child processes.
 *
 * It also measures, and prints (never asserts), cross-node delivery latency and failover time.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatSummary, MessageSent, WireMessage } from '../protocol/events.js';
import { ClusterClient } from '../testing/cluster-client.js';
import {
  freshDatabase,
  killAllNodes,
  percentile,
  spawnNode,
  startClusterServices,
  type ClusterServices,
  type NodeProcess,
} from '../testing/cluster-harness.js';
import { api, signIn, type Session } from '../testing/relay-harness.js';

const NODE_HEARTBEAT_MS = 250;
const NODE_TTL_MS = 1_000;
/** Messages timed from node 1 to the other nodes before the failover. */
const LATENCY_SAMPLES = 200;
const LATENCY_INTERVAL_MS = 10;

let services: ClusterServices;
const clients: ClusterClient[] = [];

beforeAll(async () => {
  services = await startClusterServices();
}, 60_000);
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await killAllNodes();
});
afterAll(async () => {
  await killAllNodes();
  await services?.stop();
});

async function startCluster(count: number): Promise<NodeProcess[]> {
  const databaseUrl = await freshDatabase(services);
  const env = (nodeId: string): Record<string, string> => ({
    PARLEY_DATABASE_URL: databaseUrl,
    PARLEY_REDIS_URL: services.redis.url,
    PARLEY_NODE_ID: nodeId,
    PARLEY_JWT_SECRET: 'a-secret-shared-by-every-node-of-this-test-cluster',
    PARLEY_NODE_HEARTBEAT_MS: String(NODE_HEARTBEAT_MS),
    PARLEY_NODE_TTL_MS: String(NODE_TTL_MS),
    PARLEY_LOG_LEVEL: 'info',
  });
  const limits = [
    '--limit',
    'messagesPerSecond=100000',
    '--limit',
    'messageBurst=100000',
    '--limit',
    'sessionAttemptsPerMinute=100000',
  ];
  const first = await spawnNode(env('node-1'), limits);
  const rest = await Promise.all(
    Array.from({ length: count - 1 }, (_, i) => spawnNode(env(`node-${i + 2}`), limits)),
  );
  return [first, ...rest];
}

async function history(url: string, token: string, chatId: string): Promise<WireMessage[]> {
  const messages: WireMessage[] = [];
  for (let more = true; more;) {
    const page = await api<{ messages: WireMessage[]; has_more: boolean }>(
      { url },
      token,
      'GET',
      `/api/chats/${chatId}/messages?limit=500&after_seq=${messages.at(-1)?.seq ?? 0}`,
    );
    expect(page.status).toBe(200);
    messages.push(...page.body.messages);
    more = page.body.has_more;
  }
  return messages;
}

function summary(values: number[]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (n: number): number => Math.round(n * 100) / 100;
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

describe('cluster processes (slow)', () => {
  it(
    'fails over when a node is killed with SIGKILL: every acknowledged message reaches every member once, in seq order',
    { timeout: 120_000 },
    async () => {
      const nodes = await startCluster(3);
      const urls = nodes.map((node) => node.url);
      /** Node i first, then the others: where a client of node i goes when it fails. */
      const rotation = (i: number): string[] => [...urls.slice(i), ...urls.slice(0, i)];
      const sessions: Session[] = [];
      for (const name of ['S1', 'S2', 'S3', 'R1', 'R2', 'R3', 'Ghost']) {
        sessions.push(await signIn({ url: urls[sessions.length % 3] ?? '' }, name));
      }
      const [s1, s2, s3, r1, r2, r3, ghost] = sessions as [
        Session,
        Session,
        Session,
        Session,
        Session,
        Session,
        Session,
      ];
      const chats = await api<{ chats: ChatSummary[] }>(
        { url: urls[0] ?? '' },
        s1.token,
        'GET',
        '/api/chats',
      );
      const main = chats.body.chats.find((chat) => chat.is_main)?.id ?? '';

      const make = (session: Session, node: number, urlsFor: string[] = rotation(node)) => {
        const created = new ClusterClient({
          urls: urlsFor,
          token: session.token,
          user: session.user,
          chats: [main],
        });
        clients.push(created);
        return created;
      };
      const senders = [make(s1, 0), make(s2, 1), make(s3, 2)];
      const receivers = [make(r1, 0), make(r2, 1), make(r3, 2)];
      // Only ever connects to node 2: it cannot fail over, so its presence must expire.
      const stranded = make(ghost, 1, [urls[1] ?? '']);
      const members = [...senders, ...receivers];
      await Promise.all([...members, stranded].map((client) => client.start()));
      const [sender1, sender2] = senders as [ClusterClient, ClusterClient, ClusterClient];
      const [receiver1, receiver2, receiver3] = receivers as [
        ClusterClient,
        ClusterClient,
        ClusterClient,
      ];
      const everyone = [...sessions].map((s) => s.user.id).sort();
      await receiver1.waitFor(
        () => JSON.stringify(receiver1.presentIn(main)) === JSON.stringify(everyone),
        10_000,
        'everyone present',
      );

      // ---- measured: cross-node delivery latency (node 1 → nodes 1, 2, 3) -----------------
      const sentAt = new Map<string, number>();
      const timed: Promise<MessageSent>[] = [];
      for (let n = 0; n < LATENCY_SAMPLES; n += 1) {
        const ref = `latency-${n}`;
        sentAt.set(ref, performance.now());
        timed.push(sender1.send(main, `latency probe ${n}`, ref));
        await new Promise((resolve) => setTimeout(resolve, LATENCY_INTERVAL_MS));
      }
      const timedAcks = await Promise.all(timed);
      const lastTimed = Math.max(...timedAcks.map((ack) => ack.seq ?? 0));
      await Promise.all(
        receivers.map((r) => r.waitFor(() => r.lastSeq(main) >= lastTimed, 10_000, 'probes')),
      );
      const latency = (receiver: ClusterClient): number[] =>
        timedAcks.map((ack) => {
          const at = receiver.receivedAt.get(ack.message_id ?? '') ?? Number.NaN;
          return at - (sentAt.get(ack.mobile_ref_id) ?? Number.NaN);
        });

      // ---- failover: kill -9 node 2 while everyone keeps sending --------------------------
      stranded.setTyping(main, true);
      await receiver1.waitFor(
        () => (receiver1.typing.get(main) ?? []).includes(ghost.user.id),
        5_000,
        'the ghost typing',
      );
      let sending = true;
      const acked: MessageSent[] = [...timedAcks];
      const loops = senders.map(async (sender, i) => {
        for (let n = 1; sending; n += 1) {
          acked.push(await sender.send(main, `s${i + 1} steady ${n}`));
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      });
      const victim = nodes[1] as NodeProcess;
      await sender1.waitFor(() => acked.length >= LATENCY_SAMPLES + 60, 10_000, 'steady acks');
      const killedAt = performance.now();
      victim.child.kill('SIGKILL');
      expect((await victim.exited).signal).toBe('SIGKILL');

      // The dead node's entries vanish from the others within about NODE_TTL_MS.
      const ghostGone = receiver1
        .waitFor(
          () =>
            !receiver1.presentIn(main).includes(ghost.user.id) &&
            !(receiver1.typing.get(main) ?? []).includes(ghost.user.id),
          10_000,
          "the dead node's presence and typing to vanish",
        )
        .then(() => performance.now() - killedAt);
      // Clients of node 2 come back on node 3 (the next URL in their list).
      await Promise.all(
        [sender2, receiver2].map((client) =>
          client.waitFor(() => client.failovers.length >= 1 && client.joined, 15_000, 'failover'),
        ),
      );
      const staleGoneMs = await ghostGone;
      const resumed = acked.length;
      await sender2.waitFor(() => acked.length >= resumed + 60, 15_000, 'acks after failover');
      sending = false;
      await Promise.all(loops);

      // ---- what was stored, and what each member saw --------------------------------------
      const stored = await history(urls[0] ?? '', r1.token, main);
      expect(stored.map((message) => message.seq)).toEqual(stored.map((_, i) => i + 1));
      const byRef = new Map(stored.map((m) => [`${m.sender_id}/${m.mobile_ref_id}`, m]));
      expect(byRef.size).toBe(stored.length);
      const senderIds = [s1, s2, s3].map((s) => s.user.id);
      for (const ack of acked) {
        expect(ack.status).toBe('sent');
        const owner = senderIds.find((id) => byRef.get(`${id}/${ack.mobile_ref_id}`) !== undefined);
        const message = byRef.get(`${owner}/${ack.mobile_ref_id}`);
        expect(message?.seq, `acknowledged ${ack.mobile_ref_id}`).toBe(ack.seq);
      }
      const last = stored.at(-1)?.seq ?? 0;
      for (const member of members) {
        await member.waitFor(() => member.lastSeq(main) === last, 15_000, 'every message');
        expect(
          (member.delivered.get(main) ?? []).map((m) => [m.seq, m.message_id]),
          member.options.user.name,
        ).toEqual(stored.map((m) => [m.seq, m.message_id]));
      }
      // The moved clients are present again (on node 3), once each.
      await receiver3.waitFor(
        () =>
          [s2, r2].every((s) => receiver3.presence.get(`chat:${main}`)?.get(s.user.id)?.size === 1),
        10_000,
        'the moved clients present once',
      );

      const failovers = [sender2, receiver2].flatMap((client) =>
        client.failovers.map((f) => f.rejoinedAt - f.lostAt),
      );
      const figures = {
        nodes: 3,
        heartbeatMs: NODE_HEARTBEAT_MS,
        nodeTtlMs: NODE_TTL_MS,
        latencyMs: {
          sameNode: summary(latency(receiver1)),
          toNode2: summary(latency(receiver2).filter(Number.isFinite)),
          toNode3: summary(latency(receiver3)),
        },
        failover: {
          /** From the connection loss to every chat rejoined on another node. */
          reconnectMs: failovers.map((ms) => Math.round(ms)),
          /** From the kill to the dead node's presence and typing gone elsewhere. */
          staleEntriesGoneMs: Math.round(staleGoneMs),
        },
        messages: { stored: stored.length, acknowledged: acked.length },
        clientBackfills: members.reduce((sum, m) => sum + m.backfills, 0),
        wireDuplicates: members.reduce((sum, m) => sum + m.wireDuplicates, 0),
      };
      console.log(`cluster figures: ${JSON.stringify(figures, null, 2)}`);
    },
  );
});
