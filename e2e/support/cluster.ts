/**
 * A Parley cluster for end-to-end specs: one throwaway PostgreSQL and one throwaway Redis
 * (relay/testing/services.ts: Debian's binaries on free loopback ports, stopped by PID) and
 * several relay CLI processes sharing them as cluster nodes, each serving the built web client
 * (dist/renderer) on its own loopback port, configured by environment as in production
 * (PARLEY_DATABASE_URL, PARLEY_REDIS_URL, a shared PARLEY_JWT_SECRET, PARLEY_NODE_ID).
 *
 * Every node is started through relay/testing/relay-process.ts (spawnCli → relayCliArgs: mDNS
 * off) and listens on 127.0.0.1 only. A node can be killed (SIGKILL, no goodbye) and started again
 * on the same port, so a browser whose page it served keeps its origin (and its saved session).
 *
 * The `cluster` fixture starts it per test and stops everything afterwards, also when the test
 * fails; each node's log is attached as `node-N.log`. `people.join(name, node)` opens a browser
 * context on one node's page and signs up; `people.offline(user)` / `people.online(user)` take
 * that one browser off the network and back while its node keeps running. Every context is
 * closed afterwards and uncaught page errors fail the test.
 */
import { appendFileSync } from 'node:fs';
import { test as base, expect, type Page } from '@playwright/test';
import {
  spawnCli,
  untilListening,
  type CliRun,
  type RelayProcess as CliRelayProcess,
} from '../../relay/testing/relay-process.js';
import { NetworkSwitch } from './network-switch.js';
import {
  startPostgres,
  startRedis,
  type PostgresServer,
  type RedisServer,
} from '../../relay/testing/services.js';
import { recordNotifications } from './notifications.js';
import { WEB_DIR } from './relay-process.js';
import { ChatUser } from './ui.js';

/** Fast cluster timing (as relay/testing/cluster-harness.ts): a dead node's entries go within ~1.5 s. */
const NODE_HEARTBEAT_MS = 250;
const NODE_TTL_MS = 1_000;
/** SIGTERM grace before SIGKILL when stopping a node at teardown. */
const STOP_GRACE_MS = 8_000;

/** One relay process of the cluster; `start()` after `kill()` reuses its port and node id. */
export class ClusterNode {
  #port = 0;
  #run: CliRun | null = null;
  #process: CliRelayProcess | null = null;

  constructor(
    readonly nodeId: string,
    readonly logFile: string,
    private readonly env: Record<string, string>,
  ) {}

  get port(): number {
    return this.#port;
  }

  /** The page a browser opens, e.g. http://127.0.0.1:41234 (plain http: no certificate given). */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get running(): boolean {
    return this.#run !== null;
  }

  /** Starts the node (a free port the first time, the same port after that); resolves once it listens. */
  async start(): Promise<void> {
    if (this.#run !== null) throw new Error(`${this.nodeId} is already running`);
    this.#note(`starting ${this.nodeId} on port ${this.#port === 0 ? 'any' : this.#port}`);
    // No --plain: a cluster node serves plain http/ws unless given a certificate.
    const run = spawnCli(['--port', String(this.#port), '--host', '127.0.0.1', '--web', WEB_DIR], {
      env: this.env,
    });
    this.#run = run;
    void run.exited.then((exit) => {
      this.#flush(run);
      this.#note(
        `${this.nodeId} exited (code ${String(exit.code)}, signal ${String(exit.signal)})`,
      );
      if (this.#run === run) {
        this.#run = null;
        this.#process = null;
      }
    });
    const listening = await untilListening(run, this.nodeId);
    this.#process = listening;
    this.#port = listening.port;
  }

  /** SIGKILL: the node vanishes mid-conversation, its sockets cut without a close frame. */
  async kill(): Promise<void> {
    const run = this.#run;
    if (run === null) return;
    this.#note(`killing ${this.nodeId} (SIGKILL)`);
    run.child.kill('SIGKILL');
    await run.exited;
  }

  /** SIGTERM (SIGKILL after STOP_GRACE_MS) and wait; does nothing when it is not running. */
  async stop(): Promise<void> {
    const run = this.#run;
    if (run === null) return;
    run.child.kill('SIGTERM');
    const killer = setTimeout(() => run.child.kill('SIGKILL'), STOP_GRACE_MS);
    await run.exited;
    clearTimeout(killer);
  }

  /** pino entries of the current process so far (empty while stopped). */
  get logs(): readonly Record<string, unknown>[] {
    return this.#process?.logs ?? [];
  }

  #note(text: string): void {
    appendFileSync(this.logFile, `e2e ${Date.now()}: ${text}\n`);
  }

