/**
 * Cluster test harness: one throwaway Redis, one throwaway PostgreSQL, and relay nodes on
 * port 0 that share them, either in this process (startRelay) or as real CLI child processes
 * (`node --import tsx relay/cli.ts`) that a test can kill -9. Everything is stopped by PID in
 * `stop()`, which tests call from `afterAll`/`finally`, also when they fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startRelay, type RunningRelay } from '../relay.js';
import type { RelayOptionsInput } from '../options.js';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from './services.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

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

export interface NodeProcess {
  nodeId: string;
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** pino log lines seen so far. */
  logs: Record<string, unknown>[];
  stderr: () => string;
}

const processes = new Set<ChildProcess>();

/** The environment without PARLEY_* settings of whoever runs the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('PARLEY_')),
  );
}

/** Starts `relay/cli.ts` as a child process configured by environment, as in production. */
export async function spawnNode(
  env: Record<string, string>,
  extraArgs: string[] = [],
): Promise<NodeProcess> {
  const nodeId = env.PARLEY_NODE_ID ?? 'node';
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'relay/cli.ts', '--port', '0', '--host', '127.0.0.1', ...extraArgs],
    { cwd: REPO_ROOT, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  processes.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      processes.delete(child);
      resolve({ code, signal });
    });
  });
  const logs: Record<string, unknown>[] = [];
  if (child.stdout === null) throw new Error('the node was spawned without a stdout pipe');
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'relay listening') resolve(entry.port as number);
    });
    void exited.then((exit) =>
      reject(
        new Error(`node ${nodeId} exited before listening (${JSON.stringify(exit)}): ${stderr}`),
      ),
    );
  });
  return { nodeId, child, url: `http://127.0.0.1:${port}`, exited, logs, stderr: () => stderr };
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
