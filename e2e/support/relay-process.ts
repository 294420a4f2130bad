/**
 * The real relay CLI (`relay/cli/cli.ts`) as a child process, serving the built web client, for the
 * end-to-end specs. A child process (not in-process `startRelay`) so a spec can stop the relay
 * and start it again on the same port and data folder, as an outage would.
 *
 * Discovery: mDNS is off (relayCliArgs adds --no-mdns), and every relay listens on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RelayLimits } from '../../relay/core/options.js';
import { relayCliArgs } from '../../relay/testing/relay-process.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where `npm run build:web` puts the web client (PARLEY_E2E_WEB_DIR overrides, to try a build). */
export const WEB_DIR = process.env.PARLEY_E2E_WEB_DIR ?? join(REPO_ROOT, 'dist', 'renderer');
/** How long a start may take before the spec fails (tsx compiles the relay on first start). */
const START_TIMEOUT_MS = 30_000;
/** SIGTERM grace before SIGKILL; the relay itself cuts unresponsive sockets after 2.5 s. */
const STOP_GRACE_MS = 8_000;

export interface RelayProcessOptions {
  /** Limits passed as `--limit NAME=VALUE`. */
  limits?: Partial<RelayLimits>;
  /** File that receives the relay's log lines (stdout and stderr). */
  logFile: string;
  /** `full` (the default, fsync per commit) or `normal`. */
  durability?: 'full' | 'normal';
  /** Serve https/wss with the relay's self-signed certificate (`tls auto`, the CLI's default in
   * host mode); without it the relay is started with `--plain` (http/ws). */
  tls?: boolean;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Every child still running, killed if the Playwright worker exits without tearing down. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The environment without any PARLEY_* setting of whoever runs the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('PARLEY_')),
  );
}

export class RelayProcess {
  readonly dataDir: string;
  readonly #options: RelayProcessOptions;
  readonly #log: WriteStream;
  #port = 0;
  #fingerprint: string | null = null;
  #child: ChildProcess | null = null;
  #exited: Promise<Exit> | null = null;

  private constructor(options: RelayProcessOptions) {
    this.#options = options;
    this.dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
    this.#log = createWriteStream(options.logFile, { flags: 'a' });
  }

  /** Starts a relay on a free loopback port with a fresh data folder. */
  static async start(options: RelayProcessOptions): Promise<RelayProcess> {
    const relay = new RelayProcess(options);
    try {
      await relay.#spawn(0);
    } catch (error) {
      await relay.dispose();
      throw error;
    }
    return relay;
  }

  get port(): number {
    return this.#port;
  }

  /** The page URL a colleague would open, e.g. http://127.0.0.1:41234 (https://… with `tls`) */
  get url(): string {
    return `${this.#options.tls === true ? 'https' : 'http'}://127.0.0.1:${this.#port}`;
  }

  /** SHA-256 fingerprint of the served certificate (`AB:12:…`), as the relay logged it; null
   * without `tls`. */
  get tlsFingerprint(): string | null {
    return this.#fingerprint;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  /** SIGTERM (clean shutdown: sockets closed with 1001, queued writes committed); waits for exit. */
  async stop(): Promise<Exit | null> {
    const child = this.#child;
    const exited = this.#exited;
    if (child === null || exited === null) return null;
    this.#note('stopping relay (SIGTERM)');
    child.kill('SIGTERM');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#note(`no exit ${STOP_GRACE_MS} ms after SIGTERM, sending SIGKILL`);
        child.kill('SIGKILL');
        resolve();
      }, STOP_GRACE_MS);
    });
    await Promise.race([exited, killed]);
    const exit = await exited;
    clearTimeout(timer);
    return exit;
  }

  /** Starts the relay again on the same port and data folder. */
  async restart(): Promise<void> {
    if (this.#child !== null) throw new Error('restart() needs a stopped relay: call stop() first');
    await this.#spawn(this.#port);
  }

  /** Stops the relay (if running) and deletes its data folder. Safe to call twice. */
  async dispose(): Promise<void> {
    try {
      await this.stop();
    } finally {
      rmSync(this.dataDir, { recursive: true, force: true });
      await new Promise<void>((resolve) => this.#log.end(resolve));
    }
  }

  #write(text: string): void {
    if (!this.#log.writableEnded) this.#log.write(text);
  }

  /** A line of the harness's own, timestamped like pino's (epoch ms) to line up with the relay's. */
  #note(text: string): void {
    this.#write(`e2e ${Date.now()}: ${text}\n`);
  }

  async #spawn(port: number): Promise<void> {
    const limits = Object.entries(this.#options.limits ?? {}).flatMap(([name, value]) => [
      '--limit',
      `${name}=${String(value)}`,
    ]);
    const args = relayCliArgs([
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--data',
      this.dataDir,
      '--web',
      WEB_DIR,
      '--durability',
      this.#options.durability ?? 'full',
      ...(this.#options.tls === true ? [] : ['--plain']),
      ...limits,
    ]);
    this.#note(`starting relay: node ${args.join(' ')}`);
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    this.#child = child;
    const exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        if (this.#child === child) {
          this.#child = null;
          this.#exited = null;
        }
        this.#note(`relay exited (code ${String(code)}, signal ${String(signal)})`);
        resolve({ code, signal });
      });
    });
    this.#exited = exited;
    child.stderr?.on('data', (chunk: Buffer) => this.#write(chunk.toString('utf8')));
    if (child.stdout === null) throw new Error('the relay was spawned without a stdout pipe');
    const lines = createInterface({ input: child.stdout });

    let timer: ReturnType<typeof setTimeout> | undefined;
    const listening = new Promise<number>((resolve, reject) => {
      lines.on('line', (line) => {
        this.#write(`${line}\n`);
        // pino writes one JSON object per line; anything else is not a log entry.
        if (!line.startsWith('{')) return;
        let entry: { msg?: unknown; port?: unknown; tlsFingerprint?: unknown };
        try {
          entry = JSON.parse(line) as { msg?: unknown; port?: unknown; tlsFingerprint?: unknown };
        } catch {
          return; // a partial or foreign line: already written to the log file
        }
        if (entry.msg === 'relay listening' && typeof entry.port === 'number') {
          this.#fingerprint =
            typeof entry.tlsFingerprint === 'string' ? entry.tlsFingerprint : null;
          resolve(entry.port);
        }
      });
      void exited.then((exit) =>
        reject(
          new Error(
            `relay exited before listening (code ${String(exit.code)}, signal ${String(exit.signal)}); see ${this.#options.logFile}`,
          ),
        ),
      );
      timer = setTimeout(
        () => reject(new Error(`relay did not listen within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
    });
    try {
      this.#port = await listening;
    } catch (error) {
      child.kill('SIGKILL');
      await exited;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
