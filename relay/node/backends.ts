/**
 * Storage and bus for a relay: SQLite and the in-process bus on one host, PostgreSQL and Redis
 * in a cluster (chosen by `databaseUrl` and `redisUrl`), and readiness over both.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { LocalBus, type Bus } from '../core/bus.js';
import type { ClusterBus } from '../cluster/cluster-bus.js';
import type { RelayMetrics } from './metrics.js';
import type { RelayOptions } from '../core/options.js';
import { PgStore } from '../store/pg/pg-store.js';
import { RedisBus } from '../cluster/redis-bus.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../core/store.js';

/** `<hostname>-<6 hex>`: unique enough for a cluster whose nodes were not given ids. */
export function defaultNodeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '')
      .slice(0, 48) || 'node';
  return `${host}-${randomBytes(3).toString('hex')}`;
}

/**
 * What the wiring needs of the backends: the store, the bus, readiness over both, and, in a
 * cluster, the bus's link to the other nodes (null on one host).
 */
export interface Backends {
  store: Store;
  bus: Bus;
  /** The same bus, as the link between the nodes of a cluster; null on one host. */
  cluster: ClusterBus | null;
  /** /readyz: the database answers, and in a cluster Redis answers too. */
  ready(): Promise<boolean>;
}

/** Opens the store, then the bus; a cluster's bus once connected (or given up waiting). */
export async function openBackends(
  options: RelayOptions,
  nodeId: string,
  logger: Logger,
  metrics: RelayMetrics,
): Promise<Backends> {
  const store = await openStore(options, logger, metrics);
  if (options.redisUrl === null) {
    return { store, bus: new LocalBus(), cluster: null, ready: () => storeReady(store) };
  }
  const bus = new RedisBus({ url: options.redisUrl, nodeId, logger, metrics });
  await bus.connect();
  return {
    store,
    bus,
    cluster: bus,
    ready: async () => (await storeReady(store)) && bus.ready(),
  };
}

async function openStore(
  options: RelayOptions,
  logger: Logger,
  metrics: RelayMetrics,
): Promise<Store> {
  if (options.databaseUrl !== null) {
    return PgStore.open({
      connectionString: options.databaseUrl,
      maxPendingPerUser: options.limits.pendingPerUser,
      onPoolError: (error) => {
        metrics.error('database_connection');
        logger.warn({ err: error.message }, 'database connection lost');
      },
      // Counted and logged (rate-limited) by the message writer; here only at debug.
      onWriteError: (error) => logger.debug({ err: error }, 'database write failed'),
    });
  }
  if (options.dataDir !== null) keepPrivate(options.dataDir);
  return new SqliteStore({
    path: options.dataDir === null ? ':memory:' : join(options.dataDir, DATABASE_FILE),
    synchronous: options.durability === 'full' ? 'FULL' : 'NORMAL',
    maxPendingPerUser: options.limits.pendingPerUser,
    ...(options.sqliteNativeBinding === undefined
      ? {}
      : { nativeBinding: options.sqliteNativeBinding }),
  });
}

const DATABASE_FILE = 'parley.db';

/**
 * The data folder holds every message in clear: a folder it makes is 0700, and the database
 * with its WAL and shared-memory files is 0600 (SQLite would make them 0644, less the umask;
 * it gives -wal and -shm the database file's mode, so the database is made first, 0600, and
 * existing files are narrowed). An existing folder keeps its mode: it may be the operator's
 * choice, shared with other things.
 */
function keepPrivate(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const database = join(dataDir, DATABASE_FILE);
  try {
    closeSync(openSync(database, 'a', 0o600));
    for (const file of [database, `${database}-wal`, `${database}-shm`]) {
      if (existsSync(file)) chmodSync(file, 0o600);
    }
  } catch {
    // A read-only or full data folder, or files one may not change: SqliteStore's open (or its
    // first write) refuses it right after, with the reason (storage-errors.ts).
  }
}

/** Whether the database answers. */
async function storeReady(store: Store): Promise<boolean> {
  try {
    await store.getMeta('schema');
    return true;
  } catch {
    // Unreachable or failing database: not ready; the cause is logged where it happened.
    return false;
  }
}
