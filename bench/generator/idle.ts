/**
 * Idle memory: the RSS a server needs per connected, joined client (spread over rooms of
 * `roomSize`). Clients connect in ten steps; after each, the RSS is sampled once things settle,
 * and the cost per connection is the least-squares slope of RSS over the connection count. A
 * slope over ten samples is steadier than one before/after difference, which the V8 heap's
 * growth in big steps (and garbage left from signing users in) moves by a lot.
 */
import type { IdleConfig, IdleResult } from '../config.js';
import { rssBytes } from '../proc-stats.js';
import { createDriver, inParallel, type BenchClient } from './clients.js';
import { sleep } from './stats.js';

const STEPS = 10;

/** Least-squares slope of y over x. */
function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((sum, p) => sum + p.x, 0) / n;
  const my = points.reduce((sum, p) => sum + p.y, 0) / n;
  const sxy = points.reduce((sum, p) => sum + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((sum, p) => sum + (p.x - mx) ** 2, 0);
  return sxx === 0 ? NaN : sxy / sxx;
}

export async function runIdle(
  config: IdleConfig,
  progress: (message: string) => void,
): Promise<IdleResult> {
  const { target, connections, roomSize } = config;
  const driver = createDriver(target.protocol, target.httpUrl);
  const rooms = await driver.prepare(connections, Math.ceil(connections / roomSize));
  await sleep(config.settleMs);
  const baseline = rssBytes(target.serverPids);
  const clients: BenchClient[] = [];
  const points: { x: number; y: number }[] = [];
  const started = performance.now();
  let setupMs = 0;
  for (let step = 1; step <= STEPS; step += 1) {
    const from = Math.floor(((step - 1) * connections) / STEPS);
    const to = Math.floor((step * connections) / STEPS);
    const stepStarted = performance.now();
    await inParallel(to - from, 64, async (k) => {
      const i = from + k;
      const room = rooms[Math.floor(i / roomSize)] ?? '';
      clients[i] = await driver.connect(i, target.nodes[i % target.nodes.length] ?? '', room);
    });
    setupMs += performance.now() - stepStarted;
    await sleep(config.settleMs / STEPS);
    points.push({ x: to, y: rssBytes(target.serverPids) });
  }
  progress(`${connections} joined in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const rss = points.at(-1)?.y ?? NaN;
  for (const client of clients) client.close();
  driver.stop();
  return {
    kind: 'idle',
    connections,
    baselineRssMb: baseline / 2 ** 20,
    rssMb: rss / 2 ** 20,
    rssPerConnectionKb: slope(points) / 1024,
    setupS: setupMs / 1000,
  };
}
