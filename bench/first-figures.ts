/**
 * First figures for the relay on this machine (the full side-by-side suite is a later issue):
 * 1. latency: R receivers in one room, one sender at a fixed rate; send→receive per delivery.
 * 2. durable sends: S senders, each sending its next message as soon as the previous is acked.
 * The relay runs as its own process with durability FULL (fsync per commit).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { spawnRelay, type RelayProcess } from './relay-process.js';

const { values } = parseArgs({
  options: {
    receivers: { type: 'string', default: '200' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '5' },
    senders: { type: 'string', default: '32' },
  },
});
const RECEIVERS = Number(values.receivers);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const SENDERS = Number(values.senders);

interface Client {
  ws: WebSocket;
  onFrame: (frame: unknown[]) => void;
}

async function session(relay: RelayProcess, name: string): Promise<string> {
  const res = await fetch(`${relay.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, device_unique_id: name }),
  });
  return ((await res.json()) as { token: string }).token;
}

async function connect(relay: RelayProcess, token: string, topic: string): Promise<Client> {
  const ws = new WebSocket(`${relay.socketUrl}?vsn=2.0.0&token=${token}&device_unique_id=bench`);
  const client: Client = { ws, onFrame: () => undefined };
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const joined = new Promise<void>((resolve) => {
    client.onFrame = (frame) => {
      if (frame[3] === 'phx_reply' && frame[1] === 'j') resolve();
    };
  });
  ws.on('message', (data) => client.onFrame(JSON.parse(data.toString()) as unknown[]));
  ws.send(JSON.stringify(['j', 'j', topic, 'phx_join', {}]));
  await joined;
  return client;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function mainRoom(relay: RelayProcess, token: string): Promise<string> {
  const res = await fetch(`${relay.url}/api/chats`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const { chats } = (await res.json()) as { chats: { id: string; is_main: boolean }[] };
  return chats.find((c) => c.is_main)?.id ?? '';
}

const LIMITS = [
  'messagesPerSecond=1000000',
  'messageBurst=1000000',
  'framesPerSecond=1000000',
  'frameBurst=1000000',
  'sessionAttemptsPerMinute=1000000',
].flatMap((l) => ['--limit', l]);

async function latencyScenario(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const relay = await spawnRelay(['--data', dir, '--log-level', 'info', ...LIMITS]);
  try {
    const tokens = await Promise.all(
      Array.from({ length: RECEIVERS + 1 }, (_, i) => session(relay, `u${i}`)),
    );
    const room = await mainRoom(relay, tokens[0] ?? '');
    const topic = `chat:${room}`;
    const clients = await Promise.all(tokens.map((token) => connect(relay, token, topic)));
    const [sender, ...receivers] = clients;
    if (sender === undefined) throw new Error('no sender');
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const ackLatencies: number[] = [];
    for (const receiver of receivers) {
      receiver.onFrame = (frame) => {
        if (frame[3] !== 'receive_message') return;
        const at = sentAt.get((frame[4] as { mobile_ref_id: string }).mobile_ref_id);
        if (at !== undefined) latencies.push(performance.now() - at);
      };
    }
    sender.onFrame = (frame) => {
      if (frame[3] !== 'message_sent') return;
      const at = sentAt.get((frame[4] as { mobile_ref_id: string }).mobile_ref_id);
      if (at !== undefined) ackLatencies.push(performance.now() - at);
    };
    const total = RATE * SECONDS;
    const started = performance.now();
    for (let i = 0; i < total; i += 1) {
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const ref = `m${i}`;
      sentAt.set(ref, performance.now());
      sender.ws.send(
        JSON.stringify([
          'j',
          String(i),
          topic,
          'send_message',
          { content: `hello ${i}`, mobile_ref_id: ref },
        ]),
      );
    }
    const expected = total * RECEIVERS;
    const deadline = performance.now() + 10_000;
    while (latencies.length < expected && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    for (const client of clients) client.ws.close();
    latencies.sort((a, b) => a - b);
    ackLatencies.sort((a, b) => a - b);
    return {
      receivers: RECEIVERS,
      rate: RATE,
      expected,
      delivered: latencies.length,
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      max_ms: latencies.at(-1) ?? NaN,
      ack_p50_ms: percentile(ackLatencies, 50),
      ack_p99_ms: percentile(ackLatencies, 99),
    };
  } finally {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function durableScenario(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const relay = await spawnRelay(['--data', dir, '--log-level', 'info', ...LIMITS]);
  try {
    const tokens = await Promise.all(
      Array.from({ length: SENDERS }, (_, i) => session(relay, `s${i}`)),
    );
    const room = await mainRoom(relay, tokens[0] ?? '');
    const topic = `chat:${room}`;
    const clients = await Promise.all(tokens.map((token) => connect(relay, token, topic)));
    let acked = 0;
    let running = true;
    clients.forEach((client, index) => {
      let n = 0;
      const sendNext = (): void => {
        if (!running) return;
        n += 1;
        client.ws.send(
          JSON.stringify([
            'j',
            String(n),
            topic,
            'send_message',
            { content: `durable ${n}`, mobile_ref_id: `${index}-${n}` },
          ]),
        );
      };
      client.onFrame = (frame) => {
        if (frame[3] === 'message_sent' && (frame[4] as { status: string }).status === 'sent') {
          acked += 1;
          sendNext();
        }
      };
      sendNext();
    });
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    running = false;
    const elapsed = (performance.now() - started) / 1000;
    const rate = acked / elapsed;
    for (const client of clients) client.ws.close();
    return { senders: SENDERS, acked, acked_per_s: Math.round(rate) };
  } finally {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const latency = await latencyScenario();
const durable = await durableScenario();
const results = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
  latency,
  durable,
};
console.table([latency]);
console.table([durable]);
mkdirSync('.bench', { recursive: true });
writeFileSync('.bench/first-figures.json', JSON.stringify(results, null, 2));
console.log(JSON.stringify(results));
