/**
 * The real command-line relay (`node --import tsx relay/cli/cli.ts`) as a child process, for the
 * slow suites that kill it or flood it (process.test.ts, crash.hostile.test.ts,
 * storage-failure.hostile.test.ts, floods.hostile.test.ts) and for cluster nodes
 * (cluster-harness.ts). Every child is tracked so a test's cleanup can SIGKILL whatever it left
 * running.
 *
 * Every way of starting the CLI in tests, e2e and the bench goes through relayCliArgs(), which
 * switches mDNS off: the CLI host advertises by default, and a test must never multicast on the
 * machine's real network (PLATFORM.md). Lint (eslint.config.js) refuses the literal
 * 'relay/cli/cli.ts' anywhere else, so a new spawn cannot forget it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { USAGE } from '../cli/cli-args.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The CLI's entry, relative to the repository root (run with `node --import tsx`). */
export const RELAY_CLI = 'relay/cli/cli.ts';

export interface RelayCliArgsOptions {
  /**
   * Where the relay may advertise by mDNS: `off` (the default, for every test, e2e spec and
   * bench), or `inside-test-network-namespace`, for a test that starts it with `ip netns exec`
   * in a namespace it created (relay/testing/netns.ts) and nowhere else.
   */
  mdns?: 'off' | 'inside-test-network-namespace';
}

/**
 * Node's arguments for the CLI relay: `--import tsx relay/cli/cli.ts --no-mdns ...args`. A test that
 * also passes `--mdns` is refused (exit 2: the flags contradict) instead of multicasting.
 */
export function relayCliArgs(
  args: readonly string[],
  { mdns = 'off' }: RelayCliArgsOptions = {},
): string[] {
  return ['--import', 'tsx', RELAY_CLI, ...(mdns === 'off' ? ['--no-mdns'] : []), ...args];
}

/**
 * Flags every test relay process gets: loopback, any free port, and plain http/ws where the CLI
 * knows `--plain` (host mode defaults to TLS there; these tests are about storage, not TLS).
 */
export const BASE_RELAY_ARGS: readonly string[] = [
  '--port',
  '0',
  '--host',
  '127.0.0.1',
  ...(USAGE.includes('--plain') ? ['--plain'] : []),
];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliRun {
  child: ChildProcess;
  exited: Promise<Exit>;
  stdout: () => string;
  stderr: () => string;
}

export interface RelayProcess {
  child: ChildProcess;
  /** For reading /proc/<pid>/status. */
  pid: number;
  port: number;
  url: string;
  socketUrl: string;
  exited: Promise<Exit>;
  /** pino entries written so far (one JSON object per stdout line). */
  logs: Record<string, unknown>[];
  stderr: () => string;
}

const children = new Set<ChildProcess>();

/** The environment without PARLEY_* settings of whoever runs the tests. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('PARLEY_')),
  );
}

export interface SpawnOptions {
  /** Added to the environment (which has no PARLEY_* settings of whoever runs the tests). */
  env?: Record<string, string>;
}

/** Runs the CLI relay with these arguments (no BASE_RELAY_ARGS) and mDNS off (relayCliArgs). */
export function spawnCli(args: readonly string[], { env = {} }: SpawnOptions = {}): CliRun {
  const child = spawn(process.execPath, relayCliArgs(args), {
    cwd: REPO_ROOT,
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Starts the CLI relay with BASE_RELAY_ARGS and `args`; resolves once it listens. */
export function startRelayProcess(
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<RelayProcess> {
  return untilListening(spawnCli([...BASE_RELAY_ARGS, ...args], options));
}

/** Limits high enough to seed hundreds of messages over HTTP quickly, where sending is not under test. */
export const FAST_SEEDING_ARGS: readonly string[] = [
  '--limit',
  'messagesPerSecond=1000',
  '--limit',
  'messageBurst=1000',
];

/** A relay process on a data folder of its own, which stopRelayProcess() removes. */
export interface TempDataRelayProcess extends RelayProcess {
  dataDir: string;
}

/**
 * Starts the CLI relay (BASE_RELAY_ARGS) on a fresh temporary folder `parley-<name>-…`, with
 * `--durability normal` (no fsync per commit: durability is not under test where this is used),
 * then `args`.
 */
export async function startRelayProcessOnTempData(
  name: string,
  args: readonly string[] = [],
): Promise<TempDataRelayProcess> {
  const dataDir = mkdtempSync(joinPath(tmpdir(), `parley-${name}-`));
  const relay = await startRelayProcess(['--durability', 'normal', '--data', dataDir, ...args]);
  return { ...relay, dataDir };
}

/**
 * Stops the relay with SIGTERM (SIGKILL if it is still running 10 s later), then removes its data
 * folder. Does nothing for `undefined` (a suite whose beforeAll failed before starting it).
 */
export async function stopRelayProcess(relay: TempDataRelayProcess | undefined): Promise<void> {
  if (relay === undefined) return;
  if (relay.child.exitCode === null && relay.child.signalCode === null) {
    relay.child.kill('SIGTERM');
    const killer = setTimeout(() => relay.child.kill('SIGKILL'), 10_000);
    await relay.exited;
    clearTimeout(killer);
  }
  rmSync(relay.dataDir, { recursive: true, force: true });
}

/**
 * Collects the run's pino lines and resolves once it logs `relay listening`; rejects, naming
 * `name` and quoting stderr, if it exits first.
 */
export async function untilListening(run: CliRun, name = 'relay'): Promise<RelayProcess> {
  const { child, exited, stderr } = run;
  const logs: Record<string, unknown>[] = [];
  if (child.stdout === null || child.pid === undefined) {
    throw new Error(`${name} was spawned without a pid or a stdout pipe`);
  }
  const pid = child.pid;
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      // pino writes one JSON object per line; anything else on stdout is not a log entry.
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'relay listening') resolve(entry.port as number);
    });
    void exited.then((exit) =>
      reject(new Error(`${name} exited before listening (${JSON.stringify(exit)}): ${stderr()}`)),
    );
  });
  return {
    child,
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    socketUrl: `ws://127.0.0.1:${port}/socket`,
    exited,
    logs,
    stderr,
  };
}

/** SIGKILLs every child still running and waits for them to exit (for afterEach). */
export async function killAllRelayProcesses(): Promise<void> {
  const running = [...children];
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once('exit', () => resolve());
        }),
    ),
  );
  children.clear();
}
