/** Tables (terminal and markdown) and the target checks, from one invocation's rows. */
import type { EditsPhase, EditsResult, FanoutResult, IdleResult, StormResult } from './config.js';
import type { AnyResult, BaselineResult, Row, TargetCheck, UiResult } from './results.js';

const f0 = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
const f1 = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '–');
const f2 = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '–');

function find<K extends AnyResult['kind']>(
  rows: readonly Row[],
  scenario: string,
  peer: string,
  kind: K,
): Extract<AnyResult, { kind: K }> | null {
  const row = rows.find((candidate) => candidate.scenario === scenario && candidate.peer === peer);
  const result = row?.result ?? null;
  return result !== null && result.kind === kind
    ? (result as Extract<AnyResult, { kind: K }>)
    : null;
}

/** A markdown table; the first `textColumns` columns are left-aligned, the rest are numbers. */
function table(header: string[], lines: string[][], textColumns = 2): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i < textColumns ? '---' : '---:')).join(' | ')} |`,
    ...lines.map((cells) => `| ${cells.join(' | ')} |`),
  ].join('\n');
}

function fanoutLine(row: Row, result: FanoutResult): string[] {
  const notes: string[] = [];
  if (result.generatorBound) notes.push('generator-bound');
  if (result.sendErrors > 0) notes.push(`${f0(result.sendErrors)} sends refused`);
  if (result.closedConnections > 0) notes.push(`${result.closedConnections} connections closed`);
  return [
    row.scenario,
    row.peer,
    `${f0(result.achievedPerSecond)} / ${f0(result.expectedPerSecond)}`,
    f0(result.lost),
    f0(result.duplicates),
    f1(result.latency.p50),
    f1(result.latency.p95),
    f1(result.latency.p99),
    f1(result.latency.max),
    f1(result.lastRecipient.p50),
    f1(result.lastRecipient.p99),
    f2(result.cpuPerDeliveryUs),
    Number.isFinite(result.kernelCpuShare) ? `${f0(result.kernelCpuShare * 100)}%` : '',
    result.totalCpuPerDeliveryUs !== result.cpuPerDeliveryUs
      ? f2(result.totalCpuPerDeliveryUs)
      : '',
    f0(result.peakRssMb),
    notes.join('; '),
  ];
}

/** One line per phase (posts, edits, deletes) of an edits run; CPU also as a multiple of a post's. */
function editsLines(row: Row, result: EditsResult): string[][] {
  const notes: string[] = [];
  if (result.changeErrors > 0) notes.push(`${f0(result.changeErrors)} refused`);
  if (result.closedConnections > 0) notes.push(`${result.closedConnections} connections closed`);
  const line = (what: string, phase: EditsPhase, more: string[] = []): string[] => [
    row.scenario,
    row.peer,
    what,
    f0(phase.count),
    `${f0(phase.deliveries)} / ${f0(phase.expectedDeliveries)}`,
    f0(phase.lost),
    f0(phase.duplicates),
    f1(phase.latency.p50),
    f1(phase.latency.p99),
    f1(phase.latency.max),
    f2(phase.cpuPerDeliveryUs),
    `${f2(phase.cpuPerDeliveryUs / result.messages.cpuPerDeliveryUs)}×`,
    Number.isFinite(phase.kernelCpuShare) ? `${f0(phase.kernelCpuShare * 100)}%` : '',
    [...(phase.generatorCpuShare >= 0.9 ? ['generator-bound'] : []), ...more].join('; '),
  ];
  return [
    line('receive_message', result.messages),
    line('message_edited', result.edits),
    line('message_deleted', result.deletes, notes),
  ];
}

/** The markdown tables, one per kind of scenario. */
export function markdownTables(rows: readonly Row[]): string {
  const parts: string[] = [];
  const fan = rows.filter((row) => ['fanout', 'saturated', 'cluster'].includes(row.group));
  if (fan.length > 0) {
    parts.push(
      table(
        [
          'fan-out',
          'peer',
          'deliveries/s (achieved / expected)',
          'lost',
          'duplicated',
          'p50 ms',
          'p95 ms',
          'p99 ms',
          'max ms',
          'last recipient p50 ms',
          'last recipient p99 ms',
          'server CPU µs/delivery',
          'of which kernel',
          'incl. Redis/PG µs',
          'peak RSS MB',
          'notes',
        ],
        fan.map((row) =>
          row.result?.kind === 'fanout'
            ? fanoutLine(row, row.result)
            : [row.scenario, row.peer, ...Array<string>(11).fill('–'), row.note ?? ''],
        ),
      ),
    );
  }
  const idle = rows.filter((row) => row.group === 'idle');
  if (idle.length > 0) {
    parts.push(
      table(
        [
          'idle memory',
          'peer',
          'RSS before MB',
          'RSS joined MB',
          'RSS per connection KB',
          'setup s',
        ],
        idle.map((row) => {
          const r = row.result as IdleResult | null;
          return r === null
            ? [row.scenario, row.peer, '–', '–', '–', row.note ?? '']
            : [
                row.scenario,
                row.peer,
                f0(r.baselineRssMb),
                f0(r.rssMb),
                f1(r.rssPerConnectionKb),
                f1(r.setupS),
              ];
        }),
      ),
    );
  }
  const durable = rows.filter((row) => row.group === 'durable');
  if (durable.length > 0) {
    parts.push(
      table(
        ['durable sends', 'peer', 'committed/s', 'ack p50 ms', 'ack p99 ms', 'errors'],
        durable.map((row) => {
          const r = row.result;
          if (r?.kind === 'sqlite-baseline') {
            return [row.scenario, row.peer, f0(r.insertsPerSecond), '', '', ''];
          }
          if (r?.kind === 'durable') {
            return [
              row.scenario,
              row.peer,
              f0(r.ackedPerSecond),
              f1(r.ackP50Ms),
              f1(r.ackP99Ms),
              f0(r.errors),
            ];
          }
          return [row.scenario, row.peer, '–', '–', '–', row.note ?? ''];
        }),
      ),
    );
  }
  const search = rows.filter((row) => row.group === 'search');
  for (const row of search) {
    const r = row.result;
    if (r?.kind !== 'search') {
      parts.push(table(['search', 'peer', 'note'], [[row.scenario, row.peer, row.note ?? '']]));
      continue;
    }
    parts.push(
      table(
        [
          'search',
          'peer',
          'seeded in s',
          'first search after the last send ms',
          'CPU per search µs',
          'relay RSS MB',
        ],
        [
          [
            row.scenario,
            row.peer,
            f1(r.seedS),
            f1(r.firstSearchMs),
            f0(r.cpuPerSearchUs),
            f0(r.rssMb),
          ],
        ],
      ),
      table(
        ['search query (one at a time, over HTTP)', 'messages matching', 'p50 ms', 'p99 ms'],
        r.queries.map((q) => [q.name, q.matches, f1(q.p50Ms), f1(q.p99Ms)]),
      ),
    );
  }
  const edits = rows.filter((row) => row.group === 'edits');
  if (edits.length > 0) {
    parts.push(
      table(
        [
          'edits and deletes',
          'peer',
          'delivered event',
          'pushed',
          'deliveries (got / expected)',
          'lost',
          'duplicated',
          'p50 ms',
          'p99 ms',
          'max ms',
          'server CPU µs/delivery',
          '× receive_message',
          'of which kernel',
          'notes',
        ],
        edits.flatMap((row) =>
          row.result?.kind === 'edits'
            ? editsLines(row, row.result)
            : [[row.scenario, row.peer, ...Array<string>(11).fill('–'), row.note ?? '']],
        ),
        3,
      ),
    );
  }
  const storm = rows.filter((row) => row.group === 'storm');
  if (storm.length > 0) {
    parts.push(
      table(
        [
          'connect storm',
          'peer',
          'all joined ms',
          'join p50 ms',
          'join p99 ms',
          'errors',
          'server CPU s',
          'peak RSS MB',
          'generator CPU',
          'errors were',
        ],
        storm.map((row) => {
          const r = row.result as StormResult | null;
          return r === null
            ? [row.scenario, row.peer, '–', '–', '–', '–', '–', '–', '–', row.note ?? '']
            : [
                row.scenario,
                row.peer,
                f0(r.allJoinedMs),
                f0(r.joinP50Ms),
                f0(r.joinP99Ms),
                f0(r.errors),
                f1(r.serverCpuS),
                f0(r.peakRssMb),
                `${f0(r.generatorCpuShare * 100)}%`,
                Object.entries(r.errorKinds)
                  .map(([kind, count]) => `${f0(count)} × ${kind.replaceAll('|', '/')}`)
                  .join('; '),
              ];
        }),
      ),
    );
  }
  const ui = rows.filter((row) => row.group === 'ui');
  if (ui.length > 0) {
    parts.push(
      table(
        [
          'UI (Chromium)',
          'peer',
          'first render ms',
          'room switch ms',
          'JS heap MB',
          'dropped frames while scrolling',
        ],
        ui.map((row) => {
          const r = row.result as UiResult | null;
          return r === null
            ? [row.scenario, row.peer, '–', '–', '–', row.note ?? '']
            : [
                row.scenario,
                row.peer,
                f0(r.firstRenderMs),
                f0(r.switchMs),
                f1(r.heapMb),
                `${r.droppedFrames} of ${r.frames}`,
              ];
        }),
      ),
    );
  }
  return parts.join('\n\n');
}

function ratioCheck(
  target: string,
  parley: number | undefined,
  other: number | undefined,
  limit: number,
  unit: string,
): TargetCheck {
  if (
    parley === undefined ||
    other === undefined ||
    !Number.isFinite(parley) ||
    !Number.isFinite(other)
  ) {
    return { target, measured: 'not measured', met: null };
  }
  const ratio = parley / other;
  return {
    target,
    measured: `${f2(parley)} vs ${f2(other)} ${unit} = ${f2(ratio)}×`,
    met: ratio <= limit,
  };
}

/** Below this many idle connections RSS differences are within the heap's slack. */
const IDLE_TARGET_MIN_CONNECTIONS = 5_000;

/** Every target of the issue that this run measured. */
export function checkTargets(rows: readonly Row[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const scenarios = (group: Row['group']): string[] => [
    ...new Set(rows.filter((row) => row.group === group).map((row) => row.scenario)),
  ];
  for (const scenario of scenarios('fanout')) {
    const parley = find(rows, scenario, 'parley', 'fanout');
    const raw = find(rows, scenario, 'raw-ws', 'fanout');
    const sio = find(rows, scenario, 'socket.io', 'fanout');
    checks.push(
      ratioCheck(
        `${scenario}: CPU/delivery ≤ 1.25 × raw-ws`,
        parley?.cpuPerDeliveryUs,
        raw?.cpuPerDeliveryUs,
        1.25,
        'µs',
      ),
      ratioCheck(
        `${scenario}: CPU/delivery ≤ 0.7 × Socket.IO`,
        parley?.cpuPerDeliveryUs,
        sio?.cpuPerDeliveryUs,
        0.7,
        'µs',
      ),
      ratioCheck(
        `${scenario}: p99 ≤ 1.5 × raw-ws`,
        parley?.latency.p99,
        raw?.latency.p99,
        1.5,
        'ms',
      ),
    );
  }
  const lossRows = rows.filter(
    (row) =>
      (row.peer === 'parley' || row.peer === 'parley-cluster') && row.result?.kind === 'fanout',
  );
  if (lossRows.length > 0) {
    const sum = (count: (result: FanoutResult) => number): number =>
      lossRows.reduce((total, row) => total + count(row.result as FanoutResult), 0);
    const lost = sum((result) => result.lost);
    const duplicates = sum((result) => result.duplicates);
    checks.push(
      {
        target: 'no message lost (Parley, every fan-out run)',
        measured: `${f0(lost)} lost`,
        met: lost === 0,
      },
      {
        target: 'no delivery duplicated (Parley, every fan-out run)',
        measured: `${f0(duplicates)} duplicated`,
        met: duplicates === 0,
      },
    );
  }
  const editRows = rows.filter(
    (row) => row.group === 'edits' && row.peer === 'parley' && row.result?.kind === 'edits',
  );
  if (editRows.length > 0) {
    const changes = editRows.flatMap((row) => {
      const result = row.result as EditsResult;
      return [result.edits, result.deletes];
    });
    const lost = changes.reduce((total, phase) => total + phase.lost, 0);
    const duplicates = changes.reduce((total, phase) => total + phase.duplicates, 0);
    checks.push({
      target: 'no edit or delete lost or duplicated (Parley, every edits run)',
      measured: `${f0(lost)} lost, ${f0(duplicates)} duplicated`,
      met: lost === 0 && duplicates === 0,
    });
  }
  for (const scenario of scenarios('idle')) {
    const parley = find(rows, scenario, 'parley', 'idle');
    const raw = find(rows, scenario, 'raw-ws', 'idle');
    if (raw !== null && raw.connections < IDLE_TARGET_MIN_CONNECTIONS) {
      // A few thousand connections fit in the slack of a fresh V8 heap: raw-ws's RSS may not
      // move at all, and a ratio against ~0 means nothing.
      checks.push({
        target: `${scenario}: RSS/connection ≤ 1.3 × raw-ws`,
        measured: `${f1(parley?.rssPerConnectionKb ?? NaN)} vs ${f1(raw.rssPerConnectionKb)} KB: below RSS resolution, judged at ≥ ${IDLE_TARGET_MIN_CONNECTIONS.toLocaleString('en-US')} connections`,
        met: null,
      });
      continue;
    }
    checks.push(
      ratioCheck(
        `${scenario}: RSS/connection ≤ 1.3 × raw-ws`,
        parley?.rssPerConnectionKb,
        raw?.rssPerConnectionKb,
        1.3,
        'KB',
      ),
    );
  }
  for (const scenario of scenarios('durable')) {
    const parley = find(rows, scenario, 'parley', 'durable');
    const base = rows.find(
      (row) => row.scenario === scenario && row.result?.kind === 'sqlite-baseline',
    )?.result as BaselineResult | undefined;
    if (parley === null || base === undefined) {
      checks.push({
        target: 'durable sends ≥ 50% of bare better-sqlite3',
        measured: 'not measured',
        met: null,
      });
    } else {
      const share = parley.ackedPerSecond / base.insertsPerSecond;
      checks.push({
        target: 'durable sends ≥ 50% of bare better-sqlite3 (synchronous FULL, WAL)',
        measured: `${f0(parley.ackedPerSecond)} vs ${f0(base.insertsPerSecond)}/s = ${(share * 100).toFixed(0)}%`,
        met: share >= 0.5,
      });
    }
  }
  for (const scenario of scenarios('saturated')) {
    const parley = find(rows, scenario, 'parley', 'fanout');
    const sio = find(rows, scenario, 'socket.io', 'fanout');
    if (parley === null || sio === null) {
      checks.push({
        target: 'saturated deliveries/s ≥ Socket.IO',
        measured: 'not measured',
        met: null,
      });
      continue;
    }
    checks.push({
      target: `${scenario}: deliveries/s ≥ Socket.IO, peak RSS bounded (≤ 512 MB)`,
      measured: `${f0(parley.achievedPerSecond)} vs ${f0(sio.achievedPerSecond)}/s; peak RSS ${f0(parley.peakRssMb)} vs ${f0(sio.peakRssMb)} MB${parley.generatorBound || sio.generatorBound ? ' (generator-bound)' : ''}`,
      met: parley.achievedPerSecond >= sio.achievedPerSecond && parley.peakRssMb <= 512,
    });
  }
  for (const scenario of scenarios('cluster')) {
    const parley = find(rows, scenario, 'parley-cluster', 'fanout');
    const sio = find(rows, scenario, 'socket.io+redis', 'fanout');
    checks.push(
      ratioCheck(
        `${scenario}: CPU/delivery (nodes + Redis/PG) ≤ 0.7 × Socket.IO + Redis adapter`,
        parley?.totalCpuPerDeliveryUs,
        sio?.totalCpuPerDeliveryUs,
        0.7,
        'µs',
      ),
    );
  }
  for (const row of rows.filter((candidate) => candidate.group === 'ui')) {
    const ui = row.result as UiResult | null;
    checks.push(
      ui === null
        ? {
            target: 'UI first render < 150 ms, heap < 150 MB',
            measured: row.note ?? 'not measured',
            met: null,
          }
        : {
            target: 'UI first render < 150 ms, heap < 150 MB',
            measured: `${f0(ui.firstRenderMs)} ms, ${f1(ui.heapMb)} MB`,
            met: ui.firstRenderMs < 150 && ui.heapMb < 150,
          },
    );
  }
  return checks;
}

/** The target checks as a table; empty when the scenarios run have no targets (search alone). */
export function targetsMarkdown(checks: readonly TargetCheck[]): string {
  if (checks.length === 0) return '';
  return table(
    ['target', 'measured', 'met'],
    checks.map((check) => [
      check.target,
      check.measured,
      check.met === null ? '–' : check.met ? 'yes' : 'no',
    ]),
    3,
  );
}
