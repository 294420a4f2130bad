/**
 * The scenarios of `npm run bench` and their parameters: the full suite, the `--quick` one
 * (about two minutes), and a flag for every number.
 */
import { parseArgs } from 'node:util';
import type { PeerName } from './targets.js';

export type ScenarioName =
  | 'fanout'
  | 'saturated'
  | 'idle'
  | 'durable'
  | 'search'
  | 'edits'
  | 'storm'
  | 'cluster'
  | 'cluster-storm'
  | 'ui';
/** What `npm run bench` runs without `--only`. */
export const SCENARIOS: readonly ScenarioName[] = [
  'fanout',
  'saturated',
  'idle',
  'durable',
  'search',
  'edits',
  'storm',
  'cluster',
  'ui',
];
/** Scenarios run only when named with `--only`. */
export const EXTRA_SCENARIOS: readonly ScenarioName[] = ['cluster-storm'];
export const SINGLE_NODE_PEERS: readonly PeerName[] = ['raw-ws', 'socket.io', 'parley'];

export interface FanoutSpec {
  members: number;
  rate: number;
}

export interface Suite {
  quick: boolean;
  scenarios: ScenarioName[];
  peers: PeerName[];
  repeat: number;
  fanout: FanoutSpec[];
  senders: number;
  seconds: number;
  drainMs: number;
  saturated: FanoutSpec;
  idle: number[];
  /** Idle scenario: how long RSS is left to settle before the first and over the ten steps. */
  idleSettleMs: number;
  roomSize: number;
  durableSenders: number;
  durableSeconds: number;
  /** Edits scenario: members, and messages/s then edits/s (Parley only). */
  edits: FanoutSpec;
  /** Deletes made after the edits (at the same rate). */
  deletes: number;
  /** Messages sent before the search scenario searches them. */
  searchMessages: number;
  storm: number;
  clusterNodes: number;
  cluster: FanoutSpec;
  uiMessages: number;
  /** Write CPU profiles of the Parley relay to .bench/profiles. */
  profile: boolean;
  /** Where results go. */
  outDir: string;
  /** Another checkout's relay/cli/cli.ts, measured as peer `parley-before` next to `parley`. */
  baselineRelay: string | null;
}

export const BENCH_USAGE = `npm run bench -- [options]

  --quick                    about two minutes: same rooms, shorter windows and waits
  --only LIST                scenarios: ${SCENARIOS.join(',')}
                             (and ${EXTRA_SCENARIOS.join(',')}: the storm against a cluster, only when named)
  --peers LIST               single-node peers: ${SINGLE_NODE_PEERS.join(',')}
  --repeat N                 run each scenario N times, peers interleaved; the median run is shown
  --fanout M@R,...           fan-out rooms: M members at R messages/s (default 1000@20,5000@4)
  --senders N                senders per fan-out room (default 10)
  --seconds S                measured seconds per fan-out run (default 10)
  --saturated M@R            offered load above capacity (default 1000@300)
  --idle N,...               idle connections (default 1000,10000)
  --room-size N              members per room in the idle scenario (default 100)
  --durable-senders N        concurrent senders in the durable scenario (default 32)
  --search-messages N        messages searched in the search scenario (default 100000)
  --edits M@R                edits: M members, one sender posts R msg/s, then edits them at R
                             edits/s, then deletes a quarter of them (default 1000@20; Parley only)
  --storm N                  clients in the connect storm (default 5000)
  --cluster M@R              fan-out across nodes (default 1000@20)
  --cluster-nodes N          nodes per cluster (default 2)
  --ui-messages N            messages per room in the UI scenario (default 10000)
  --profile                  write Parley CPU profiles (--cpu-prof) to .bench/profiles
  --out DIR                  results folder (default .bench)
  --baseline-relay PATH      also measure another checkout's relay/cli/cli.ts as "parley-before"
                             (before/after comparisons of a relay change, in one invocation)
`;

