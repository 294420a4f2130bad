/**
 * Floods against the real command-line relay (`node --import tsx relay/cli/cli.ts`, a child process),
 * with its memory read from /proc/<pid>/status (VmRSS, and VmHWM reset before each flood):
 * one client sending as fast as it can, opening thousands of connections (with a token, without
 * one, raw TCP that never finishes its request, sign-ups), creating and joining thousands of
 * rooms, never reading, and sending oversized or compressed frames. In each case the offender
 * gets the documented answer, the relay's memory stays bounded, and a canary pair of users keeps
 * chatting throughout: every canary message delivered once, in order.
 *
 * Offenders connect from their own loopback addresses (127.0.0.2 and up, still the `lo`
 * interface) so that per-address limits are visible and the canary on 127.0.0.1 shares none.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect as tcpConnect, type Socket as NetSocket } from 'node:net';
import WebSocket, { type ClientOptions } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_SERVER_TIMEOUTS } from '../http/connection-limits.js';
import { DEFAULT_LIMITS } from '../core/options.js';
import type { ChatInfo, ChatSummary, MessageSent, WireMessage } from '../protocol/events.js';
import { Canary } from '../testing/canary.js';
import { memoryOf, resetPeak } from '../testing/process-memory.js';
import { api, signIn, until, type Session } from '../testing/relay-harness.js';
import {
  startRelayProcessOnTempData,
  stopRelayProcess,
  type TempDataRelayProcess,
} from '../testing/relay-process.js';

/** The relay's RSS may grow by less than this during a flood and after it (generous on purpose). */
const MEMORY_BOUND_MB = 64;
/** What the relay answers within, under load on a shared machine; never a speed claim. */
const PATIENCE_MS = 20_000;
/** HTTP_SERVER_TIMEOUTS.headersTimeout: how long a connection may take to send its request. */
const HEADERS_TIMEOUT_MS = HTTP_SERVER_TIMEOUTS.headersTimeout;
/** Offenders' source addresses (all on the loopback interface). */
const FROM = {
  canary: '127.0.0.1',
  sendFlood: '127.0.0.2',
  connectionFlood: '127.0.0.3',
  rawTcp: '127.0.0.4',
  signUps: '127.0.0.5',
  rooms: '127.0.0.6',
  slow: '127.0.0.7',
  frames: '127.0.0.8',
} as const;

// ---------------------------------------------------------------------------------------------
// The relay process and its memory

type RelayProcess = TempDataRelayProcess;

/**
 * A relay process on a fresh data folder, with these limits (and, like every relay in this file,
 * loopback, any free port, plain ws/http and no fsync per commit: see startRelayProcessOnTempData).
 */
function startRelayProcess(limits: Record<string, number> = {}): Promise<RelayProcess> {
  const limitArgs = Object.entries(limits).flatMap(([name, value]) => [
    '--limit',
    `${name}=${value}`,
  ]);
  return startRelayProcessOnTempData('floods', limitArgs);
}

/** A relay process with these limits and a canary chatting on it. */
async function startWithCanary(
  limits: Record<string, number> = {},
): Promise<{ relay: RelayProcess; canary: Canary }> {
  const relay = await startRelayProcess(limits);
  try {
    return { relay, canary: await Canary.start(relay, { timeoutMs: PATIENCE_MS }) };
  } catch (error) {
    // Not assigned to the suite's variables, so afterAll could not stop it: stop it here.
    await stopRelayProcess(relay);
    throw error;
  }
}

/** The canary lost nothing and the relay logged no error; the relay is stopped in any case. */
async function stopWithCanary(relay: RelayProcess, canary: Canary): Promise<void> {
  try {
    await canary.verify();
    canary.stop();
    expect(errorsIn(relay)).toEqual([]);
  } finally {
    await stopRelayProcess(relay);
  }
}

/** Log lines at error level or above: a frame handler that threw, an upgrade that failed. */
function errorsIn(relay: RelayProcess): Record<string, unknown>[] {
  return relay.logs.filter((line) => typeof line.level === 'number' && line.level >= 50);
}

