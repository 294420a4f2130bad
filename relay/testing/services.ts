/**
 * Throwaway Redis and PostgreSQL servers for tests: each on a free loopback port with a fresh
 * data folder, started from Debian's packages (`redis-server`, `postgresql`), waited for by their
 * "ready" log line (no sleeps) and stopped by PID, also when the test process exits early.
 * A PostgreSQL cluster that may already run on 5432 is never touched.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Children still running; killed with SIGKILL if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const orphan of running) {
      if (orphan.pid !== undefined) {
        try {
          process.kill(orphan.pid, 'SIGKILL');
        } catch {
          // Already gone between the check and the kill: nothing to clean up.
        }
      }
    }
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1 (listen on 0, close, reuse). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class ServiceError extends Error {
  constructor(
    readonly code: 'ERR_SERVICE_MISSING' | 'ERR_SERVICE_START',
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** Resolves when `pattern` shows up in the child's output; rejects if it exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (pattern.test(output)) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(
        new ServiceError(
          'ERR_SERVICE_START',
          `${what} exited before it was ready (code ${String(code)}, signal ${String(signal)}):\n${output.slice(-2_000)}`,
        ),
      );
    };
    const cleanup = (): void => {
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Stops a child by PID and waits for it to exit. */
function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    if (child.pid !== undefined) process.kill(child.pid, signal);
  });
}

/** Retries a start when the port was taken between freePort() and the bind. */
async function withFreshPort<T>(start: (port: number) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await start(await freePort());
    } catch (error) {
      lastError = error;
      if (!(error instanceof ServiceError) || !/address already in use/i.test(error.message)) {
        throw error;
      }
    }
  }
  throw lastError;
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** PID of the running server, or null while it is stopped. */
  readonly pid: number | null;
  /** Starts it again on the same port (after stop or kill); an empty server, like a restart. */
  start(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait: the server vanishes without a goodbye. */
  kill(): Promise<void>;
  /** Stops it and removes its folder. */
  remove(): Promise<void>;
}

/** Starts `redis-server` on a free loopback port, without persistence. */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-redis-'));
  let child: ChildProcess | null = null;
  const launch = async (port: number): Promise<void> => {
    let spawned: ChildProcess;
    try {
      spawned = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (error) {
      throw new ServiceError('ERR_SERVICE_MISSING', `cannot run redis-server: ${String(error)}`);
    }
    spawned.once('error', () => undefined);
    track(spawned);
    child = spawned;
    try {
      await waitForLine(spawned, /Ready to accept connections/, 'redis-server');
    } catch (error) {
      if (existsSync('/usr/bin/redis-server') || error instanceof ServiceError) throw error;
      throw new ServiceError(
        'ERR_SERVICE_MISSING',
        'redis-server is not installed (apt-get install redis-server)',
      );
    }
  };
  let port = 0;
  await withFreshPort(async (candidate) => {
    await launch(candidate);
    port = candidate;
  });
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child !== null && child.exitCode === null && child.signalCode === null
        ? (child.pid ?? null)
        : null;
    },
    start: () => launch(port),
    stop: async () => {
      if (child !== null) await stopChild(child, 'SIGTERM');
    },
    kill: async () => {
      if (child !== null) await stopChild(child, 'SIGKILL');
    },
    remove: async () => {
      if (child !== null) await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** The newest PostgreSQL server binaries: `/usr/lib/postgresql/<version>/bin`. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new ServiceError(
      'ERR_SERVICE_MISSING',
      'no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install postgresql)',
    );
  }
  return join(root, newest, 'bin');
}

/** initdb and postgres refuse to run as root: as root, run them as the `postgres` user. */
function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export interface PostgresServer {
  /** Superuser `app`, database `postgres`, trust authentication. */
  readonly url: string;
  readonly port: number;
  readonly pid: number | null;
  /** Starts it again on the same port and data (after stop or kill). */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): open sessions are ended, then it exits. */
  stop(): Promise<void>;
  /** SIGKILL. */
  kill(): Promise<void>;
  /** Stops it and removes its folder. */
  remove(): Promise<void>;
  /** A URL for another database name on this server (created if missing). */
  createDatabase(name: string): Promise<string>;
}

/** initdb in a fresh folder, then `postgres` on a free loopback port (fsync off: test data). */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'parley-pg-'));
  if (user !== null) chownSync(dir, user.uid, user.gid);
  const dataDir = join(dir, 'data');
  const identity = user === null ? {} : { uid: user.uid, gid: user.gid };
  execFileSync(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'app', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'],
    { ...identity, stdio: 'pipe', cwd: dir },
  );
  let child: ChildProcess | null = null;
  const launch = async (port: number): Promise<void> => {
    const spawned = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      { ...identity, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    spawned.once('error', () => undefined);
    track(spawned);
    child = spawned;
    await waitForLine(spawned, /ready to accept connections/, 'postgres');
  };
  let port = 0;
  await withFreshPort(async (candidate) => {
    await launch(candidate);
    port = candidate;
  });
  const url = `postgres://app@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    get pid() {
      return child !== null && child.exitCode === null && child.signalCode === null
        ? (child.pid ?? null)
        : null;
    },
    start: () => launch(port),
    stop: async () => {
      if (child !== null) await stopChild(child, 'SIGINT');
    },
    kill: async () => {
      if (child !== null) await stopChild(child, 'SIGKILL');
    },
    remove: async () => {
      if (child !== null) await stopChild(child, 'SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
    createDatabase: async (name) => {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://app@127.0.0.1:${port}/${name}`;
    },
  };
}
