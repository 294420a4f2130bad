import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_QUEUED, SqliteSearchWorker } from './sqlite-search-worker.js';
import { removeDir } from '../../testing/relay-harness.js';

const dirs: string[] = [];
const workers: SqliteSearchWorker[] = [];
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.close();
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function database(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-search-worker-'));
  dirs.push(dir);
  const path = join(dir, 'parley.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3);');
  db.close();
  return path;
}

function worker(path: string, sql: string): SqliteSearchWorker {
  const created = new SqliteSearchWorker({ path, sql });
  workers.push(created);
  return created;
}

describe('SqliteSearchWorker', () => {
  it('runs the statement in a worker thread, with named parameters', async () => {
    const search = worker(database(), 'SELECT n FROM t WHERE n >= @min ORDER BY n');
    expect(await search.run({ min: 2 })).toEqual([{ n: 2 }, { n: 3 }]);
    expect(search.fallbackReason).toBeNull();
    expect(search.unavailable).toBe(false);
  });

  it('answers a failing statement with storage_error and keeps working', async () => {
    const search = worker(database(), 'SELECT n FROM t WHERE n >= @min');
    expect(await search.run({})).toMatchObject({ ok: false, code: 'storage_error' });
    expect(await search.run({ min: 3 })).toEqual([{ n: 3 }]);
  });

  it(`refuses with overloaded beyond ${MAX_QUEUED} waiting searches`, async () => {
    const search = worker(database(), 'SELECT n FROM t WHERE n >= @min');
    const all = await Promise.all(
      Array.from({ length: MAX_QUEUED + 5 }, () => search.run({ min: 1 })),
    );
    expect(all.filter((rows) => Array.isArray(rows))).toHaveLength(MAX_QUEUED);
    expect(all.filter((rows) => !Array.isArray(rows))).toEqual(
      Array.from({ length: 5 }, () => expect.objectContaining({ code: 'overloaded' })),
    );
  });

  it('falls back to the calling thread when the worker cannot start', async () => {
    const search = worker(join(tmpdir(), 'parley-no-such-dir', 'parley.db'), 'SELECT 1');
    expect(await search.run({})).toMatchObject({ ok: false, code: 'storage_error' });
    expect(search.unavailable).toBe(true);
    expect(search.fallbackReason).toMatch(/unable to open|does not exist|exited/);
  });
});
