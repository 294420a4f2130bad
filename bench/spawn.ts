/**
 * Server processes for the bench: each peer runs as its own Node process, started with tsx from
 * the repository root and awaited by the JSON line it prints once it listens (no sleeps).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Children still running: killed if the bench exits early (Ctrl-C, a crash), never left behind. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Tracks a child until it exits; on the bench's own exit, SIGKILLs whatever is left. */
export function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const orphan of running) orphan.kill('SIGKILL');
  });
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** SIGTERM, then SIGKILL after 10 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Script path relative to the repository root, run with `node --import tsx`. */
  script: string;
  args: readonly string[];
  /** Reads the port from one JSON line of stdout, or returns null for other lines. */
  ready: (entry: Record<string, unknown>) => number | null;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: readonly string[];
  /** Give up when nothing listens after this long. */
  timeoutMs?: number;
}

export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), '--import', 'tsx', options.script, ...options.args],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  track(child);
  // Keep reading stdout for the process's whole life: a full pipe would block its logging.
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${options.script} did not listen within ${options.timeoutMs ?? 30_000} ms`),
      );
    }, options.timeoutMs ?? 30_000);
    lines.on('line', (line) => {
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        return; // Not a JSON log line: nothing to learn from it.
      }
      if (typeof entry !== 'object' || entry === null) return;
      const found = options.ready(entry as Record<string, unknown>);
      if (found !== null) {
        clearTimeout(timer);
        resolvePort(found);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.script} exited (${String(code ?? signal)}) before listening`));
    });
  });
  return {
    child,
    pid: child.pid ?? 0,
    port,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Runs a script to completion and returns the JSON line it printed with `msg: "done"`. */
export function runScript(
  script: string,
  args: readonly string[],
): Promise<Record<string, unknown>> {
  return new Promise((resolveResult, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    track(child);
    let result: Record<string, unknown> | null = null;
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === 'done') result = entry;
      } catch {
        // Not JSON: the script prints only JSON lines, so this is stray output; ignore it.
      }
    });
    child.once('exit', (code) => {
      if (result !== null) resolveResult(result);
      else reject(new Error(`${script} exited with ${String(code)} without a result`));
    });
  });
}