function waitForLog(
  relay: RelayProcess,
  predicate: (line: Record<string, unknown>) => boolean,
  what: string,
): Promise<void> {
  return until(() => relay.logs.some(predicate), PATIENCE_MS, what);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `task` for items 0..count-1, at most `width` at a time, results in order. */
async function pool<T>(
  count: number,
  width: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next;
      next += 1;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  return results;
}

// ---------------------------------------------------------------------------------------------
// Clients that pick their source address

interface HttpAnswer<T> {
  status: number;
  body: T;
}

/** One HTTP request on its own TCP connection from `from`, JSON in and out. */
function http<T = Record<string, unknown>>(
  relay: { port: number },
  options: { method: 'GET' | 'POST'; path: string; from: string; token?: string; body?: unknown },
): Promise<HttpAnswer<T>> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: relay.port,
        method: options.method,
        path: options.path,
        headers,
        localAddress: options.from,
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const isJson = (res.headers['content-type'] ?? '').includes('json');
          resolve({ status: res.statusCode ?? 0, body: (isJson ? JSON.parse(text) : text) as T });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function signInFrom(relay: { port: number }, from: string, name: string): Promise<Session> {
  const res = await http<Session>(relay, {
    method: 'POST',
    path: '/api/session',
    from,
    body: { name, device_unique_id: `device-${name}` },
  });
  if (res.status !== 201) throw new Error(`sign-in of ${name} failed: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function createRoom(
  relay: { port: number },
  from: string,
  token: string,
  name: string,
  visibility: 'public' | 'private',
): Promise<string> {
  const res = await http<{ chat: ChatInfo }>(relay, {
    method: 'POST',
    path: '/api/chats',
    from,
    token,
    body: { name, visibility },
  });
  if (res.status !== 201) throw new Error(`room ${name}: ${JSON.stringify(res.body)}`);
  return res.body.chat.id;
}

function socketUrlFor(relay: RelayProcess, params: Record<string, string>): string {
  return `${relay.socketUrl}/websocket?${new URLSearchParams({ vsn: '2.0.0', ...params }).toString()}`;
}

type Upgrade =
  | { kind: 'open'; ws: WebSocket }
  | { kind: 'refused'; status: number; body: unknown }
  | { kind: 'failed'; error: string };

/** One WebSocket upgrade from `from`: accepted (the socket) or refused (status and body). */
function tryUpgrade(
  relay: RelayProcess,
  params: Record<string, string>,
  from: string,
  options: ClientOptions = {},
): Promise<Upgrade> {
  const ws = new WebSocket(socketUrlFor(relay, params), { localAddress: from, ...options });
  return new Promise((resolve) => {
    ws.on('error', (error) => resolve({ kind: 'failed', error: error.message }));
    ws.on('open', () => resolve({ kind: 'open', ws }));
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolve({ kind: 'refused', status: res.statusCode ?? 0, body: JSON.parse(text) });
        ws.terminate();
      });
    });
  });
}

type Reply = { status: string; response: Record<string, unknown> };

/**
 * A raw WebSocket client from a chosen address, speaking V2 frames by hand; replies are indexed
 * by ref so that thousands of them stay cheap to look up.
 */
class FloodClient {
  readonly frames: unknown[][] = [];
  readonly replies = new Map<string, Reply>();
  closeCode: number | null = null;
  closeReason = '';
  readonly closed: Promise<number>;
  #ref = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as unknown[];
      this.frames.push(frame);
      if (frame[3] === 'phx_reply' && typeof frame[1] === 'string') {
        this.replies.set(frame[1], frame[4] as Reply);
      }
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve(code);
      });
    });
  }

  static async connect(
    relay: RelayProcess,
    token: string,
    from: string,
    device = 'flood-device',
  ): Promise<FloodClient> {
    const upgrade = await tryUpgrade(relay, { token, device_unique_id: device }, from);
    if (upgrade.kind !== 'open') throw new Error(`upgrade failed: ${JSON.stringify(upgrade)}`);
    return new FloodClient(upgrade.ws);
  }

  /** The TCP socket under the WebSocket (to stop reading it). */
  get tcp(): NetSocket {
    return (this.ws as unknown as { _socket: NetSocket })._socket;
  }

  send(joinRef: string | null, topic: string, event: string, payload: unknown): string {
    this.#ref += 1;
    const ref = String(this.#ref);
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify([joinRef, ref, topic, event, payload]));
    }
    return ref;
  }

  sendJoin(topic: string, payload: object = {}): string {
    this.#ref += 1;
    const ref = String(this.#ref);
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify([ref, ref, topic, 'phx_join', payload]));
    }
    return ref;
  }

  async reply(ref: string): Promise<Reply> {
    await until(() => this.replies.has(ref), PATIENCE_MS, `the reply to ${ref}`);
    return this.replies.get(ref) as Reply;
  }

  async join(topic: string, payload: object = {}): Promise<{ joinRef: string } & Reply> {
    const joinRef = this.sendJoin(topic, payload);
    return { joinRef, ...(await this.reply(joinRef)) };
  }

  /** Waits until the relay answered `ref` (if any) or closed: keeps a window of requests in flight. */
  async answeredOrClosed(ref: string | undefined): Promise<void> {
    if (ref === undefined) return;
    await until(
      () => this.replies.has(ref) || this.closeCode !== null,
      PATIENCE_MS,
      'the relay to answer or close',
    );
  }

  /** Replies to the given refs with this error reason. */
  refusals(refs: Iterable<string>, reason: string): string[] {
    return [...refs].filter((ref) => this.replies.get(ref)?.response.reason === reason);
  }

  events<T>(event: string): T[] {
    return this.frames.filter((frame) => frame[3] === event).map((frame) => frame[4] as T);
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Runs one flood with the canary chatting throughout, and checks the relay's memory: the peak
 * during the flood and the RSS once it is over stay within MEMORY_BOUND_MB of the RSS before.
 */
async function underFlood<T>(
  relay: RelayProcess,
  canary: Canary,
  name: string,
  flood: () => Promise<T>,
): Promise<T> {
  const before = memoryOf(relay.pid);
  resetPeak(relay.pid);
  const sentBefore = canary.sentCount;
  canary.startChatting();
  let result: T;
  try {
    result = await flood();
  } finally {
    await canary.stopChatting();
  }
  expect(canary.sentCount).toBeGreaterThan(sentBefore);
  const peakGrowth = memoryOf(relay.pid).peakMb - before.rssMb;
  // V8 and malloc give memory back lazily: wait (bounded) for RSS to come down under the bound.
  let settledGrowth = memoryOf(relay.pid).rssMb - before.rssMb;
  const deadline = Date.now() + PATIENCE_MS;
  while (settledGrowth >= MEMORY_BOUND_MB && Date.now() < deadline) {
    await sleep(250);
    settledGrowth = memoryOf(relay.pid).rssMb - before.rssMb;
  }
  console.info(
    `[floods] ${name}: RSS before ${before.rssMb.toFixed(1)} MB, peak +${peakGrowth.toFixed(1)} MB, after +${settledGrowth.toFixed(1)} MB`,
  );
  expect(peakGrowth, `${name}: peak RSS growth (MB)`).toBeLessThan(MEMORY_BOUND_MB);
  expect(settledGrowth, `${name}: RSS growth after the flood (MB)`).toBeLessThan(MEMORY_BOUND_MB);
  return result;
}

/** parley_connections from /metrics: WebSockets the relay holds. */
async function openConnections(relay: RelayProcess): Promise<number> {
  const res = await http<string>(relay, { method: 'GET', path: '/metrics', from: FROM.canary });
  const match = /^parley_connections(?:\{[^}]*\})? (\d+)$/m.exec(res.body);
  if (match === null) throw new Error('no parley_connections in /metrics');
  return Number(match[1]);
}

async function history(
  relay: RelayProcess,
  token: string,
  chatId: string,
  from: string,
): Promise<WireMessage[]> {
  const stored: WireMessage[] = [];
  for (let more = true; more;) {
    const page = await http<{ messages: WireMessage[]; has_more: boolean }>(relay, {
      method: 'GET',
      path: `/api/chats/${chatId}/messages?limit=500&after_seq=${stored.at(-1)?.seq ?? 0}`,
      from,
      token,
    });
    expect(page.status).toBe(200);
    stored.push(...page.body.messages);
    more = page.body.has_more;
  }
  return stored;
}

// ---------------------------------------------------------------------------------------------
// Raw TCP and raw WebSocket frames

interface RawTcp {
  socket: NetSocket;
  /** Everything the relay wrote, as text. */
  received: () => string;
}

/** A raw TCP connection; `halfOpen` keeps our side open after the relay closes its side. */
function openTcp(port: number, from: string, { halfOpen = false } = {}): Promise<RawTcp> {
  const socket = tcpConnect({
    host: '127.0.0.1',
    port,
    localAddress: from,
    allowHalfOpen: halfOpen,
  });
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve({ socket, received: () => received }));
    socket.once('error', reject);
  });
}

/** A client frame (masked, as RFC 6455 requires of clients). */
function clientFrame(options: {
  fin: boolean;
  opcode: number;
  payload: Buffer;
  rsv1?: boolean;
  /** Length to declare in the header instead of the payload's (the payload is sent as given). */
  declaredLength?: number;
}): Buffer {
  const length = options.declaredLength ?? options.payload.length;
  const first = (options.fin ? 0x80 : 0) | (options.rsv1 === true ? 0x40 : 0) | options.opcode;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([first, 0x80 | length]);
  } else if (length < 65_536) {
    header = Buffer.alloc(4);
    header.writeUInt8(first, 0);
    header.writeUInt8(0x80 | 126, 1);
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header.writeUInt8(first, 0);
    header.writeUInt8(0x80 | 127, 1);
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  const masked = Buffer.from(options.payload);
  for (let i = 0; i < masked.length; i += 1) masked[i] = (masked[i] ?? 0) ^ (mask[i % 4] ?? 0);
  return Buffer.concat([header, mask, masked]);
}

/** A WebSocket upgrade request, offering permessage-deflate as browsers do. */
function upgradeRequest(relay: RelayProcess, params: Record<string, string>): string {
  const query = new URLSearchParams({ vsn: '2.0.0', ...params }).toString();
  return [
    `GET /socket/websocket?${query} HTTP/1.1`,
    `Host: 127.0.0.1:${relay.port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
    '',
    '',
  ].join('\r\n');
}

/** A WebSocket handshake by hand; resolves with the 101 response's headers and the socket. */
async function rawHandshake(
  relay: RelayProcess,
  token: string,
  from: string,
): Promise<{
  tcp: RawTcp;
  status: number;
  headers: Map<string, string>;
  afterHeaders: () => Buffer;
}> {
  const tcp = await openTcp(relay.port, from);
  tcp.socket.write(upgradeRequest(relay, { token, device_unique_id: 'raw' }));
  await until(() => tcp.received().includes('\r\n\r\n'), PATIENCE_MS, 'the handshake response');
  const [head = ''] = tcp.received().split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return {
    tcp,
    status: Number(statusLine.split(' ')[1]),
    headers,
    afterHeaders: () => Buffer.from(tcp.received().slice(head.length + 4), 'latin1'),
  };
}

/** The status code of the first close frame (opcode 8) in server-sent bytes, or null. */
function closeCodeIn(bytes: Buffer): number | null {
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = (bytes[at] ?? 0) & 0x0f;
    let length = (bytes[at + 1] ?? 0) & 0x7f;
    let start = at + 2;
    // A frame header not fully received yet: no close frame so far.
    if (at + (length === 126 ? 4 : length === 127 ? 10 : 2) > bytes.length) return null;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      start = at + 4;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2));
      start = at + 10;
    }
    if (opcode === 0x8)
      return length >= 2 && start + 2 <= bytes.length ? bytes.readUInt16BE(start) : null;
    at = start + length;
  }
  return null;
}

