/**
 * `npm run bench`: Parley side by side with raw `ws` and Socket.IO. Every server runs as its own
 * process, the load generator in another (bench/generator/), all on loopback. Prints the tables
 * and the target checks, and writes .bench/results-<time>.json, .bench/latest.json and
 * .bench/latest.md (the markdown for README.md's "Benchmarks" section).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ScenarioConfig, ScenarioResult } from './config.js';
import { loadAverage } from './proc-stats.js';
import { checkTargets, markdownTables, targetsMarkdown } from './report.js';
import type { AnyResult, BaselineResult, BenchReport, Row } from './results.js';
import { runGenerator } from './run-generator.js';
import { runScript } from './spawn.js';
import { parseSuite, type FanoutSpec, type Suite } from './suite.js';
import {
  baselineKnowsEvent,
  PendingError,
  startTarget,
  type PeerName,
  type StartOptions,
} from './targets.js';
import { runUiScenario } from './ui/ui-bench.js';

const suite = parseSuite(process.argv.slice(2));
/** Rooms the search scenario's messages are spread over (the searcher is in all of them). */
const SEARCH_ROOMS = 20;
// Ctrl-C or a kill ends the run through process.exit, whose hook (spawn.ts) stops the servers.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const log = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};

function startOptions(peer: PeerName, nodes?: number): StartOptions {
  const options: StartOptions = {
    ...(nodes === undefined ? {} : { nodes }),
    ...(suite.baselineRelay === null ? {} : { baselineRelay: suite.baselineRelay }),
  };
  if (suite.profile && peer.startsWith('parley')) {
    const dir = join(suite.outDir, 'profiles');
    mkdirSync(dir, { recursive: true });
    return { ...options, nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir] };
  }
  return options;
}

/** Runs one generator scenario against a fresh server of `peer`. */
async function measure(
  peer: PeerName,
  build: (target: Awaited<ReturnType<typeof startTarget>>['target']) => ScenarioConfig,
  nodes?: number,
  parleyFlags?: readonly string[],
): Promise<ScenarioResult> {
  const options = startOptions(peer, nodes);
  const running = await startTarget(
    peer,
    parleyFlags === undefined ? options : { ...options, parleyFlags },
  );
  try {
    return await runGenerator(build(running.target), (message) => log(`  ${peer}: ${message}`));
  } finally {
    await running.stop();
  }
}

/** The run to show out of repeats: the median by `key`. */
function median(runs: AnyResult[], key: (result: AnyResult) => number): AnyResult | null {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? null;
}

function sortKey(result: AnyResult): number {
  switch (result.kind) {
    case 'fanout':
      return result.cpuPerDeliveryUs;
    case 'idle':
      return result.rssPerConnectionKb;
    case 'durable':
      return result.ackedPerSecond;
    case 'storm':
      return result.allJoinedMs;
    case 'search':
      return result.cpuPerSearchUs;
    case 'edits':
      return result.edits.cpuPerDeliveryUs;
    case 'sqlite-baseline':
      return result.insertsPerSecond;
    case 'ui':
      return result.firstRenderMs;
  }
}

/** Runs every peer `repeat` times, interleaved, and makes one row per peer. */
async function compare(
  scenario: string,
  group: Row['group'],
  peers: readonly string[],
  run: (peer: string) => Promise<AnyResult>,
): Promise<Row[]> {
  const runs = new Map<string, AnyResult[]>(peers.map((peer) => [peer, []]));
  const notes = new Map<string, string>();
  for (let round = 0; round < suite.repeat; round += 1) {
    for (const peer of peers) {
      if (notes.has(peer)) continue;
      log(`${scenario}: ${peer}${suite.repeat > 1 ? ` (run ${round + 1})` : ''}`);
      try {
        runs.get(peer)?.push(await run(peer));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        notes.set(
          peer,
          error instanceof PendingError ? message : `failed: ${message.split('\n')[0]}`,
        );
        log(`  ${peer}: ${message}`);
      }
    }
  }
  return peers.map((peer) => {
    const list = runs.get(peer) ?? [];
    const note = notes.get(peer);
    return {
      scenario,
      group,
      peer,
      result: median(list, sortKey),
      runs: list,
      ...(note === undefined ? {} : { note }),
    };
  });
}

