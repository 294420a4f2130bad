/** Latency summaries. */
import type { Percentiles } from '../config.js';

/** Percentiles of the first `count` values (sorted in place), nearest-rank. */
export function percentiles(values: Float64Array, count: number = values.length): Percentiles {
  const sorted = values.subarray(0, count).sort();
  const at = (p: number): number =>
    count === 0 ? NaN : (sorted[Math.min(count - 1, Math.ceil((p / 100) * count) - 1)] ?? NaN);
  return { count, p50: at(50), p95: at(95), p99: at(99), max: count === 0 ? NaN : at(100) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` every 10 ms until it holds or `timeoutMs` passes; resolves to whether it held. */
export async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}
