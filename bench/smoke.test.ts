/**
 * A tiny run of the bench harness against real server processes: every peer's wire protocol,
 * the generator process, /proc sampling and the report. Correctness only: no timing is asserted
 * (performance is measured by `npm run bench`, never in tests).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DurableResult,
  EditsResult,
  FanoutResult,
  IdleResult,
  SearchResult,
  StormResult,
  Target,
} from './config.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpuSeconds, processTree, rssBytes, systemSeconds, TreeCpuMeter } from './proc-stats.js';
import { checkTargets, markdownTables } from './report.js';
import type { Row } from './results.js';
import { runGenerator } from './run-generator.js';
import { startTarget, type PeerName, type RunningTarget } from './targets.js';

const PEERS: PeerName[] = ['raw-ws', 'socket.io', 'parley'];
const running = new Map<PeerName, RunningTarget>();

beforeAll(async () => {
  await Promise.all(PEERS.map(async (peer) => running.set(peer, await startTarget(peer))));
});

afterAll(async () => {
  await Promise.all([...running.values()].map((target) => target.stop()));
});

function target(peer: PeerName): Target {
  const found = running.get(peer);
  if (found === undefined) throw new Error(`${peer} did not start`);
  return found.target;
}

describe('proc-stats', () => {
  it('reads CPU time and RSS of this process', () => {
    expect(processTree(process.pid)).toContain(process.pid);
    expect(cpuSeconds([process.pid])).toBeGreaterThan(0);
    expect(rssBytes([process.pid])).toBeGreaterThan(1_000_000);
    expect(systemSeconds([process.pid])).toBeLessThanOrEqual(cpuSeconds([process.pid]));
  });

  it("counts a process tree's CPU inside the window only, children born in it included", async () => {
    // Amounts of CPU, not of wall time, so the test means the same on a loaded machine: each
    // child spins until it has used SPIN_S of CPU itself, reports its own total over IPC, and
    // stays alive until told to exit (so the meter's last sample sees all of it).
    const spinner = (spinS: number) =>
      spawn(
        process.execPath,
        [
          '-e',
          `const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
           while (cpu() < ${spinS});
           process.send(cpu());
           process.on('message', () => process.exit(0));`,
        ],
        { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
      );
    const cpuReport = async (child: ReturnType<typeof spinner>): Promise<number> =>
      Number((await once(child, 'message'))[0]);
    const stopChild = async (child: ReturnType<typeof spinner>): Promise<void> => {
      const exited = once(child, 'exit');
      child.send('exit');
      await exited;
    };
    // `before` uses 0.5 s of CPU before the window and idles through it; `during` is born inside
    // the window and uses 0.3 s there.
    const before = spinner(0.5);
    const beforeTotal = await cpuReport(before);
    const ownBefore = process.cpuUsage();
    const meter = new TreeCpuMeter([process.pid]);
    const during = spinner(0.3);
    const duringTotal = await cpuReport(during);
    const used = meter.stop();
    const own = process.cpuUsage(ownBefore);
    const ownS = (own.user + own.system) / 1e6;
    await Promise.all([stopChild(before), stopChild(during)]);
    // All of `during` is counted (less one clock tick of rounding per process), none of
    // `before`'s earlier spin; the rest is this process and the idle bench servers.
    expect(beforeTotal).toBeGreaterThanOrEqual(0.5);
    expect(used - ownS).toBeGreaterThanOrEqual(duringTotal - 0.03);
    expect(used).toBeLessThan(duringTotal + ownS + 0.25);
  });
});

describe.each(PEERS)('bench harness against %s', (peer) => {
  it('fans out every message to every other member, and reports it', async () => {
    const result = (await runGenerator({
      kind: 'fanout',
      target: target(peer),
      members: 6,
      senders: 2,
      rate: 40,
      seconds: 0.5,
      drainMs: 10_000,
      warmupSeconds: 0.25,
    })) as FanoutResult;
    expect(result.kind).toBe('fanout');
    expect(result.messages).toBe(20);
    expect(result.expectedDeliveries).toBe(100);
    expect(result.deliveries).toBe(100);
    expect(result.lost).toBe(0);
    expect(result.duplicates).toBe(0);
    expect(result.latency.count).toBe(100);
    expect(result.lastRecipient.count).toBe(20);
    expect(result.latency.p50).toBeGreaterThan(0);
    expect(result.peakRssMb).toBeGreaterThan(1);
    expect(result.sendErrors).toBe(0);
    expect(result.closedConnections).toBe(0);

    const rows: Row[] = [{ scenario: 'smoke', group: 'fanout', peer, result, runs: [result] }];
    expect(markdownTables(rows)).toContain(`| smoke | ${peer} |`);
    const checks = checkTargets(rows);
    // One peer alone forms no ratio: its ratio targets say "not measured" instead of passing.
    expect(checks.filter((check) => check.target.startsWith('smoke:'))).toEqual([
      expect.objectContaining({ measured: 'not measured', met: null }),
      expect.objectContaining({ measured: 'not measured', met: null }),
      expect.objectContaining({ measured: 'not measured', met: null }),
    ]);
    const counted = checks.filter((check) => check.target.startsWith('no '));
    expect(counted.map((check) => [check.target, check.met])).toEqual(
      peer === 'parley'
        ? [
            ['no message lost (Parley, every fan-out run)', true],
            ['no delivery duplicated (Parley, every fan-out run)', true],
          ]
        : [],
    );
  });
});

describe('idle memory, connect storm, durable sends, search and edits (Parley)', () => {
  it('counts idle memory of joined connections and a connect storm', async () => {
    const idle = (await runGenerator({
      kind: 'idle',
      target: target('parley'),
      connections: 8,
      roomSize: 4,
      settleMs: 50,
    })) as IdleResult;
    expect(idle.connections).toBe(8);
    expect(idle.rssMb).toBeGreaterThan(1);
    const storm = (await runGenerator({
      kind: 'storm',
      target: target('parley'),
      clients: 10,
      timeoutMs: 10_000,
    })) as StormResult;
    expect(storm.joined).toBe(10);
    expect(storm.errors).toBe(0);
    expect(storm.allJoinedMs).toBeGreaterThan(0);
  });

  it('counts messages acknowledged as committed', async () => {
    const result = (await runGenerator({
      kind: 'durable',
      target: target('parley'),
      senders: 3,
      seconds: 0.3,
    })) as DurableResult;
    expect(result.acked).toBeGreaterThan(0);
    expect(result.errors).toBe(0);
  });

  it('posts messages, edits each and deletes some; every member gets every change once', async () => {
    const result = (await runGenerator({
      kind: 'edits',
      target: target('parley'),
      members: 5,
      rate: 20,
      seconds: 0.5,
      deletes: 3,
      drainMs: 10_000,
      warmupSeconds: 0.2,
    })) as EditsResult;
    expect(result.changeErrors).toBe(0);
    expect(result.closedConnections).toBe(0);
    // Posts reach every member but the sender; changes reach every member, the sender included.
    expect(result.messages).toMatchObject({ count: 10, expectedDeliveries: 40, deliveries: 40 });
    expect(result.edits).toMatchObject({ count: 10, expectedDeliveries: 50, deliveries: 50 });
    expect(result.deletes).toMatchObject({ count: 3, expectedDeliveries: 15, deliveries: 15 });
    for (const phase of [result.messages, result.edits, result.deletes]) {
      expect(phase.lost).toBe(0);
      expect(phase.duplicates).toBe(0);
      expect(phase.latency.count).toBe(phase.expectedDeliveries);
      expect(phase.latency.p99).toBeGreaterThanOrEqual(phase.latency.p50);
      expect(phase.cpuPerDeliveryUs).toBeGreaterThanOrEqual(0);
    }

    const rows: Row[] = [
      { scenario: 'edits smoke', group: 'edits', peer: 'parley', result, runs: [result] },
      {
        scenario: 'edits smoke',
        group: 'edits',
        peer: 'raw-ws',
        result: null,
        runs: [],
        note: 'skipped: its protocol has no message edits or deletes',
      },
    ];
    const markdown = markdownTables(rows);
    for (const event of ['receive_message', 'message_edited', 'message_deleted']) {
      expect(markdown).toContain(`| edits smoke | parley | ${event} |`);
    }
    expect(markdown).toContain('| edits smoke | raw-ws |');
    expect(markdown).toContain('skipped: its protocol has no message edits or deletes');
    expect(checkTargets(rows)).toContainEqual({
      target: 'no edit or delete lost or duplicated (Parley, every edits run)',
      measured: '0 lost, 0 duplicated',
      met: true,
    });
  }, 30_000);

  it('sends messages, then searches them with every kind of query', async () => {
    // The generator fails unless the last message sent is found by its own word.
    const result = (await runGenerator({
      kind: 'search',
      target: target('parley'),
      messages: 50,
      rooms: 2,
    })) as SearchResult;
    expect(result.messages).toBe(50);
    expect(result.queries.map((q) => q.name)).toEqual([
      'one match',
      'common word',
      'prefix',
      'two words',
      'no match',
      'common word, one room',
    ]);
    for (const query of result.queries) expect(query.p99Ms).toBeGreaterThanOrEqual(query.p50Ms);
    expect(result.cpuPerSearchUs).toBeGreaterThan(0);
  }, 30_000);
});