  /** Writes a finished run's output to the node's log file (one file across restarts). */
  #flush(run: CliRun): void {
    appendFileSync(this.logFile, run.stdout());
    if (run.stderr() !== '') appendFileSync(this.logFile, `--- stderr ---\n${run.stderr()}`);
  }
}

export interface ClusterOptions {
  nodes: number;
  /** Folder for the nodes' log files (`node-1.log`, …). */
  logDir: (file: string) => string;
}

/** PostgreSQL, Redis and the nodes; `dispose()` stops all of them and removes their data. */
export class Cluster {
  private constructor(
    readonly postgres: PostgresServer,
    readonly redis: RedisServer,
    readonly nodes: readonly ClusterNode[],
  ) {}

  static async start({ nodes, logDir }: ClusterOptions): Promise<Cluster> {
    const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
    const started: ClusterNode[] = [];
    const cluster = new Cluster(postgres, redis, started);
    try {
      const databaseUrl = await postgres.createDatabase(`parley_e2e_${process.pid}`);
      const env = (nodeId: string): Record<string, string> => ({
        PARLEY_DATABASE_URL: databaseUrl,
        PARLEY_REDIS_URL: redis.url,
        PARLEY_JWT_SECRET: 'a-secret-shared-by-the-nodes-of-this-e2e-cluster',
        PARLEY_NODE_ID: nodeId,
        PARLEY_NODE_HEARTBEAT_MS: String(NODE_HEARTBEAT_MS),
        PARLEY_NODE_TTL_MS: String(NODE_TTL_MS),
      });
      // One after another: the first node runs the database migrations.
      for (let i = 1; i <= nodes; i += 1) {
        const node = new ClusterNode(`node-${i}`, logDir(`node-${i}.log`), env(`node-${i}`));
        started.push(node);
        await node.start();
      }
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  /** Node `n`, counted from 1. */
  node(n: number): ClusterNode {
    const node = this.nodes[n - 1];
    if (node === undefined) throw new Error(`the cluster has no node ${n}`);
    return node;
  }

  async dispose(): Promise<void> {
    try {
      await Promise.all(this.nodes.map((node) => node.stop()));
    } finally {
      await Promise.all([this.redis.remove(), this.postgres.remove()]);
    }
  }
}

export interface ClusterPeople {
  /** A new person: a fresh context on `node`'s page, signed up through the connect screen. */
  join(name: string, node: ClusterNode): Promise<ChatUser>;
  /** `user`'s browser off the network (HTTP fails, its sockets closed); the nodes keep running. */
  offline(user: ChatUser): Promise<void>;
  /** `user`'s browser back on the network; the client reconnects on its own. */
  online(user: ChatUser): Promise<void>;
}

interface Fixtures {
  clusterSize: number;
  cluster: Cluster;
  people: ClusterPeople;
}

export const test = base.extend<Fixtures>({
  clusterSize: [3, { option: true }],

  cluster: async ({ clusterSize }, use, testInfo) => {
    const logDir = (file: string): string => testInfo.outputPath(file);
    const cluster = await Cluster.start({ nodes: clusterSize, logDir });
    try {
      await use(cluster);
    } finally {
      await cluster.dispose();
      for (const node of cluster.nodes) {
        await testInfo.attach(`${node.nodeId}.log`, {
          path: node.logFile,
          contentType: 'text/plain',
        });
      }
    }
  },

  people: async ({ browser, cluster }, use, testInfo) => {
    // The fixture depends on the cluster so the browsers close before the nodes stop.
    void cluster;
    const pages: Page[] = [];
    const pageErrors: string[] = [];
    const switches = new Map<ChatUser, NetworkSwitch>();
    const switchOf = (user: ChatUser): NetworkSwitch => {
      const found = switches.get(user);
      if (found === undefined) throw new Error(`${user.name} did not join through people.join`);
      return found;
    };
    await use({
      async join(name, node) {
        const context = await browser.newContext({
          baseURL: node.url,
          viewport: { width: 1280, height: 800 },
          permissions: ['notifications'],
        });
        await context.addInitScript(recordNotifications);
        const network = new NetworkSwitch(context);
        await network.install();
        const page = await context.newPage();
        pages.push(page);
        page.on('pageerror', (error) =>
          pageErrors.push(`${name}: ${error.stack ?? error.message}`),
        );
        const user = new ChatUser(name, context, page);
        switches.set(user, network);
        await page.goto(node.url);
        await user.signIn(node.url);
        return user;
      },
      offline: (user) => switchOf(user).off(),
      online: (user) => switchOf(user).on(),
    });
    for (const page of pages) await page.context().close();
    if (pageErrors.length > 0) {
      await testInfo.attach('page-errors.txt', { body: pageErrors.join('\n\n') });
    }
    expect(pageErrors, 'uncaught errors in the web client').toEqual([]);
  },
});

export { expect };