/**
 * Waits for the relay's close frame and returns its code, then drops the connection (a raw
 * client that never answers the close would otherwise be held for ws's 30 s close timeout).
 */
async function closeFrame(raw: {
  tcp: RawTcp;
  afterHeaders: () => Buffer;
}): Promise<number | null> {
  await until(
    () => closeCodeIn(raw.afterHeaders()) !== null || raw.tcp.socket.destroyed,
    PATIENCE_MS,
    'a close frame',
  );
  raw.tcp.socket.destroy();
  return closeCodeIn(raw.afterHeaders());
}

// ---------------------------------------------------------------------------------------------

describe('floods against a relay process with default limits', () => {
  let relay: RelayProcess;
  let canary: Canary;

  beforeAll(async () => {
    ({ relay, canary } = await startWithCanary());
  }, 60_000);
  afterAll(() => stopWithCanary(relay, canary), 60_000);

  it('send flood: rate_limited replies, then 1008; stored sends stay within burst + rate × time', async () => {
    const { messageBurst, messagesPerSecond, strikesPerMinute } = DEFAULT_LIMITS;
    const flooder = await signInFrom(relay, FROM.sendFlood, 'SendFlooder');
    const blaster = await signInFrom(relay, FROM.sendFlood, 'SendBlaster');
    const floodRoom = await createRoom(relay, FROM.sendFlood, flooder.token, 'flood', 'private');
    const blastRoom = await createRoom(relay, FROM.sendFlood, blaster.token, 'blast', 'private');
    const FLOOD = 5_000;

    await underFlood(relay, canary, 'send flood', async () => {
      // 1. As fast as the relay answers: up to 200 sends in flight (the relay holds 256 frames).
      const client = await FloodClient.connect(relay, flooder.token, FROM.sendFlood);
      const { joinRef, status } = await client.join(`chat:${floodRoom}`);
      expect(status).toBe('ok');
      const started = Date.now();
      const refs: string[] = [];
      const mobileRefOf = new Map<string, string>();
      const WINDOW = 200;
      for (let n = 1; n <= FLOOD && client.closeCode === null; n += 1) {
        const ref = client.send(joinRef, `chat:${floodRoom}`, 'send_message', {
          content: `flood ${n}`,
          mobile_ref_id: `flood-${n}`,
        });
        refs.push(ref);
        mobileRefOf.set(ref, `flood-${n}`);
        await client.answeredOrClosed(refs[refs.length - WINDOW]);
      }
      expect(await client.closed).toBe(1008);
      expect(client.closeReason).toBe('rate_limited');
      const elapsedS = (Date.now() - started) / 1000;
      // Each breach is answered until the one past strikesPerMinute, which closes instead.
      const limited = client.refusals(refs, 'rate_limited');
      expect(limited).toHaveLength(strikesPerMinute);
      const stored = await history(relay, flooder.token, floodRoom, FROM.sendFlood);
      expect(stored.length).toBeGreaterThanOrEqual(messageBurst);
      expect(stored.length).toBeLessThanOrEqual(messageBurst + messagesPerSecond * (elapsedS + 1));
      expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
      const refused = new Set(limited.map((ref) => mobileRefOf.get(ref)));
      expect(stored.filter((m) => refused.has(m.mobile_ref_id))).toEqual([]);

      // 2. Blind: 5,000 frames written at once, nothing read back first.
      const blast = await FloodClient.connect(relay, blaster.token, FROM.sendFlood);
      const blastJoin = await blast.join(`chat:${blastRoom}`);
      const blastStarted = Date.now();
      for (let n = 1; n <= FLOOD; n += 1) {
        blast.send(blastJoin.joinRef, `chat:${blastRoom}`, 'send_message', {
          content: `blast ${n}`,
          mobile_ref_id: `blast-${n}`,
        });
      }
      expect(await blast.closed).toBe(1008);
      const blastS = (Date.now() - blastStarted) / 1000;
      const blasted = await history(relay, blaster.token, blastRoom, FROM.sendFlood);
      expect(blasted.length).toBeLessThanOrEqual(messageBurst + messagesPerSecond * (blastS + 1));
      console.info(
        `[floods] send flood: ${refs.length} sent, ${stored.length} stored; blast: ${FLOOD} sent, ${blasted.length} stored`,
      );
    });
  });

  it('connection flood with a valid token: beyond maxConnectionsPerUser, HTTP 429', async () => {
    const { maxConnectionsPerUser } = DEFAULT_LIMITS;
    const user = await signInFrom(relay, FROM.connectionFlood, 'ManyConnections');
    const ATTEMPTS = 2_000;
    const baseline = await openConnections(relay);

    const outcomes = await underFlood(relay, canary, 'connection flood (token)', () =>
      pool(ATTEMPTS, 64, (i) =>
        tryUpgrade(relay, { token: user.token, device_unique_id: `d${i}` }, FROM.connectionFlood),
      ),
    );
    const open = outcomes.flatMap((o) => (o.kind === 'open' ? [o.ws] : []));
    const refused = outcomes.filter((o) => o.kind === 'refused');
    expect(outcomes.filter((o) => o.kind === 'failed')).toEqual([]);
    expect(open).toHaveLength(maxConnectionsPerUser);
    expect(refused).toHaveLength(ATTEMPTS - maxConnectionsPerUser);
    for (const answer of refused) {
      expect(answer).toEqual({
        kind: 'refused',
        status: 429,
        body: { error: { code: 'rate_limited', message: 'too many connections for this user' } },
      });
    }
    expect(await openConnections(relay)).toBe(baseline + maxConnectionsPerUser);
    for (const ws of open) ws.close();
    await waitForConnections(relay, baseline);
  });

  it('connection flood without a valid token: HTTP 403 each, nothing kept', async () => {
    const ATTEMPTS = 2_000;
    const baseline = await openConnections(relay);
    const forged = `${'eyJhbGciOiJIUzI1NiJ9'}.${Buffer.from('{"sub":"x"}').toString('base64url')}.x`;
    const outcomes = await underFlood(relay, canary, 'connection flood (no token)', () =>
      pool(ATTEMPTS, 64, (i) =>
        tryUpgrade(
          relay,
          i % 2 === 0 ? { device_unique_id: 'anon' } : { token: forged, device_unique_id: 'anon' },
          FROM.connectionFlood,
        ),
      ),
    );
    expect(outcomes.filter((o) => o.kind !== 'refused')).toEqual([]);
    for (const answer of outcomes) {
      expect(answer).toMatchObject({
        kind: 'refused',
        status: 403,
        body: { error: { code: 'unauthorized' } },
      });
    }
    expect(await openConnections(relay)).toBe(baseline);

    // Clients that read their 403 and never close their side: the relay cuts them anyway (our
    // periodic writes notice: they fail once the relay's socket is gone).
    const lingering = await pool(100, 32, async () => {
      const tcp = await openTcp(relay.port, FROM.connectionFlood, { halfOpen: true });
      tcp.socket.write(upgradeRequest(relay, { device_unique_id: 'lingering' }));
      return tcp;
    });
    const poke = setInterval(() => {
      for (const tcp of lingering) if (!tcp.socket.destroyed) tcp.socket.write('x');
    }, 250);
    try {
      await until(
        () => lingering.every((tcp) => tcp.socket.destroyed),
        PATIENCE_MS,
        'the relay to cut refused upgrades that stay open',
      );
    } finally {
      clearInterval(poke);
    }
    for (const tcp of lingering) expect(tcp.received()).toMatch(/^HTTP\/1\.1 403 unauthorized\r\n/);
  });

  it('raw TCP flood: beyond maxConnectionsPerAddress, HTTP 429 at once; silent and slowloris connections are closed by the header timeout', async () => {
    const { maxConnectionsPerAddress } = DEFAULT_LIMITS;
    const OPENED = maxConnectionsPerAddress + 44;
    const SILENT = Math.floor(OPENED / 2);
    const user = await signInFrom(relay, FROM.rawTcp, 'RawTcpUser');

    const held = await underFlood(relay, canary, 'raw TCP flood', async () => {
      const sockets = await pool(OPENED, 32, () => openTcp(relay.port, FROM.rawTcp));
      // Half never send a byte; half trickle request headers, one line every 500 ms (slowloris).
      const trickling = sockets.slice(SILENT);
      for (const tcp of trickling) {
        if (!tcp.socket.destroyed) tcp.socket.write('GET /healthz HTTP/1.1\r\nHost: relay\r\n');
      }
      const timer = setInterval(() => {
        for (const tcp of trickling) {
          if (!tcp.socket.destroyed && tcp.socket.writable) tcp.socket.write('X-Slow: 1\r\n');
        }
      }, 500);
      try {
        const refused = (): RawTcp[] =>
          sockets.filter((tcp) => tcp.received().startsWith('HTTP/1.1 429'));
        await until(
          () => refused().length === OPENED - maxConnectionsPerAddress,
          PATIENCE_MS,
          'the connections over the limit to be refused',
        );
        const [sample] = refused();
        expect(sample?.received()).toContain('"code":"rate_limited"');
        expect(sample?.received()).toContain('Connection: close');
        await until(
          () => refused().every((tcp) => tcp.socket.destroyed),
          PATIENCE_MS,
          'the refused connections to be cut',
        );

        // While the address is full: another connection from it is refused, one from
        // elsewhere is served.
        const more = await tryUpgrade(
          relay,
          { token: user.token, device_unique_id: 'one-more' },
          FROM.rawTcp,
        );
        expect(more).toMatchObject({
          kind: 'refused',
          status: 429,
          body: { error: { code: 'rate_limited' } },
        });
        const elsewhere = await http(relay, {
          method: 'GET',
          path: '/healthz',
          from: FROM.canary,
        });
        expect(elsewhere.status).toBe(200);

        // The header timeout closes every one of the others; none got any answer but a 408.
        const kept = sockets.filter((tcp) => !refused().includes(tcp));
        expect(kept).toHaveLength(maxConnectionsPerAddress);
        await until(
          () => kept.every((tcp) => tcp.socket.destroyed),
          3 * HEADERS_TIMEOUT_MS,
          'the header timeout to close every held connection',
        );
        const answers = new Set(kept.map((tcp) => tcp.received().split('\r\n')[0]));
        expect(
          [...answers].filter((line) => line !== '' && line !== 'HTTP/1.1 408 Request Timeout'),
        ).toEqual([]);
        return kept.length;
      } finally {
        clearInterval(timer);
      }
    });
    expect(held).toBe(maxConnectionsPerAddress);
    // The address's slots are free again.
    const again = await FloodClient.connect(relay, user.token, FROM.rawTcp);
    expect((await again.join(`notifications:${user.user.id}`)).status).toBe('ok');
    again.close();
  }, 90_000);

  it('sign-up flood from one address: sessionAttemptsPerMinute holds', async () => {
    const { sessionAttemptsPerMinute } = DEFAULT_LIMITS;
    const ATTEMPTS = 1_000;
    const first = await signIn(relay, 'UserCounter');
    const usersBefore = await api<{ users: unknown[] }>(relay, first.token, 'GET', '/api/users');
    const started = Date.now();
    const answers = await underFlood(relay, canary, 'sign-up flood', () =>
      pool(ATTEMPTS, 16, (i) =>
        http(relay, {
          method: 'POST',
          path: '/api/session',
          from: FROM.signUps,
          body: { name: `Spam ${i}`, device_unique_id: `spam-${i}` },
        }),
      ),
    );
    const minutes = (Date.now() - started) / 60_000;
    const created = answers.filter((answer) => answer.status === 201);
    const limited = answers.filter((answer) => answer.status === 429);
    expect(created.length + limited.length).toBe(ATTEMPTS);
    expect(created.length).toBeGreaterThan(0);
    expect(created.length).toBeLessThanOrEqual(Math.ceil(sessionAttemptsPerMinute * (1 + minutes)));
    expect(limited[0]?.body).toMatchObject({ error: { code: 'rate_limited' } });
    const usersAfter = await api<{ users: unknown[] }>(relay, first.token, 'GET', '/api/users');
    expect(usersAfter.body.users.length - usersBefore.body.users.length).toBe(created.length);
    // Another address still signs in.
    await signIn(relay, 'AfterTheFlood');
  });

  it('room-creation flood: roomCreationsPerMinute holds; join flood as fast as possible: 1008, nothing joined or created beyond', async () => {
    const { roomCreationsPerMinute } = DEFAULT_LIMITS;
    const ATTEMPTS = 1_000;
    const builder = await signInFrom(relay, FROM.rooms, 'RoomBuilder');
    const joiner = await signInFrom(relay, FROM.rooms, 'RoomJoiner');
    const publicBefore = await http<{ chats: ChatInfo[] }>(relay, {
      method: 'GET',
      path: '/api/chats?scope=public',
      from: FROM.rooms,
      token: builder.token,
    });

    const started = Date.now();
    const answers = await underFlood(relay, canary, 'room-creation flood', () =>
      pool(ATTEMPTS, 16, (i) =>
        http<{ chat?: ChatInfo }>(relay, {
          method: 'POST',
          path: '/api/chats',
          from: FROM.rooms,
          token: builder.token,
          body: { name: `spam room ${i}`, visibility: 'public' },
        }),
      ),
    );
    const minutes = (Date.now() - started) / 60_000;
    const created = answers.flatMap((answer) =>
      answer.status === 201 && answer.body.chat !== undefined ? [answer.body.chat.id] : [],
    );
    expect(answers.filter((a) => a.status !== 201 && a.status !== 429)).toEqual([]);
    expect(created.length).toBeGreaterThanOrEqual(roomCreationsPerMinute);
    expect(created.length).toBeLessThanOrEqual(Math.ceil(roomCreationsPerMinute * (1 + minutes)));
    const publicAfter = await http<{ chats: ChatInfo[] }>(relay, {
      method: 'GET',
      path: '/api/chats?scope=public',
      from: FROM.rooms,
      token: builder.token,
    });
    expect(publicAfter.body.chats.length - publicBefore.body.chats.length).toBe(created.length);

    // Joins of every spam room and thousands of unknown chats, written at once.
    const UNKNOWN = 3_000;
    const client = await FloodClient.connect(relay, joiner.token, FROM.rooms);
    await underFlood(relay, canary, 'join flood', async () => {
      for (const id of created) client.sendJoin(`chat:${id}`);
      for (let n = 0; n < UNKNOWN; n += 1) client.sendJoin(`chat:nochat-${n}`);
      expect(await client.closed).toBe(1008);
      expect(client.closeReason).toBe('rate_limited');
    });
    const joinedOk = [...client.replies.values()].filter((reply) => reply.status === 'ok');
    expect(joinedOk.length).toBeLessThanOrEqual(created.length);
    // None of the unknown chats came to exist; the joiner is in no more rooms than it joined.
    for (const n of [0, 1, UNKNOWN - 1]) {
      const probe = await http(relay, {
        method: 'GET',
        path: `/api/chats/nochat-${n}`,
        from: FROM.rooms,
        token: joiner.token,
      });
      expect(probe.status).toBe(404);
    }
    const mine = await http<{ chats: ChatSummary[] }>(relay, {
      method: 'GET',
      path: '/api/chats',
      from: FROM.rooms,
      token: joiner.token,
    });
    // Only spam rooms, and only as many as were joined (one join may have been mid-way when the
    // connection closed: it counts, its reply was never sent).
    const rooms = mine.body.chats.filter((chat) => !chat.is_main).map((chat) => chat.id);
    expect(rooms.filter((id) => !created.includes(id))).toEqual([]);
    expect(rooms.length).toBeLessThanOrEqual(joinedOk.length + 1);
  });

  it('slow consumer: closed with 4001 once maxBufferedBytes is queued; memory does not follow the traffic', async () => {
    const sender = await signInFrom(relay, FROM.slow, 'BusySender');
    const reader = await signInFrom(relay, FROM.slow, 'BusyReader');
    const slow = await signInFrom(relay, FROM.slow, 'NeverReads');
    const roomId = await createRoom(relay, FROM.slow, sender.token, 'busy', 'private');
    for (const member of [reader, slow]) {
      const added = await http(relay, {
        method: 'POST',
        path: `/api/chats/${roomId}/members`,
        from: FROM.slow,
        token: sender.token,
        body: { user_id: member.user.id },
      });
      expect(added.status).toBe(200);
    }
    // A history of joinHistory messages of maxMessageChars: every join reply is about 400 kB.
    for (let n = 1; n <= DEFAULT_LIMITS.joinHistory; n += 1) {
      const sent = await http(relay, {
        method: 'POST',
        path: `/api/chats/${roomId}/messages`,
        from: FROM.slow,
        token: sender.token,
        body: {
          content: `${n} `.padEnd(DEFAULT_LIMITS.maxMessageChars, 'x'),
          mobile_ref_id: `history-${n}`,
        },
      });
      expect(sent.status).toBe(201);
    }
    const senderClient = await FloodClient.connect(relay, sender.token, FROM.slow, 'busy-sender');
    const readerClient = await FloodClient.connect(relay, reader.token, FROM.slow, 'busy-reader');
    const slowClient = await FloodClient.connect(relay, slow.token, FROM.slow, 'never-reads');
    const senderJoin = await senderClient.join(`chat:${roomId}`);
    expect(senderJoin.status).toBe('ok');
    const readerJoin = await readerClient.join(`chat:${roomId}`);
    expect(readerJoin.status).toBe('ok');
    const slowJoin = await slowClient.join(`chat:${roomId}`);
    expect(slowJoin.status).toBe('ok');
    // Re-joins under the inbox (256 frames) and frame-burst limits, each asking for the whole
    // history again. Join replies are bounded by the connection's own backlog (history-page.ts,
    // replyBudget): once half of maxBufferedBytes waits they carry no messages, so they alone
    // never get a client cut off. The room's traffic does: two members keep sending messages
    // of maxMessageChars control characters (about 48 kB each as JSON), paced under
    // messagesPerSecond, until the relay closes the slow consumer.
    const REJOINS = 250;
    const MAX_SENDS = 400;
    const PACE_MS = 1_000 / (DEFAULT_LIMITS.messagesPerSecond - 4);
    let slowClosed = false;
    let directedBytes = 0;
    const busy = (client: FloodClient, joinRef: string, who: string): Promise<string[]> =>
      (async () => {
        const sent: string[] = [];
        for (let n = 1; !slowClosed && n <= MAX_SENDS / 2; n += 1) {
          const content = `${who} ${n} `.padEnd(DEFAULT_LIMITS.maxMessageChars, '\u0001');
          const ref = client.send(joinRef, `chat:${roomId}`, 'send_message', {
            content,
            mobile_ref_id: `${who}-${n}`,
          });
          expect((await client.reply(ref)).status).toBe('ok');
          sent.push(`${who}-${n}`);
          directedBytes += Buffer.byteLength(JSON.stringify(content));
          await sleep(PACE_MS);
        }
        return sent;
      })();

    let sentBySender: string[] = [];
    let sentByReader: string[] = [];
    await underFlood(relay, canary, 'slow consumer', async () => {
      slowClient.tcp.pause();
      for (let n = 0; n < REJOINS; n += 1) slowClient.sendJoin(`chat:${roomId}`);
      const sending = Promise.all([
        busy(senderClient, senderJoin.joinRef, 'busy'),
        busy(readerClient, readerJoin.joinRef, 'also-busy'),
      ]);
      await waitForLog(
        relay,
        (line) => line.msg === 'closing slow consumer' && line.user === slow.user.id,
        'the relay to close the slow consumer',
      );
      slowClosed = true;
      [sentBySender, sentByReader] = await sending;
      // Read again at once: the close frame waits behind the backlog, and the relay cuts a peer
      // that has not read it 2 s later.
      slowClient.tcp.resume();
      expect(await slowClient.closed).toBe(4001);
      expect(slowClient.closeReason).toBe('slow_consumer');
    });
    // Its re-joins stopped carrying history once its backlog grew: the relay did not queue the
    // 100 MB of history they asked for (REJOINS × about 400 kB).
    const joinReplies = slowClient.frames
      .filter((frame) => frame[3] === 'phx_reply')
      .map((frame) => frame[4] as { response?: { messages?: unknown[] } })
      .filter((payload) => Array.isArray(payload.response?.messages));
    const withHistory = joinReplies.filter((p) => (p.response?.messages?.length ?? 0) > 0);
    expect(withHistory.length).toBeLessThan(REJOINS / 4);
    console.info(
      `[floods] slow consumer: ${(directedBytes / 1024 / 1024).toFixed(1)} MB of messages sent its way; ${joinReplies.length} of ${REJOINS + 1} join replies delivered, ${withHistory.length} of them with history`,
    );
    // The others in the room got every busy message of the other, in order.
    await until(
      () =>
        readerClient.events<WireMessage>('receive_message').length >= sentBySender.length &&
        senderClient.events<WireMessage>('receive_message').length >= sentByReader.length,
      PATIENCE_MS,
      "the two senders to get each other's busy messages",
    );
    const refs = (client: FloodClient): string[] =>
      client.events<WireMessage>('receive_message').map((m) => m.mobile_ref_id);
    expect(refs(readerClient)).toEqual(sentBySender);
    expect(refs(senderClient)).toEqual(sentByReader);
    for (const [client, sent] of [
      [senderClient, sentBySender],
      [readerClient, sentByReader],
    ] as const) {
      expect(
        client.events<MessageSent>('message_sent').filter((m) => m.status === 'sent'),
      ).toHaveLength(sent.length);
    }
    expect(readerClient.closeCode).toBeNull();
    expect(senderClient.closeCode).toBeNull();
    senderClient.close();
    readerClient.close();
  }, 120_000);

  it('oversized and compressed frames: 1009 just over maxPayloadBytes, fragmented or not; permessage-deflate is never negotiated (RSV1 → 1002)', async () => {
    const { maxPayloadBytes } = DEFAULT_LIMITS;
    const user = await signInFrom(relay, FROM.frames, 'BigFrames');
    const baseline = await openConnections(relay);

    // The ws client offers permessage-deflate; the relay declines it.
    const offered = await tryUpgrade(
      relay,
      { token: user.token, device_unique_id: 'deflate' },
      FROM.frames,
      { perMessageDeflate: true },
    );
    if (offered.kind !== 'open') throw new Error(`upgrade failed: ${JSON.stringify(offered)}`);
    expect(offered.ws.extensions).toBe('');
    offered.ws.close();

    // By hand: the 101 names no extension, and a frame marked compressed (RSV1) is refused.
    const compressed = await rawHandshake(relay, user.token, FROM.frames);
    expect(compressed.status).toBe(101);
    expect(compressed.headers.has('sec-websocket-extensions')).toBe(false);
    compressed.tcp.socket.write(
      clientFrame({ fin: true, rsv1: true, opcode: 0x1, payload: randomBytes(64) }),
    );
    expect(await closeFrame(compressed)).toBe(1002);

    // A message over maxPayloadBytes in two fragments, each under it.
    const fragmented = await rawHandshake(relay, user.token, FROM.frames);
    const half = Buffer.alloc(Math.ceil((maxPayloadBytes + 2) / 2), 'a');
    fragmented.tcp.socket.write(clientFrame({ fin: false, opcode: 0x1, payload: half }));
    fragmented.tcp.socket.write(clientFrame({ fin: true, opcode: 0x0, payload: half }));
    expect(await closeFrame(fragmented)).toBe(1009);

    // Many connections, each announcing a huge frame (1 GiB) or sending one just over the limit.
    const ROUNDS = 6;
    const PER_ROUND = 15;
    await waitForConnections(relay, baseline);
    await underFlood(relay, canary, 'oversized frames', async () => {
      for (let round = 0; round < ROUNDS; round += 1) {
        const codes = await Promise.all(
          Array.from({ length: PER_ROUND }, async (_, i) => {
            const raw = await rawHandshake(relay, user.token, FROM.frames);
            expect(raw.status).toBe(101);
            const frame =
              i % 2 === 0
                ? clientFrame({
                    fin: true,
                    opcode: 0x1,
                    payload: randomBytes(1024),
                    declaredLength: 1024 ** 3,
                  })
                : clientFrame({
                    fin: true,
                    opcode: 0x1,
                    payload: Buffer.alloc(maxPayloadBytes + 1, 'b'),
                  });
            raw.tcp.socket.write(frame);
            return closeFrame(raw);
          }),
        );
        expect(codes).toEqual(Array.from({ length: PER_ROUND }, () => 1009));
        // Under maxConnectionsPerUser in the next round too.
        await waitForConnections(relay, baseline);
      }
    });
  }, 90_000);
});

