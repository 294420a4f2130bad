/**
 * PostgreSQL work per message in a cluster, measured (never asserted): which statements the
 * relay runs per send, how many, and the PostgreSQL CPU they cost. Exists because the cluster
 * bench showed PostgreSQL CPU per delivery dominating Parley's cluster cost, and the way to cut
 * it is to know, statement by statement, what a send costs.
 *
 *   npx tsx relay/testing/measure-pg-statements.ts [--rate 20] [--seconds 10] [--members 40]
 *                                                  [--senders 10] [--nodes 2]
 *
 * Starts a throwaway Redis and PostgreSQL (relay/testing/services.ts; pg_stat_statements is
 * preloaded there for this measurement only), `--nodes` real relay processes, `--members`
 * clients spread over the nodes in the main room, of which `--senders` send at `--rate` msg/s
 * in total. After a warm-up, pg_stat_statements is reset; at the end it prints, per statement,
 * calls per message, and the PostgreSQL CPU (server process tree, from /proc) per message,
 * with the CPU of an idle window of the same length for comparison (background processes), and
 * the same for Redis.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { ChatSummary, MessageSent } from '../protocol/events.js';
import { ClusterClient } from './cluster-client.js';
import { freshDatabase, killAllNodes, spawnNode, startClusterServices } from './cluster-harness.js';
import { api, signIn, type Session } from './relay-harness.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '10' },
    members: { type: 'string', default: '40' },
    senders: { type: 'string', default: '10' },
    nodes: { type: 'string', default: '2' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const MEMBERS = Number(values.members);
const SENDERS = Math.min(Number(values.senders), MEMBERS);
const NODES = Number(values.nodes);

/** utime+stime (ticks) of a process tree, reaped children included (backends come and go). */
function treeTicks(root: number): number {
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      // Exited while listing: its time is in its parent's cutime once reaped.
      continue;
    }
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    parents.set(Number(name), Number(fields[1]));
    ticks.set(
      Number(name),
      Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
    );
  }
  let total = 0;
  for (const [pid, own] of ticks) {
    for (let p: number | undefined = pid; p !== undefined; p = parents.get(p)) {
      if (p === root) {
        total += own;
        break;
      }
      if (p <= 1) break;
    }
  }
  return total;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const services = await startClusterServices();
  const clients: ClusterClient[] = [];
  try {
    // Measurement only: the relay's own configuration of PostgreSQL is not changed.
    const admin = new pg.Client({ connectionString: services.postgres.url });
    admin.on('error', () => undefined);
    await admin.connect();
    // (pg_stat_statements.track_utility is on by default: BEGIN and COMMIT are counted too.)
    await admin.query(`ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`);
    await admin.end();
    await services.postgres.stop();
    await services.postgres.start();
    const databaseUrl = await freshDatabase(services);
    const db = new pg.Client({ connectionString: databaseUrl });
    // Its connection ends with the server in `finally`, also after a failure.
    db.on('error', () => undefined);
    await db.connect();
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await db.query('ALTER SYSTEM SET pg_stat_statements.track_planning = on');
    await db.query('SELECT pg_reload_conf()');

    const env = (nodeId: string): Record<string, string> => ({
      PARLEY_DATABASE_URL: databaseUrl,
      PARLEY_REDIS_URL: services.redis.url,
      PARLEY_NODE_ID: nodeId,
      PARLEY_JWT_SECRET: 'measure-pg-statements-secret-shared-by-all-nodes',
      PARLEY_LOG_LEVEL: 'info',
    });
    const limits = [
      '--limit',
      'sessionAttemptsPerMinute=100000',
      '--limit',
      'messagesPerSecond=100000',
      '--limit',
      'messageBurst=100000',
    ];
    const nodes = [await spawnNode(env('node-1'), limits)];
    for (let i = 1; i < NODES; i += 1) nodes.push(await spawnNode(env(`node-${i + 1}`), limits));
    const urls = nodes.map((node) => node.url);
    const users: Session[] = [];
    for (let i = 0; i < MEMBERS; i += 1) {
      users.push(await signIn({ url: urls[i % NODES] ?? '' }, `Member${i}`));
    }
    const chats = await api<{ chats: ChatSummary[] }>(
      { url: urls[0] ?? '' },
      users[0]?.token ?? '',
      'GET',
      '/api/chats',
    );
    const main = chats.body.chats.find((chat) => chat.is_main)?.id ?? '';
    users.forEach((session, i) => {
      clients.push(
        new ClusterClient({
          urls: [urls[i % NODES] ?? ''],
          token: session.token,
          user: session.user,
          chats: [main],
        }),
      );
    });
    await Promise.all(clients.map((client) => client.start()));
    const senders = clients.slice(0, SENDERS);

    const run = async (label: string, total: number): Promise<number> => {
      const acks: Promise<MessageSent>[] = [];
      const startedAt = performance.now();
      for (let n = 0; n < total; n += 1) {
        const due = startedAt + (n * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        acks.push((senders[n % SENDERS] as ClusterClient).send(main, `${label} ${n}`));
      }
      const acked = await Promise.all(acks);
      const last = Math.max(...acked.map((ack) => ack.seq ?? 0));
      await Promise.all(clients.map((c) => c.waitFor(() => c.lastSeq(main) >= last, 60_000)));
      return last;
    };

    const pgPid = services.postgres.pid ?? 0;
    const redisPid = services.redis.pid ?? 0;
    await run('warm-up', RATE * 2);
    // Idle window: background processes (checkpointer, walwriter, autovacuum launcher).
    const idleStart = treeTicks(pgPid);
    const redisIdleStart = treeTicks(redisPid);
    await sleep(SECONDS * 1000);
    const idleTicks = treeTicks(pgPid) - idleStart;
    const redisIdleTicks = treeTicks(redisPid) - redisIdleStart;

    const autovacuumRuns = async (): Promise<number> =>
      (
        await db.query<{ runs: number }>(
          `SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0)::int AS runs
           FROM pg_stat_user_tables`,
        )
      ).rows[0]?.runs ?? 0;
    const autovacuumBefore = await autovacuumRuns();
    await db.query('SELECT pg_stat_statements_reset()');
    const total = RATE * SECONDS;
    const cpuStart = treeTicks(pgPid);
    const redisStart = treeTicks(redisPid);
    const wallStart = performance.now();
    await run('measured', total);
    const wallMs = performance.now() - wallStart;
    const busyTicks = treeTicks(pgPid) - cpuStart;
    const redisTicks = treeTicks(redisPid) - redisStart;

    const { rows } = await db.query<{
      calls: number;
      plans: number;
      ms: number;
      planMs: number;
      query: string;
    }>(
      `SELECT calls::int AS calls, plans::int AS plans, total_exec_time AS ms,
         total_plan_time AS "planMs", query
       FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND query NOT ILIKE '%pg_stat_statements%'
       ORDER BY calls DESC`,
    );
    const autovacuumDuring = (await autovacuumRuns()) - autovacuumBefore;
    // Gap-free per chat: as many messages as last_seq, numbered 1..last_seq.
    const [check] = (
      await db.query<{ stored: number; last_seq: number; max_seq: number }>(
        `SELECT count(m.*)::int AS stored, c.last_seq::int AS last_seq,
           coalesce(max(m.seq), 0)::int AS max_seq
         FROM chats c LEFT JOIN messages m ON m.chat_id = c.id WHERE c.id = $1
         GROUP BY c.last_seq`,
        [main],
      )
    ).rows;
    await db.end();
    const perMessage = (n: number): string => (n / total).toFixed(2);
    let statements = 0;
    console.log(`\n${total} messages, ${MEMBERS} members on ${NODES} nodes, ${RATE} msg/s`);
    console.log('calls/msg  plans/msg  plan ms/msg  exec ms/msg  statement');
    for (const row of rows) {
      statements += row.calls;
      const text = row.query.replace(/\s+/g, ' ').slice(0, 110);
      console.log(
        `${perMessage(row.calls).padStart(9)}  ${perMessage(row.plans).padStart(9)}  ` +
          `${(row.planMs / total).toFixed(3).padStart(11)}  ${(row.ms / total).toFixed(3).padStart(11)}  ${text}`,
      );
    }
    console.log(`statements per message: ${perMessage(statements)}`);
    console.log(
      `main room: ${check?.stored} messages stored, last_seq ${check?.last_seq}, ` +
        `highest seq ${check?.max_seq}`,
    );
    const msPerTick = 10;
    console.log(
      `PostgreSQL CPU: ${(busyTicks * msPerTick).toFixed(0)} ms over ${wallMs.toFixed(0)} ms ` +
        `(${((busyTicks * msPerTick) / total).toFixed(2)} ms/msg); idle window of ${SECONDS} s: ` +
        `${(idleTicks * msPerTick).toFixed(0)} ms`,
    );
    console.log(`autovacuum/autoanalyze runs during the measured window: ${autovacuumDuring}`);
    console.log(
      `Redis CPU: ${(redisTicks * msPerTick).toFixed(0)} ms (${((redisTicks * msPerTick) / total).toFixed(2)} ms/msg); ` +
        `idle window: ${(redisIdleTicks * msPerTick).toFixed(0)} ms`,
    );
  } finally {
    for (const client of clients) client.close();
    await killAllNodes();
    await services.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