function list(text: string): number[] {
  return text.split(',').map((item) => {
    const value = Number(item);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`not a positive integer: ${item}`);
    return value;
  });
}

function spec(text: string): FanoutSpec {
  const match = /^(\d+)@(\d+)$/.exec(text);
  if (match === null) throw new Error(`expected MEMBERS@RATE, got ${text}`);
  return { members: Number(match[1]), rate: Number(match[2]) };
}

export function parseSuite(argv: readonly string[]): Suite {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      peers: { type: 'string' },
      repeat: { type: 'string' },
      fanout: { type: 'string' },
      senders: { type: 'string' },
      seconds: { type: 'string' },
      saturated: { type: 'string' },
      idle: { type: 'string' },
      'room-size': { type: 'string' },
      'durable-senders': { type: 'string' },
      'search-messages': { type: 'string' },
      edits: { type: 'string' },
      storm: { type: 'string' },
      cluster: { type: 'string' },
      'cluster-nodes': { type: 'string' },
      'ui-messages': { type: 'string' },
      profile: { type: 'boolean' },
      out: { type: 'string' },
      'baseline-relay': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(BENCH_USAGE);
    process.exit(0);
  }
  const quick = values.quick === true;
  const scenarios = (values.only?.split(',') ?? [...SCENARIOS]) as ScenarioName[];
  for (const name of scenarios) {
    if (![...SCENARIOS, ...EXTRA_SCENARIOS].includes(name))
      throw new Error(`unknown scenario ${name}`);
  }
  const peers = (values.peers?.split(',') ?? [...SINGLE_NODE_PEERS]) as PeerName[];
  for (const peer of peers) {
    if (![...SINGLE_NODE_PEERS, 'parley-before'].includes(peer))
      throw new Error(`unknown peer ${peer}`);
  }
  const baselineRelay = values['baseline-relay'] ?? null;
  if (baselineRelay !== null && !peers.includes('parley-before')) peers.push('parley-before');
  const one = (text: string | undefined, fallback: number): number =>
    text === undefined ? fallback : (list(text)[0] ?? fallback);
  const seconds = one(values.seconds, quick ? 2 : 10);
  const edits = values.edits === undefined ? { members: 1000, rate: 20 } : spec(values.edits);
  return {
    quick,
    scenarios,
    peers,
    repeat: one(values.repeat, 1),
    // --quick: the same room sizes (a smaller room says little: per-message costs weigh more),
    // shorter windows and waits.
    fanout:
      values.fanout?.split(',').map(spec) ??
      (quick
        ? [{ members: 1000, rate: 20 }]
        : [
            { members: 1000, rate: 20 },
            { members: 5000, rate: 4 },
          ]),
    senders: one(values.senders, 10),
    seconds,
    drainMs: quick ? 3_000 : 30_000,
    saturated:
      values.saturated === undefined ? { members: 1000, rate: 300 } : spec(values.saturated),
    idle: values.idle === undefined ? (quick ? [1000] : [1000, 10_000]) : list(values.idle),
    idleSettleMs: quick ? 1_000 : 5_000,
    roomSize: one(values['room-size'], 100),
    durableSenders: one(values['durable-senders'], 32),
    durableSeconds: quick ? 2 : 10,
    edits,
    // A quarter of the messages edited are then deleted (at least one).
    deletes: Math.max(1, Math.round((edits.rate * seconds) / 4)),
    searchMessages: one(values['search-messages'], quick ? 20_000 : 100_000),
    storm: one(values.storm, quick ? 1000 : 5000),
    clusterNodes: one(values['cluster-nodes'], 2),
    cluster: values.cluster === undefined ? { members: 1000, rate: 20 } : spec(values.cluster),
    uiMessages: one(values['ui-messages'], 10_000),
    profile: values.profile === true,
    outDir: values.out ?? '.bench',
    baselineRelay,
  };
}