function fanoutConfig(spec: FanoutSpec, seconds: number) {
  return (target: Parameters<Parameters<typeof measure>[1]>[0]): ScenarioConfig => ({
    kind: 'fanout',
    target,
    members: spec.members,
    senders: suite.senders,
    rate: spec.rate,
    seconds,
    drainMs: suite.drainMs,
    warmupSeconds: 1,
  });
}

async function runSuite(s: Suite): Promise<Row[]> {
  const rows: Row[] = [];
  const peers = s.peers;
  if (s.scenarios.includes('fanout')) {
    for (const spec of s.fanout) {
      const label = `fan-out ${spec.members} members @ ${spec.rate} msg/s`;
      rows.push(
        ...(await compare(label, 'fanout', peers, (peer) =>
          measure(peer as PeerName, fanoutConfig(spec, s.seconds)),
        )),
      );
    }
  }
  if (s.scenarios.includes('saturated')) {
    const spec = s.saturated;
    const label = `saturated ${spec.members} members @ ${spec.rate} msg/s`;
    rows.push(
      ...(await compare(label, 'saturated', peers, (peer) =>
        measure(peer as PeerName, fanoutConfig(spec, s.seconds)),
      )),
    );
  }
  if (s.scenarios.includes('idle')) {
    for (const connections of s.idle) {
      const label = `idle ${connections} connections (rooms of ${s.roomSize})`;
      rows.push(
        ...(await compare(label, 'idle', peers, (peer) =>
          measure(peer as PeerName, (target) => ({
            kind: 'idle',
            target,
            connections,
            roomSize: s.roomSize,
            settleMs: s.idleSettleMs,
          })),
        )),
      );
    }
  }
  if (s.scenarios.includes('durable')) {
    const label = `durable: ${s.durableSenders} senders, next send on ack`;
    const durablePeers = [
      'better-sqlite3 insert loop',
      ...peers.filter((peer) => peer === 'parley' || peer === 'parley-before'),
    ];
    rows.push(
      ...(await compare(label, 'durable', durablePeers, async (peer) => {
        if (peer === 'parley' || peer === 'parley-before') {
          return measure(peer, (target) => ({
            kind: 'durable',
            target,
            senders: s.durableSenders,
            seconds: s.durableSeconds,
          }));
        }
        const dir = mkdtempSync(join(tmpdir(), 'parley-bench-sqlite-'));
        try {
          const done = await runScript('bench/servers/sqlite-insert-loop.ts', [
            '--dir',
            dir,
            '--seconds',
            String(s.durableSeconds),
            '--synchronous',
            'FULL',
          ]);
          const result: BaselineResult = {
            kind: 'sqlite-baseline',
            insertsPerSecond: Number(done.inserts) / Number(done.seconds),
            synchronous: 'FULL',
          };
          return result;
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })),
    );
  }
  if (s.scenarios.includes('search')) {
    const label = `search: ${s.searchMessages} messages in ${SEARCH_ROOMS} rooms`;
    // Only Parley searches; the messages are sent with --durability normal, since what is
    // measured is the searching, not the sending.
    rows.push(
      ...(await compare(label, 'search', ['parley'], () =>
        measure(
          'parley',
          (target) => ({ kind: 'search', target, messages: s.searchMessages, rooms: SEARCH_ROOMS }),
          undefined,
          ['--durability', 'normal'],
        ),
      )),
    );
  }
  if (s.scenarios.includes('edits')) {
    const spec = s.edits;
    const label = `edits ${spec.members} members @ ${spec.rate} edits/s`;
    // Only Parley edits and deletes messages (and a baseline relay only from issue 17 on): the
    // other peers are listed with the reason.
    const skipped = new Map<string, string>();
    for (const peer of peers) {
      if (peer === 'raw-ws' || peer === 'socket.io') {
        skipped.set(peer, 'skipped: its protocol has no message edits or deletes');
      } else if (
        peer === 'parley-before' &&
        !baselineKnowsEvent(s.baselineRelay ?? '', 'edit_message')
      ) {
        skipped.set(peer, 'skipped: this relay has no edit_message (older than issue 17)');
      }
    }
    for (const [peer, reason] of skipped) log(`${label}: ${peer} ${reason}`);
    rows.push(
      ...(await compare(
        label,
        'edits',
        peers.filter((peer) => peer.startsWith('parley') && !skipped.has(peer)),
        (peer) =>
          measure(peer as PeerName, (target) => ({
            kind: 'edits',
            target,
            members: spec.members,
            rate: spec.rate,
            seconds: s.seconds,
            deletes: s.deletes,
            drainMs: suite.drainMs,
            warmupSeconds: 1,
          })),
      )),
      ...[...skipped].map(([peer, reason]): Row => ({
        scenario: label,
        group: 'edits',
        peer,
        result: null,
        runs: [],
        note: reason,
      })),
    );
  }
  if (s.scenarios.includes('storm')) {
    const label = `connect storm: ${s.storm} clients at once, one room`;
    rows.push(
      ...(await compare(label, 'storm', peers, (peer) =>
        measure(peer as PeerName, (target) => ({
          kind: 'storm',
          target,
          clients: s.storm,
          timeoutMs: 120_000,
        })),
      )),
    );
  }
  if (s.scenarios.includes('cluster')) {
    const spec = s.cluster;
    const label = `cluster (${s.clusterNodes} nodes) ${spec.members} members @ ${spec.rate} msg/s`;
    rows.push(
      ...(await compare(label, 'cluster', ['socket.io+redis', 'parley-cluster'], (peer) =>
        measure(peer as PeerName, fanoutConfig(spec, s.seconds), s.clusterNodes),
      )),
    );
  }
  if (s.scenarios.includes('cluster-storm')) {
    const label = `cluster storm (${s.clusterNodes} nodes): ${s.storm} clients at once, one room`;
    rows.push(
      ...(await compare(label, 'storm', ['socket.io+redis', 'parley-cluster'], (peer) =>
        measure(
          peer as PeerName,
          (target) => ({ kind: 'storm', target, clients: s.storm, timeoutMs: 120_000 }),
          s.clusterNodes,
        ),
      )),
    );
  }
  if (s.scenarios.includes('ui')) {
    const label = `UI: two rooms of ${s.uiMessages} messages`;
    rows.push(
      ...(await compare(label, 'ui', ['parley web'], () =>
        runUiScenario({ messages: s.uiMessages, log }),
      )),
    );
  }
  return rows;
}

const startedAt = new Date();
const loadBefore = loadAverage();
log(`load average ${loadBefore.toFixed(2)} on ${cpus().length} cores`);
const rows = await runSuite(suite);
const report: BenchReport = {
  startedAt: startedAt.toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Linux ${release()}, node ${process.version}`,
  load: { before: loadBefore, after: loadAverage() },
  quick: suite.quick,
  repeat: suite.repeat,
  rows,
  targets: checkTargets(rows),
};
const markdown = [
  `${report.machine}; ${startedAt.toISOString().slice(0, 10)}; \`npm run bench${suite.quick ? ' -- --quick' : ''}${suite.repeat > 1 ? ` -- --repeat ${suite.repeat}` : ''}\`; 1-minute load average ${report.load.before.toFixed(2)} before, ${report.load.after.toFixed(2)} after.`,
  markdownTables(rows),
  targetsMarkdown(report.targets),
]
  .filter((part) => part !== '')
  .join('\n\n');
mkdirSync(suite.outDir, { recursive: true });
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
writeFileSync(join(suite.outDir, `results-${stamp}.json`), JSON.stringify(report, null, 2));
writeFileSync(join(suite.outDir, 'latest.json'), JSON.stringify(report, null, 2));
writeFileSync(join(suite.outDir, 'latest.md'), `${markdown}\n`);
process.stdout.write(
  `\n${markdown}\n\nResults: ${join(suite.outDir, `results-${stamp}.json`)}, markdown: ${join(suite.outDir, 'latest.md')}\n`,
);
