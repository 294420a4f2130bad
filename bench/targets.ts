/**
 * Starts each peer under test as its own process(es) and describes it as a `Target` for the
 * generator: raw-ws, Socket.IO (alone, or two nodes with the Redis adapter), Parley (one node
 * with SQLite, or a cluster of nodes with Redis and PostgreSQL).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { RELAY_CLI } from '../relay/testing/relay-process.js';
import { startPostgres, startRedis } from '../relay/testing/services.js';
import type { Protocol, Target } from './config.js';
import { ROOT, spawnServer, type ServerProcess } from './spawn.js';

export type PeerName =
  'raw-ws' | 'socket.io' | 'parley' | 'parley-before' | 'socket.io+redis' | 'parley-cluster';

export interface RunningTarget {
  target: Target;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Node flags for the server processes (e.g. --cpu-prof). */
  nodeFlags?: readonly string[];
  /** Cluster size. */
  nodes?: number;
  /** Extra relay CLI flags (later flags win), e.g. --durability normal. */
  parleyFlags?: readonly string[];
  /** For before/after comparisons: another checkout's relay/cli/cli.ts, run as peer `parley-before`. */
  baselineRelay?: string;
}

/** Limits raised so that the bench measures throughput, not Parley's per-client rate limits. */
const BENCH_LIMITS: readonly (readonly [name: string, value: number])[] = [
  ['messagesPerSecond', 1_000_000],
  ['messageBurst', 1_000_000],
  ['framesPerSecond', 1_000_000],
  ['frameBurst', 1_000_000],
  ['sessionAttemptsPerMinute', 100_000_000],
  ['maxConnections', 100_000],
  // Every bench client connects from 127.0.0.1.
  ['maxConnectionsPerAddress', 100_000],
  // The idle scenario creates a room per 100 clients.
  ['roomCreationsPerMinute', 100_000],
  ['searchesPerMinute', 1_000_000],
];

/**
 * The `--limit` flags for a relay that knows the limits `knows` accepts (an older baseline
 * checkout exits 2 on a limit it does not know; one without it has no such bound to raise).
 */
export function parleyBenchLimits(knows: (limit: string) => boolean = () => true): string[] {
  return BENCH_LIMITS.filter(([name]) => knows(name)).flatMap(([name, value]) => [
    '--limit',
    `${name}=${value}`,
  ]);
}

const listening = (entry: Record<string, unknown>): number | null =>
  entry.msg === 'listening' && typeof entry.port === 'number' ? entry.port : null;
const relayListening = (entry: Record<string, unknown>): number | null =>
  entry.msg === 'relay listening' && typeof entry.port === 'number' ? entry.port : null;

function describe(
  peer: string,
  protocol: Protocol,
  servers: ServerProcess[],
  helperPids: number[] = [],
): Target {
  return {
    peer,
    protocol,
    nodes: servers.map((server) => `ws://127.0.0.1:${server.port}`),
    httpUrl: protocol === 'parley' ? `http://127.0.0.1:${servers[0]?.port ?? 0}` : null,
    serverPids: servers.map((server) => server.pid),
    helperPids,
  };
}

async function stopAll(servers: ServerProcess[]): Promise<void> {
  await Promise.all(servers.map((server) => server.stop()));
}

/**
 * Whether another checkout's relay CLI has `flag`, from its usage text beside it in cli-args.ts.
 * Older ones lack `--plain` (they serve plain ws by default) and `--no-mdns` (they advertise
 * nothing), and would refuse the flag.
 */
export function baselineKnowsFlag(cliPath: string, flag: '--plain' | '--no-mdns'): boolean {
  try {
    return readFileSync(join(dirname(resolve(ROOT, cliPath)), 'cli-args.ts'), 'utf8').includes(
      flag,
    );
  } catch {
    // No cli-args.ts beside it: an old layout, which predates TLS and mDNS advertising.
    return false;
  }
}

/**
 * Whether another checkout's relay speaks socket event `event` (e.g. `edit_message`, since issue
 * 17), from its wire contract, relay/protocol/events.ts (beside cli.ts's folder in the flat
 * layout, one up in issue 17's folders). Without that file: assumed not.
 */
export function baselineKnowsEvent(cliPath: string, event: string): boolean {
  const cliDir = dirname(resolve(ROOT, cliPath));
  const found = [join(cliDir, 'protocol', 'events.ts'), join(cliDir, '..', 'protocol', 'events.ts')]
    .filter((path) => existsSync(path))
    .map((path) => readFileSync(path, 'utf8'));
  return found.some((source) => source.includes(`'${event}'`));
}

/**
 * Which limits another checkout's relay knows: the names in its options.ts.
 * Without that file (an unknown layout) every limit is assumed known, as before.
 */
export function baselineKnowsLimit(cliPath: string): (limit: string) => boolean {
  // options.ts lies beside cli.ts in the flat layout (relay/cli.ts, up to df5a868), and in
  // relay/core/ since issue 17's folders (relay/cli/cli.ts).
  const cliDir = dirname(resolve(ROOT, cliPath));
  const candidates = [join(cliDir, 'options.ts'), join(cliDir, '..', 'core', 'options.ts')];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) return () => true;
  const source = readFileSync(found, 'utf8');
  return (limit) => new RegExp(`\\b${limit}\\b`).test(source);
}

