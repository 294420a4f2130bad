/** One invocation's results: what `npm run bench` writes to .bench/ and prints. */
import type {
  DurableResult,
  EditsResult,
  FanoutResult,
  IdleResult,
  SearchResult,
  StormResult,
} from './config.js';

export interface BaselineResult {
  kind: 'sqlite-baseline';
  insertsPerSecond: number;
  synchronous: 'FULL';
}

export interface UiResult {
  kind: 'ui';
  messagesPerRoom: number;
  /** From clicking the room until its newest message is on screen. */
  firstRenderMs: number;
  /** From clicking the other room until its newest message is on screen (median of switches). */
  switchMs: number;
  /** JSHeapUsedSize from CDP Performance.getMetrics after both rooms were shown and scrolled. */
  heapMb: number;
  /** Frames over 1.5× the median frame interval while scrolling from the newest to the oldest. */
  droppedFrames: number;
  frames: number;
  scrolledMessages: number;
}

export type AnyResult =
  | FanoutResult
  | IdleResult
  | DurableResult
  | StormResult
  | SearchResult
  | EditsResult
  | BaselineResult
  | UiResult;

export interface Row {
  /** Scenario label, e.g. "fan-out 1000 members @ 50 msg/s". */
  scenario: string;
  group:
    'fanout' | 'saturated' | 'idle' | 'durable' | 'search' | 'edits' | 'storm' | 'cluster' | 'ui';
  peer: string;
  /** The run shown (the median when repeated), or null when the run could not happen. */
  result: AnyResult | null;
  /** Every run, for the JSON file. */
  runs: AnyResult[];
  /** Why there is no result: pending work or a failure. */
  note?: string;
}

export interface TargetCheck {
  target: string;
  measured: string;
  /** null: could not be measured in this run (pending or failed). */
  met: boolean | null;
}

export interface BenchReport {
  startedAt: string;
  machine: string;
  load: { before: number; after: number };
  quick: boolean;
  repeat: number;
  rows: Row[];
  targets: TargetCheck[];
}
