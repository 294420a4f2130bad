/**
 * What the orchestrator asks of the load generator, and what comes back. Everything here crosses
 * the IPC channel between the two processes, so it is plain data.
 */

/** The wire protocol a load generator speaks to a server. */
export type Protocol = 'raw-ws' | 'socket.io' | 'parley';

/** A server under test: one or more processes (cluster nodes, Redis, PostgreSQL). */
export interface Target {
  /** Label in the results: raw-ws, socket.io, parley, socket.io+redis, parley cluster. */
  peer: string;
  protocol: Protocol;
  /** One WebSocket base URL per node (ws://127.0.0.1:PORT); clients are spread round-robin. */
  nodes: string[];
  /** Parley's HTTP base URL, for sessions and rooms. */
  httpUrl: string | null;
  /** PIDs of the server nodes: CPU and RSS are theirs. */
  serverPids: number[];
  /** PIDs of helpers (Redis, PostgreSQL): their CPU is added for cluster totals. */
  helperPids: number[];
}

export interface FanoutConfig {
  kind: 'fanout';
  target: Target;
  /** Connected, joined members of the one room (senders included). */
  members: number;
  /** Members that also send; messages go round-robin over them. */
  senders: number;
  /** Messages per second over all senders. */
  rate: number;
  seconds: number;
  /** After the last send, how long to wait for the remaining deliveries. */
  drainMs: number;
  /** Warm-up messages before measuring (JIT, buffers), delivered and then ignored. */
  warmupSeconds: number;
}

export interface IdleConfig {
  kind: 'idle';
  target: Target;
  connections: number;
  /** Members per room: connections are spread over connections/roomSize rooms. */
  roomSize: number;
  /** Wait after the last join before sampling RSS. */
  settleMs: number;
}

export interface DurableConfig {
  kind: 'durable';
  target: Target;
  senders: number;
  seconds: number;
}

export interface StormConfig {
  kind: 'storm';
  target: Target;
  clients: number;
  /** Give up on clients not joined after this long (counted as errors). */
  timeoutMs: number;
}

export interface SearchConfig {
  kind: 'search';
  target: Target;
  /** Messages sent (over HTTP, by one user) before searching. */
  messages: number;
  rooms: number;
}

/**
 * Edits and deletes (Parley only): one sender posts `rate` messages/s for `seconds`, then edits
 * each of them once at `rate` edits/s, then deletes `deletes` of them at `rate`/s, each phase
 * measured on its own, in one run (one relay, one room of `members`).
 */
export interface EditsConfig {
  kind: 'edits';
  target: Target;
  members: number;
  rate: number;
  seconds: number;
  deletes: number;
  drainMs: number;
  /** Warm-up before each phase (messages, edits, deletes of warm-up messages), then ignored. */
  warmupSeconds: number;
}

export type ScenarioConfig =
  FanoutConfig | IdleConfig | DurableConfig | StormConfig | SearchConfig | EditsConfig;

/** Latency summary in milliseconds. */
export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface FanoutResult {
  kind: 'fanout';
  messages: number;
  expectedDeliveries: number;
  /** Distinct (receiver, message) deliveries; a repeat counts only in `duplicates`. */
  deliveries: number;
  /** Expected deliveries that never arrived. */
  lost: number;
  /** Deliveries of a message to a receiver that already had it. */
  duplicates: number;
  /** Deliveries per second the room would get if the server kept up. */
  expectedPerSecond: number;
  /** Deliveries received / (last delivery − first send). */
  achievedPerSecond: number;
  latency: Percentiles;
  /** Per message, the latency of its last recipient. */
  lastRecipient: Percentiles;
  /** Server node CPU seconds over the measured window, and per delivery in µs. */
  serverCpuS: number;
  cpuPerDeliveryUs: number;
  /** The share of the server nodes' CPU spent in the kernel (system time: socket writes, mostly). */
  kernelCpuShare: number;
  /** Server nodes plus helpers (Redis, PostgreSQL). */
  totalCpuPerDeliveryUs: number;
  /** Peak RSS of the server nodes over their life, in MB. */
  peakRssMb: number;
  /** The generator's own CPU use over the window, as a share of one core. */
  generatorCpuShare: number;
  /** Worst lateness of a send against its schedule, in ms. */
  sendLagMs: number;
  /** True when the generator, not the server, limited the run. */
  generatorBound: boolean;
  /** Send errors the server answered (rate limits, overload). */
  sendErrors: number;
  /** Connections the server closed during the run. */
  closedConnections: number;
}

export interface IdleResult {
  kind: 'idle';
  connections: number;
  baselineRssMb: number;
  rssMb: number;
  rssPerConnectionKb: number;
  setupS: number;
}

export interface DurableResult {
  kind: 'durable';
  senders: number;
  acked: number;
  ackedPerSecond: number;
  errors: number;
  ackP50Ms: number;
  ackP99Ms: number;
}

export interface StormResult {
  kind: 'storm';
  clients: number;
  joined: number;
  errors: number;
  allJoinedMs: number;
  joinP50Ms: number;
  joinP99Ms: number;
  serverCpuS: number;
  peakRssMb: number;
  /** The generator's own CPU use over the storm, as a share of one core. */
  generatorCpuShare: number;
  /** Errors by what they said (the first 80 characters). */
  errorKinds: Record<string, number>;
}

export interface SearchQueryResult {
  name: string;
  /** How many messages match, as text ("1", "10%"). */
  matches: string;
  p50Ms: number;
  p99Ms: number;
}

export interface SearchResult {
  kind: 'search';
  messages: number;
  rooms: number;
  seedS: number;
  /** The first search, right after the last send: it indexes what was still pending. */
  firstSearchMs: number;
  queries: SearchQueryResult[];
  cpuPerSearchUs: number;
  rssMb: number;
}

/** One phase of the edits scenario: posts (`receive_message`), edits or deletes. */
export interface EditsPhase {
  /** Messages posted, edits or deletes made in the measured window. */
  count: number;
  expectedDeliveries: number;
  /** Distinct (receiver, change) deliveries. */
  deliveries: number;
  lost: number;
  duplicates: number;
  /** From the push until a receiver has it, every delivery. */
  latency: Percentiles;
  serverCpuS: number;
  cpuPerDeliveryUs: number;
  kernelCpuShare: number;
  /** The generator's CPU over the window, as a share of one core. */
  generatorCpuShare: number;
}

export interface EditsResult {
  kind: 'edits';
  members: number;
  rate: number;
  /** Every member gets `receive_message` but the sender (it gets `message_sent`). */
  messages: EditsPhase;
  /** `message_edited`, to every subscriber, the sender included. */
  edits: EditsPhase;
  /** `message_deleted`, to every subscriber, the sender included. */
  deletes: EditsPhase;
  /** Edit and delete pushes the relay refused (should be 0). */
  changeErrors: number;
  closedConnections: number;
}

export type ScenarioResult =
  FanoutResult | IdleResult | DurableResult | StormResult | SearchResult | EditsResult;

/** Messages between the orchestrator and the generator process. */
export type ToGenerator = { type: 'run'; config: ScenarioConfig };
export type FromGenerator =
  | { type: 'result'; result: ScenarioResult }
  | { type: 'error'; message: string }
  | { type: 'progress'; message: string };
