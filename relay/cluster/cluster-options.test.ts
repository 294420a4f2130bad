/**
 * The cluster's options: flags and environment variables, defaults, and the precise error each
 * bad value gets (resolveOptions runs before anything starts).
 */
import { describe, expect, it } from 'vitest';
import { parseCli } from '../cli/cli-args.js';
import { RelayOptionsError, resolveOptions, type RelayOptionsInput } from '../core/options.js';

function rejected(input: RelayOptionsInput): RelayOptionsError {
  try {
    resolveOptions(input);
  } catch (error) {
    if (error instanceof RelayOptionsError) return error;
    throw error;
  }
  throw new Error(`resolveOptions accepted ${JSON.stringify(input)}`);
}

const DB = 'postgres://parley:secret@db.internal:5432/parley';
const REDIS = 'redis://redis.internal:6379';

describe('cluster options', () => {
  it('default to a single node: SQLite, the in-process bus, a generated node id', () => {
    expect(resolveOptions()).toMatchObject({
      databaseUrl: null,
      redisUrl: null,
      nodeId: null,
      nodeHeartbeatMs: 1_000,
      nodeTtlMs: 5_000,
      processMetrics: false,
    });
  });

  it('accept a full cluster configuration', () => {
    expect(
      resolveOptions({ databaseUrl: DB, redisUrl: 'rediss://r:6380/2', nodeId: 'relay-1.eu' }),
    ).toMatchObject({ databaseUrl: DB, redisUrl: 'rediss://r:6380/2', nodeId: 'relay-1.eu' });
    // PostgreSQL without Redis is one node on a shared database: allowed.
    expect(resolveOptions({ databaseUrl: 'postgresql://h/db' }).redisUrl).toBeNull();
  });

  it.each([
    [{ databaseUrl: 'not a url' }, 'databaseUrl', 'expected a URL'],
    [
      { databaseUrl: 'mysql://h/db' },
      'databaseUrl',
      'expected postgres: or postgresql:, got mysql:',
    ],
    [{ databaseUrl: DB, redisUrl: 'http://r' }, 'redisUrl', 'expected redis: or rediss:'],
    [{ redisUrl: REDIS }, 'redisUrl', 'a cluster needs databaseUrl (PostgreSQL) too'],
    [{ nodeId: 'has space' }, 'nodeId', 'expected 1 to 64 of'],
    [{ nodeId: '' }, 'nodeId', 'expected 1 to 64 of'],
    [{ nodeHeartbeatMs: 0 }, 'nodeHeartbeatMs', 'positive integer'],
    [{ nodeHeartbeatMs: 1_000, nodeTtlMs: 1_500 }, 'nodeTtlMs', 'at least twice nodeHeartbeatMs'],
  ] as [RelayOptionsInput, string, string][])('reject %j (%s)', (input, option, message) => {
    const error = rejected(input);
    expect(error.code).toBe('ERR_RELAY_OPTION');
    expect(error.option).toBe(option);
    expect(error.message).toContain(message);
  });

  it('come from flags or PARLEY_* variables, flags first, and only when given', () => {
    const fromEnv = parseCli([], {
      PARLEY_DATABASE_URL: DB,
      PARLEY_REDIS_URL: REDIS,
      PARLEY_NODE_ID: 'relay-2',
      PARLEY_NODE_HEARTBEAT_MS: '250',
      PARLEY_NODE_TTL_MS: '1000',
    });
    expect(fromEnv.help === false && fromEnv.options).toMatchObject({
      databaseUrl: DB,
      redisUrl: REDIS,
      nodeId: 'relay-2',
      nodeHeartbeatMs: 250,
      nodeTtlMs: 1_000,
    });
    const fromFlags = parseCli(['--node-id', 'relay-3', '--redis-url', 'redis://other:1'], {
      PARLEY_NODE_ID: 'relay-2',
      PARLEY_REDIS_URL: REDIS,
    });
    expect(fromFlags.help === false && fromFlags.options).toMatchObject({
      nodeId: 'relay-3',
      redisUrl: 'redis://other:1',
    });
    const none = parseCli([], {});
    expect(none.help === false && Object.keys(none.options)).not.toContain('databaseUrl');
    expect(() => parseCli(['--node-ttl-ms', 'soon'], {})).toThrow(
      'invalid relay option nodeTtlMs: expected a number, got "soon"',
    );
  });
});
