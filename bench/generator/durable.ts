/**
 * Durable sends (Parley): `senders` clients in one room, each sending its next message as soon
 * as the previous one is acknowledged as committed (`message_sent` with status "sent").
 * Counts acknowledgements over `seconds`, after one second of warm-up.
 */
import type { DurableConfig, DurableResult } from '../config.js';
import { createDriver, type BenchClient } from './clients.js';
import { percentiles, sleep } from './stats.js';

export async function runDurable(config: DurableConfig): Promise<DurableResult> {
  const { target, senders } = config;
  const driver = createDriver(target.protocol, target.httpUrl);
  const [room] = await driver.prepare(senders, 1);
  if (room === undefined) throw new Error('no room');
  const clients: BenchClient[] = await Promise.all(
    Array.from({ length: senders }, (_, i) =>
      driver.connect(i, target.nodes[i % target.nodes.length] ?? '', room),
    ),
  );
  const sentAt: number[] = [];
  const ackLatencies = new Float64Array(2_000_000);
  let samples = 0;
  let measuring = false;
  let running = true;
  let acked = 0;
  let errors = 0;
  for (const client of clients) {
    const sendNext = (): void => {
      if (!running) return;
      const index = sentAt.length;
      sentAt.push(performance.now());
      client.send(index);
    };
    client.onAck = (index, ok) => {
      if (measuring) {
        if (ok) acked += 1;
        else errors += 1;
        if (samples < ackLatencies.length) {
          ackLatencies[samples] = performance.now() - (sentAt[index] ?? NaN);
          samples += 1;
        }
      }
      sendNext();
    };
    sendNext();
  }
  await sleep(1_000);
  measuring = true;
  const started = performance.now();
  await sleep(config.seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  running = false;
  for (const client of clients) client.close();
  driver.stop();
  const latency = percentiles(ackLatencies, samples);
  return {
    kind: 'durable',
    senders,
    acked,
    ackedPerSecond: acked / elapsed,
    errors,
    ackP50Ms: latency.p50,
    ackP99Ms: latency.p99,
  };
}
