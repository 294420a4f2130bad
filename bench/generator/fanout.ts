/**
 * Fan-out: `members` clients joined to one room; `senders` of them send `rate` messages per
 * second in all, round-robin, for `seconds`. Each delivery's latency is receive time minus send
 * time on this process's clock. Server CPU is sampled from /proc over the measured window, which
 * runs from the first measured send until the last expected delivery (or the drain timeout).
 */
import type { FanoutConfig, FanoutResult } from '../config.js';
import { cpuSeconds, peakRssBytes, systemSeconds, TreeCpuMeter } from '../proc-stats.js';
import { createDriver, inParallel, type BenchClient } from './clients.js';
import { percentiles, sleep, waitUntil } from './stats.js';

/** Latencies kept at most (about 160 MB); beyond it deliveries are counted but not timed. */
const MAX_SAMPLES = 20_000_000;

export async function runFanout(
  config: FanoutConfig,
  progress: (message: string) => void,
): Promise<FanoutResult> {
  const { target, members, rate } = config;
  const senders = Math.min(config.senders, members);
  const driver = createDriver(target.protocol, target.httpUrl);
  const [room] = await driver.prepare(members, 1);
  if (room === undefined) throw new Error('no room');
  const clients: BenchClient[] = [];
  await inParallel(members, 64, async (i) => {
    clients[i] = await driver.connect(i, target.nodes[i % target.nodes.length] ?? '', room);
  });
  progress(`${members} joined`);

  const warm = Math.round(rate * config.warmupSeconds);
  const total = Math.round(rate * config.seconds);
  const all = warm + total;
  const perMessage = members - 1;
  const sentAt = new Float64Array(all);
  const lastAt = new Float64Array(all);
  const counts = new Uint32Array(all);
  // Which messages each client has had, one bit each: a second delivery of a message to the
  // same client is a duplicate, never a delivery that makes up for one lost elsewhere.
  const words = Math.ceil(all / 32);
  const seen = new Uint32Array(words * members);
  let duplicates = 0;
  const latencies = new Float64Array(Math.min(MAX_SAMPLES, total * perMessage));
  let samples = 0;
  let warmReceived = 0;
  let received = 0;
  let lastDeliveryAt = 0;
  let sendErrors = 0;
  let closed = 0;

  clients.forEach((client, clientIndex) => {
    client.onDelivery = (index) => {
      if (index >= all) return;
      const word = clientIndex * words + (index >>> 5);
      const bit = 1 << (index & 31);
      if (((seen[word] as number) & bit) !== 0) {
        if (index >= warm) duplicates += 1;
        return;
      }
      seen[word] = (seen[word] as number) | bit;
      const now = performance.now();
      counts[index] = (counts[index] as number) + 1;
      lastAt[index] = now;
      if (index < warm) {
        warmReceived += 1;
        return;
      }
      received += 1;
      lastDeliveryAt = now;
      if (samples < latencies.length) {
        latencies[samples] = now - (sentAt[index] as number);
        samples += 1;
      }
    };
    client.onAck = (_index, ok) => {
      if (!ok) sendErrors += 1;
    };
    client.onClose = () => {
      closed += 1;
    };
  });

  let sendLag = 0;
  async function sendPhase(from: number, to: number): Promise<void> {
    const started = performance.now();
    for (let i = from; i < to;) {
      const due = started + ((i - from) * 1000) / rate;
      const now = performance.now();
      if (due > now) {
        await sleep(Math.max(1, due - now));
        continue;
      }
      sendLag = Math.max(sendLag, now - due);
      sentAt[i] = now;
      clients[i % senders]?.send(i);
      i += 1;
    }
  }

  if (warm > 0) {
    await sendPhase(0, warm);
    await waitUntil(() => warmReceived >= warm * perMessage, 5_000);
    await sleep(200);
  }
  sendLag = 0;
  const pids = target.serverPids;
  const cpu0 = cpuSeconds(pids);
  const system0 = systemSeconds(pids);
  const helpers = new TreeCpuMeter(target.helperPids);
  const gen0 = process.cpuUsage();
  const start = performance.now();
  await sendPhase(warm, all);
  const expected = total * perMessage;
  await waitUntil(() => received >= expected, config.drainMs);
  const end = received >= expected ? lastDeliveryAt : performance.now();
  const serverCpuS = cpuSeconds(pids) - cpu0;
  const serverSystemS = systemSeconds(pids) - system0;
  const helperCpuS = helpers.stop();
  const gen = process.cpuUsage(gen0);
  const wallS = (end - start) / 1000;
  const peakRssMb = peakRssBytes(pids) / 2 ** 20;
  const closedConnections = closed;

  for (const client of clients) client.close();
  driver.stop();

  const lastRecipient = new Float64Array(total);
  let complete = 0;
  for (let i = warm; i < all; i += 1) {
    if (counts[i] === perMessage) {
      lastRecipient[complete] = (lastAt[i] as number) - (sentAt[i] as number);
      complete += 1;
    }
  }
  const generatorCpuShare = (gen.user + gen.system) / 1e6 / wallS;
  const serverCpuShare = serverCpuS / wallS / Math.max(1, pids.length);
  const achievedPerSecond = received / Math.max(wallS, config.seconds);
  return {
    kind: 'fanout',
    messages: total,
    expectedDeliveries: expected,
    deliveries: received,
    lost: expected - received,
    duplicates,
    expectedPerSecond: rate * perMessage,
    achievedPerSecond,
    latency: percentiles(latencies, samples),
    lastRecipient: percentiles(lastRecipient, complete),
    serverCpuS,
    cpuPerDeliveryUs: received === 0 ? NaN : (serverCpuS / received) * 1e6,
    kernelCpuShare: serverCpuS === 0 ? NaN : serverSystemS / serverCpuS,
    totalCpuPerDeliveryUs: received === 0 ? NaN : ((serverCpuS + helperCpuS) / received) * 1e6,
    peakRssMb,
    generatorCpuShare,
    sendLagMs: sendLag,
    // The generator had no CPU to spare while the server still had some: the generator set the pace.
    generatorBound: generatorCpuShare >= 0.9 && serverCpuShare < 0.9,
    sendErrors,
    closedConnections,
  };
}