export function parleyArgs(
  dataDir: string,
  {
    plain = true,
    noMdns = true,
    knowsLimit = () => true,
  }: { plain?: boolean; noMdns?: boolean; knowsLimit?: (limit: string) => boolean } = {},
): string[] {
  // Info level: the relay announces "relay listening" at info, and info is its default.
  return [
    // Never multicast on the machine's network (PLATFORM.md); false only for a relay too old to
    // know the flag (and so to advertise).
    ...(noMdns ? ['--no-mdns'] : []),
    // Plain ws, like raw ws and Socket.IO: the comparison is of the relays, not of TLS.
    ...(plain ? ['--plain'] : []),
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--data',
    dataDir,
    '--durability',
    'full',
    '--log-level',
    'info',
    ...parleyBenchLimits(knowsLimit),
  ];
}

/** Why the Parley cluster cannot run yet, or the CLI flags that point a node at Redis and PostgreSQL. */
export function parleyClusterSupport():
  | { ready: true; args: (redisUrl: string, postgresUrl: string) => string[] }
  | { ready: false; reason: string } {
  const missing = ['relay/cluster/redis-bus.ts', 'relay/store/pg/pg-store.ts'].filter(
    (file) => !existsSync(join(ROOT, file)),
  );
  if (missing.length > 0) return { ready: false, reason: `${missing.join(', ')} not landed yet` };
  const usage = readFileSync(join(ROOT, 'relay/cli/cli-args.ts'), 'utf8');
  if (!usage.includes('--redis-url') || !usage.includes('--database-url')) {
    return { ready: false, reason: 'the relay CLI has no --redis-url/--database-url yet' };
  }
  return {
    ready: true,
    args: (redisUrl, postgresUrl) => ['--redis-url', redisUrl, '--database-url', postgresUrl],
  };
}

export class PendingError extends Error {
  readonly code = 'ERR_BENCH_PENDING';
}

export async function startTarget(
  peer: PeerName,
  options: StartOptions = {},
): Promise<RunningTarget> {
  const nodeFlags = options.nodeFlags ?? [];
  switch (peer) {
    case 'raw-ws': {
      const server = await spawnServer({
        script: 'bench/servers/raw-ws-server.ts',
        args: [],
        ready: listening,
        nodeFlags,
      });
      return { target: describe(peer, 'raw-ws', [server]), stop: () => server.stop() };
    }
    case 'socket.io': {
      const server = await spawnServer({
        script: 'bench/servers/socketio-server.ts',
        args: [],
        ready: listening,
        nodeFlags,
      });
      return { target: describe(peer, 'socket.io', [server]), stop: () => server.stop() };
    }
    case 'parley':
    case 'parley-before': {
      if (peer === 'parley-before' && options.baselineRelay === undefined) {
        throw new Error('parley-before needs --baseline-relay PATH');
      }
      const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
      const server = await spawnServer({
        script: peer === 'parley' ? RELAY_CLI : (options.baselineRelay ?? ''),
        args: [
          ...parleyArgs(dir, {
            plain: peer === 'parley' || baselineKnowsFlag(options.baselineRelay ?? '', '--plain'),
            noMdns:
              peer === 'parley' || baselineKnowsFlag(options.baselineRelay ?? '', '--no-mdns'),
            ...(peer === 'parley-before'
              ? { knowsLimit: baselineKnowsLimit(options.baselineRelay ?? '') }
              : {}),
          }),
          ...(options.parleyFlags ?? []),
        ],
        ready: relayListening,
        nodeFlags,
      });
      return {
        target: describe(peer, 'parley', [server]),
        stop: async () => {
          await server.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    case 'socket.io+redis': {
      const redis = await startRedis();
      const servers: ServerProcess[] = [];
      try {
        for (let i = 0; i < (options.nodes ?? 2); i += 1) {
          servers.push(
            await spawnServer({
              script: 'bench/servers/socketio-server.ts',
              args: ['--redis', redis.url],
              ready: listening,
              nodeFlags,
            }),
          );
        }
      } catch (error) {
        await stopAll(servers);
        await redis.remove();
        throw error;
      }
      return {
        target: describe(peer, 'socket.io', servers, redis.pid === null ? [] : [redis.pid]),
        stop: async () => {
          await stopAll(servers);
          await redis.remove();
        },
      };
    }
    case 'parley-cluster': {
      const support = parleyClusterSupport();
      if (!support.ready) throw new PendingError(`Parley cluster pending: ${support.reason}`);
      const redis = await startRedis();
      const postgres = await startPostgres();
      const servers: ServerProcess[] = [];
      const dirs: string[] = [];
      const cleanup = async (): Promise<void> => {
        await stopAll(servers);
        await redis.remove();
        await postgres.remove();
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      };
      try {
        const database = await postgres.createDatabase('parley_bench');
        const secret = 'bench-cluster-secret-0123456789abcdef';
        for (let i = 0; i < (options.nodes ?? 2); i += 1) {
          const dir = mkdtempSync(join(tmpdir(), 'parley-bench-node-'));
          dirs.push(dir);
          servers.push(
            await spawnServer({
              script: RELAY_CLI,
              args: [
                ...parleyArgs(dir),
                '--jwt-secret',
                secret,
                ...support.args(redis.url, database),
              ],
              ready: relayListening,
              nodeFlags,
            }),
          );
        }
      } catch (error) {
        await cleanup();
        throw error;
      }
      const helpers = [redis.pid, postgres.pid].filter((pid): pid is number => pid !== null);
      return { target: describe(peer, 'parley', servers, helpers), stop: cleanup };
    }
  }
}
