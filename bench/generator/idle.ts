/**
 * Idle memory: the RSS a server needs per connected, joined client (spread over rooms of
 * `roomSize`). Half the clients connect first and the RSS is sampled after a settle time; then
 * the other half, and the growth over that second half is the cost per connection. The first
 * half absorbs one-time costs (code paths warming up, allocator pools, heap left over from
 * signing users in), which would otherwise blur the figure.
 */
import type { IdleConfig, IdleResult } from '../config.js';
import { rssBytes } from '../proc-stats.js';
import { createDriver, inParallel, type BenchClient } from './clients.js';
import { sleep } from './stats.js';

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
  const connect = (from: number, to: number): Promise<void> =>
    inParallel(to - from, 64, async (k) => {
      const i = from + k;
      const room = rooms[Math.floor(i / roomSize)] ?? '';
      clients[i] = await driver.connect(i, target.nodes[i % target.nodes.length] ?? '', room);
    });
  const half = Math.floor(connections / 2);
  const started = performance.now();
  await connect(0, half);
  await sleep(config.settleMs);
  const halfway = rssBytes(target.serverPids);
  await connect(half, connections);
  const setupS = (performance.now() - started) / 1000;
  progress(`${connections} joined in ${setupS.toFixed(1)} s`);
  await sleep(config.settleMs);
  const rss = rssBytes(target.serverPids);
  for (const client of clients) client.close();
  driver.stop();
  return {
    kind: 'idle',
    connections,
    baselineRssMb: baseline / 2 ** 20,
    rssMb: rss / 2 ** 20,
    rssPerConnectionKb: (rss - halfway) / 1024 / (connections - half),
    setupS,
  };
}
