/**
 * Storage and bus for a relay: SQLite and the in-process bus on one host, PostgreSQL and Redis
 * in a cluster (chosen by `databaseUrl` and `redisUrl`), and readiness over both.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { LocalBus } from './bus.js';
import type { RelayMetrics } from './metrics.js';
import type { RelayOptions } from './options.js';
import { PgStore } from './pg-store.js';
import { RedisBus } from './redis-bus.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/** `<hostname>-<6 hex>`: unique enough for a cluster whose nodes were not given ids. */
export function defaultNodeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '')
      .slice(0, 48) || 'node';
  return `${host}-${randomBytes(3).toString('hex')}`;
}

export async function openStore(
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
  if (options.dataDir !== null) mkdirSync(options.dataDir, { recursive: true });
  return new SqliteStore({
    path: options.dataDir === null ? ':memory:' : join(options.dataDir, 'parley.db'),
    synchronous: options.durability === 'full' ? 'FULL' : 'NORMAL',
    maxPendingPerUser: options.limits.pendingPerUser,
    ...(options.sqliteNativeBinding === undefined
      ? {}
      : { nativeBinding: options.sqliteNativeBinding }),
  });
}

export async function openBus(
  options: RelayOptions,
  nodeId: string,
  logger: Logger,
  metrics: RelayMetrics,
): Promise<LocalBus | RedisBus> {
  if (options.redisUrl === null) return new LocalBus();
  const bus = new RedisBus({ url: options.redisUrl, nodeId, logger, metrics });
  await bus.connect();
  return bus;
}

/** /readyz: the database answers, and in a cluster Redis answers too. */
export async function backendsReady(store: Store, bus: LocalBus | RedisBus): Promise<boolean> {
  try {
    await store.getMeta('schema');
  } catch {
    // Unreachable or failing database: not ready; the cause is logged where it happened.
    return false;
  }
  return bus instanceof RedisBus ? bus.ready() : true;
}
