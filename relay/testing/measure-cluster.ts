/**
 * Cluster figures: cross-node delivery latency and failover time, measured (never asserted)
 * against three real relay processes, one Redis and one PostgreSQL started here.
 *
 *   npx tsx relay/testing/measure-cluster.ts [--rate 50] [--seconds 10] [--failover-clients 30]
 *                                            [--via-haproxy]
 *
 * Latency: one sender on node 1 at a fixed rate; one receiver on each node; send → receive in
 * this process's clock (performance.now), the first second discarded as warm-up.
 * Failover: clients connected to node 2 (each listing the three node URLs), node 2 killed with
 * SIGKILL; per client, connection loss → every chat rejoined on another node; and the time until
 * a client on node 1 no longer sees node 2's stranded user in presence.
 * With --via-haproxy (needs `haproxy` installed), clients use one balancer URL running
 * relay/deploy/haproxy.cfg (node addresses rewritten to the local ports) instead.
 * Results: stdout and .bench/cluster-figures.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChatSummary, MessageSent } from '../protocol/events.js';
import { ClusterClient } from './cluster-client.js';
import {
  freshDatabase,
  killAllNodes,
  percentile,
  spawnNode,
  startClusterServices,
  type NodeProcess,
} from './cluster-harness.js';
import { api, signIn, type Session } from './relay-harness.js';
import { freePort } from './services.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' },
    'failover-clients': { type: 'string', default: '30' },
    'via-haproxy': { type: 'boolean', default: false },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const FAILOVER_CLIENTS = Number(values['failover-clients']);
const HEARTBEAT_MS = 1_000;
const TTL_MS = 5_000;

function stats(samples: number[]): Record<string, number> {
  const sorted = [...samples].sort((a, b) => a - b);
  const r = (n: number): number => Math.round(n * 100) / 100;
  return {
    n: sorted.length,
    p50: r(percentile(sorted, 50)),
    p90: r(percentile(sorted, 90)),
    p99: r(percentile(sorted, 99)),
    max: r(sorted.at(-1) ?? Number.NaN),
  };
}

async function startHaproxy(nodes: NodeProcess[]): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  let config = readFileSync(new URL('../deploy/haproxy.cfg', import.meta.url), 'utf8');
  nodes.forEach((node, i) => {
    config = config.replace(`relay-${i + 1}:4000`, node.url.replace('http://', ''));
  });
  config = config.replace('bind :8080', `bind 127.0.0.1:${port}`);
  const dir = mkdtempSync(join(tmpdir(), 'parley-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  // Ready once a node passed its first /readyz check (HAProxy offers no event for it).
  const deadline = performance.now() + 15_000;
  for (let ready = false; !ready;) {
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`haproxy did not become ready: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    ready = await fetch(`${url}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
  }
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { url, child };
}

async function main(): Promise<void> {
  const services = await startClusterServices();
  let haproxy: ChildProcess | null = null;
  const clients: ClusterClient[] = [];
  try {
    const databaseUrl = await freshDatabase(services);
    const env = (nodeId: string): Record<string, string> => ({
      PARLEY_DATABASE_URL: databaseUrl,
      PARLEY_REDIS_URL: services.redis.url,
      PARLEY_NODE_ID: nodeId,
      PARLEY_JWT_SECRET: 'measure-cluster-secret-shared-by-all-nodes',
      PARLEY_NODE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      PARLEY_NODE_TTL_MS: String(TTL_MS),
      // info: the harness waits for the 'relay listening' line.
      PARLEY_LOG_LEVEL: 'info',
    });
    // The per-connection send limit (20/s) is not what is measured.
    const limits = [
      '--limit',
      'sessionAttemptsPerMinute=100000',
      '--limit',
      'messagesPerSecond=100000',
      '--limit',
      'messageBurst=100000',
    ];
    const first = await spawnNode(env('node-1'), limits);
    const nodes = [
      first,
      ...(await Promise.all([spawnNode(env('node-2'), limits), spawnNode(env('node-3'), limits)])),
    ];
    const urls = nodes.map((node) => node.url);
    const balancer = values['via-haproxy'] ? await startHaproxy(nodes) : null;
    haproxy = balancer?.child ?? null;
    const viaUrl = balancer?.url ?? null;
    const rotation = (i: number): string[] =>
      viaUrl !== null ? [viaUrl] : [...urls.slice(i), ...urls.slice(0, i)];

    const users: Session[] = [];
    for (let i = 0; i < 6 + FAILOVER_CLIENTS; i += 1) {
      users.push(await signIn({ url: urls[i % 3] ?? '' }, `User${i}`));
    }
    const chats = await api<{ chats: ChatSummary[] }>(
      { url: urls[0] ?? '' },
      users[0]?.token ?? '',
      'GET',
      '/api/chats',
    );
    const main = chats.body.chats.find((chat) => chat.is_main)?.id ?? '';
    const make = (session: Session, urlsFor: string[]): ClusterClient => {
      const client = new ClusterClient({
        urls: urlsFor,
        token: session.token,
        user: session.user,
        chats: [main],
      });
      clients.push(client);
      return client;
    };

    // ---- latency --------------------------------------------------------------------------
    const sender = make(users[0] as Session, [urls[0] ?? '']);
    const receivers = [0, 1, 2].map((i) => make(users[i + 1] as Session, [urls[i] ?? '']));
    await Promise.all([sender, ...receivers].map((client) => client.start()));
    const sentAt = new Map<string, number>();
    const acks: Promise<MessageSent>[] = [];
    const total = RATE * SECONDS;
    const startedAt = performance.now();
    for (let n = 0; n < total; n += 1) {
      // Paced against the start time, so a slow send does not slow the schedule down.
      const due = startedAt + (n * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const ref = `probe-${n}`;
      sentAt.set(ref, performance.now());
      acks.push(sender.send(main, `probe ${n}`, ref));
    }
    const acked = await Promise.all(acks);
    const last = Math.max(...acked.map((ack) => ack.seq ?? 0));
    await Promise.all(receivers.map((r) => r.waitFor(() => r.lastSeq(main) >= last, 30_000)));
    const warmUp = RATE;
    const measured = acked.slice(warmUp);
    const latency = (client: ClusterClient): number[] =>
      measured.map(
        (ack) =>
          (client.receivedAt.get(ack.message_id ?? '') ?? Number.NaN) -
          (sentAt.get(ack.mobile_ref_id) ?? Number.NaN),
      );
    const ackLatency = measured.map(
      (ack) =>
        (sender.receivedAt.get(ack.message_id ?? '') ?? 0) - (sentAt.get(ack.mobile_ref_id) ?? 0),
    );

    // ---- failover -------------------------------------------------------------------------
    const watcher = make(users[4] as Session, [urls[0] ?? '']);
    const stranded = make(users[5] as Session, [urls[1] ?? '']);
    const movers = users.slice(6).map((session) => make(session, rotation(1)));
    await Promise.all([watcher, stranded, ...movers].map((client) => client.start(0)));
    // Without a balancer, start() connected them to their first URL (node 2).
    await watcher.waitFor(
      () => watcher.presentIn(main).includes(stranded.options.user.id),
      10_000,
      'the stranded user present',
    );
    const killedAt = performance.now();
    nodes[1]?.child.kill('SIGKILL');
    await nodes[1]?.exited;
    const strandedGone = watcher
      .waitFor(() => !watcher.presentIn(main).includes(stranded.options.user.id), 60_000)
      .then(() => performance.now() - killedAt);
    let onNode2: ClusterClient[];
    if (viaUrl === null) {
      // Every mover started on node 2 (the first URL of its list).
      onNode2 = movers;
    } else {
      // The balancer spread them: those that lost their connection were on node 2. They
      // reconnect within milliseconds, far inside the time the dead node's presence takes.
      await strandedGone;
      onNode2 = movers.filter((m) => m.failovers.length > 0 || !m.joined);
    }
    await Promise.all(
      onNode2.map((m) => m.waitFor(() => m.failovers.length > 0 && m.joined, 60_000, 'failover')),
    );
    const reconnect = onNode2.flatMap((m) => m.failovers.map((f) => f.rejoinedAt - f.lostAt));
    const sinceKill = onNode2.flatMap((m) => m.failovers.map((f) => f.rejoinedAt - killedAt));
    const vanishMs = await strandedGone;

    const figures = {
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
      date: new Date().toISOString(),
      setup: {
        nodes: 3,
        via: viaUrl === null ? 'node URLs (client rotation)' : 'HAProxy (relay/deploy/haproxy.cfg)',
        nodeHeartbeatMs: HEARTBEAT_MS,
        nodeTtlMs: TTL_MS,
      },
      latency: {
        rate: RATE,
        seconds: SECONDS,
        sendToAckMs: stats(ackLatency),
        sameNodeMs: stats(latency(receivers[0] as ClusterClient)),
        crossNodeMs: stats([
          ...latency(receivers[1] as ClusterClient),
          ...latency(receivers[2] as ClusterClient),
        ]),
      },
      failover: {
        clients: onNode2.length,
        lossToRejoinMs: stats(reconnect),
        killToRejoinMs: stats(sinceKill),
        deadNodePresenceGoneMs: Math.round(vanishMs),
      },
    };
    console.log(JSON.stringify(figures, null, 2));
    mkdirSync('.bench', { recursive: true });
    writeFileSync('.bench/cluster-figures.json', `${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    for (const client of clients) client.close();
    haproxy?.kill('SIGKILL');
    await killAllNodes();
    await services.stop();
  }
}

// Interrupted (Ctrl-C, timeout): the children go too.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void killAllNodes().finally(() => process.exit(130));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
