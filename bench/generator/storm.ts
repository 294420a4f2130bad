/**
 * Connect storm: `clients` clients connect and join one room all at once (Parley's users are
 * signed in beforehand: the storm is the sockets, not the sign-ups). Time until all joined,
 * per-client join time, and errors (refused, closed or not joined within the timeout).
 */
import type { StormConfig, StormResult } from '../config.js';
import { cpuSeconds, peakRssBytes } from '../proc-stats.js';
import { createDriver, type BenchClient } from './clients.js';
import { percentiles } from './stats.js';

export async function runStorm(config: StormConfig): Promise<StormResult> {
  const { target, clients: count } = config;
  const driver = createDriver(target.protocol, target.httpUrl);
  const [room] = await driver.prepare(count, 1);
  if (room === undefined) throw new Error('no room');
  const joinTimes = new Float64Array(count);
  let joined = 0;
  let errors = 0;
  const errorKinds: Record<string, number> = {};
  const open: BenchClient[] = [];
  const cpu0 = cpuSeconds(target.serverPids);
  const gen0 = process.cpuUsage();
  const started = performance.now();
  let lastJoinAt = started;
  const attempts = Array.from({ length: count }, (_, i) =>
    driver.connect(i, target.nodes[i % target.nodes.length] ?? '', room).then(
      (client) => {
        lastJoinAt = performance.now();
        joinTimes[joined] = lastJoinAt - started;
        joined += 1;
        open.push(client);
      },
      (error: unknown) => {
        errors += 1;
        const kind = (error instanceof Error ? error.message : String(error)).slice(0, 80);
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      },
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(attempts),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, config.timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  const serverCpuS = cpuSeconds(target.serverPids) - cpu0;
  const gen = process.cpuUsage(gen0);
  const wallS = (performance.now() - started) / 1000;
  const peakRssMb = peakRssBytes(target.serverPids) / 2 ** 20;
  const notJoined = count - joined - errors;
  for (const client of open) client.close();
  driver.stop();
  const times = percentiles(joinTimes, joined);
  return {
    kind: 'storm',
    clients: count,
    joined,
    errors: errors + notJoined,
    allJoinedMs: joined === count ? lastJoinAt - started : NaN,
    joinP50Ms: times.p50,
    joinP99Ms: times.p99,
    serverCpuS,
    peakRssMb,
    generatorCpuShare: (gen.user + gen.system) / 1e6 / wallS,
    errorKinds: notJoined > 0 ? { ...errorKinds, 'not joined in time': notJoined } : errorKinds,
  };
}