describe('join limit against a relay process with maxJoinsPerConnection lowered', () => {
  const MAX_JOINS = 20;
  const ROOMS = 25;
  let relay: RelayProcess;
  let canary: Canary;

  beforeAll(async () => {
    ({ relay, canary } = await startWithCanary({ maxJoinsPerConnection: MAX_JOINS }));
  }, 60_000);
  afterAll(() => stopWithCanary(relay, canary), 60_000);

  it('answers joins beyond the limit with too_many_joins, then closes with 1008; nothing joined beyond it', async () => {
    const { strikesPerMinute } = DEFAULT_LIMITS;
    const owner = await signInFrom(relay, FROM.rooms, 'OpenRooms');
    const joiner = await signInFrom(relay, FROM.rooms, 'EveryRoom');
    const rooms: string[] = [];
    for (let n = 0; n < ROOMS; n += 1) {
      rooms.push(await createRoom(relay, FROM.rooms, owner.token, `open ${n}`, 'public'));
    }
    const UNKNOWN = 2_000;
    const client = await FloodClient.connect(relay, joiner.token, FROM.rooms);
    const refs = await underFlood(relay, canary, 'join flood (limit)', async () => {
      const topics = [
        `notifications:${joiner.user.id}`,
        ...rooms.map((id) => `chat:${id}`),
        ...Array.from({ length: UNKNOWN }, (_, n) => `chat:nochat-${n}`),
      ];
      // As fast as the relay answers, 50 joins in flight.
      const sent: string[] = [];
      for (const topic of topics) {
        if (client.closeCode !== null) break;
        sent.push(client.sendJoin(topic));
        await client.answeredOrClosed(sent[sent.length - 50]);
      }
      expect(await client.closed).toBe(1008);
      return sent;
    });
    const ok = refs.filter((ref) => client.replies.get(ref)?.status === 'ok');
    expect(ok).toHaveLength(MAX_JOINS);
    expect(client.refusals(refs, 'too_many_joins')).toHaveLength(strikesPerMinute);
    // Joined: notifications and the first MAX_JOINS - 1 rooms; the rest of the rooms it was
    // refused did not make it a member.
    const mine = await http<{ chats: ChatSummary[] }>(relay, {
      method: 'GET',
      path: '/api/chats',
      from: FROM.rooms,
      token: joiner.token,
    });
    expect(
      mine.body.chats
        .filter((chat) => !chat.is_main)
        .map((chat) => chat.id)
        .sort(),
    ).toEqual(rooms.slice(0, MAX_JOINS - 1).sort());
  }, 90_000);
});

/** Waits until /metrics counts `expected` WebSockets (closes are seen asynchronously). */
async function waitForConnections(relay: RelayProcess, expected: number): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  let open = await openConnections(relay);
  while (open !== expected && Date.now() < deadline) {
    await sleep(100);
    open = await openConnections(relay);
  }
  expect(open).toBe(expected);
}
