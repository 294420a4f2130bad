/**
 * Cluster test harness: one throwaway Redis, one throwaway PostgreSQL, and relay nodes on
 * port 0 that share them, either in this process (startRelay) or as real CLI child processes
 * (`node --import tsx relay/cli/cli.ts`) that a test can kill -9. Everything is stopped by PID in
 * `stop()`, which tests call from `afterAll`/`finally`, also when they fail.
 */
import type { ChildProcess } from 'node:child_process';
import { pino } from 'pino';
import { startRelay, type RunningRelay } from '../node/relay.js';
import type { RelayOptionsInput } from '../core/options.js';
import { spawnCli, untilListening, type RelayProcess } from './relay-process.js';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from './services.js';

/** Fast cluster timing for tests: a dead node's entries vanish within about 1.5 s. */
export const TEST_NODE_TIMING = { nodeHeartbeatMs: 250, nodeTtlMs: 1_000 } as const;

export interface ClusterServices {
  redis: RedisServer;
  postgres: PostgresServer;
  stop(): Promise<void>;
}

export async function startClusterServices(): Promise<ClusterServices> {
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  return {
    redis,
    postgres,
    stop: async () => {
      await Promise.all([redis.remove(), postgres.remove()]);
    },
  };
}

let databases = 0;

/** A fresh database on the services' PostgreSQL, for one cluster. */
export async function freshDatabase(services: ClusterServices): Promise<string> {
  databases += 1;
  return services.postgres.createDatabase(`parley_${process.pid}_${databases}`);
}

/** A relay node in this process, sharing the cluster's Redis and database. */
export function startNode(
  services: ClusterServices,
  databaseUrl: string,
  nodeId: string,
  options: RelayOptionsInput = {},
): Promise<RunningRelay> {
  return startRelay({
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: process.env.PARLEY_TEST_LOG ?? 'silent' }),
    databaseUrl,
    redisUrl: services.redis.url,
    nodeId,
    ...TEST_NODE_TIMING,
    ...options,
  });
}

export interface NodeProcess extends RelayProcess {
  nodeId: string;
}

/** The node processes (killAllNodes stops these, not other relay processes). */
const processes = new Set<ChildProcess>();

/** Starts `relay/cli/cli.ts` as a child process configured by environment, as in production. */
export async function spawnNode(
  env: Record<string, string>,
  extraArgs: string[] = [],
): Promise<NodeProcess> {
  const nodeId = env.PARLEY_NODE_ID ?? 'node';
  // No --plain: a cluster node serves plain http/ws unless given a certificate.
  const run = spawnCli(['--port', '0', '--host', '127.0.0.1', ...extraArgs], { env });
  processes.add(run.child);
  void run.exited.then(() => processes.delete(run.child));
  return { nodeId, ...(await untilListening(run, `node ${nodeId}`)) };
}

/** SIGKILLs every node process still running (for afterEach/afterAll). */
export async function killAllNodes(): Promise<void> {
  const running = [...processes];
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Percentile of a sorted list (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}
