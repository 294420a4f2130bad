/**
 * Test harness: real relays on port 0 with real SQLite files in a fresh temp folder, real
 * clients (the official `phoenix` client over `ws`, and raw `ws` for protocol abuse).
 * Nothing here fakes the relay.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { Socket, type Channel } from 'phoenix';
import { pino } from 'pino';
import WebSocket from 'ws';
import { startRelay, type RunningRelay } from '../node/relay.js';
import type { RelayOptionsInput } from '../core/options.js';

export interface TestRelay extends RunningRelay {
  dataDir: string;
}

/** Starts a relay on 127.0.0.1:0 with a fresh data folder (kept across restart()). */
export async function startTestRelay(
  options: RelayOptionsInput & { dataDir?: string } = {},
): Promise<TestRelay> {
  const dataDir = options.dataDir ?? mkdtempSync(joinPath(tmpdir(), 'parley-test-'));
  const relay = await startRelay({
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: process.env.PARLEY_TEST_LOG ?? 'silent' }),
    ...options,
    dataDir,
  });
  return { ...relay, dataDir };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface Session {
  token: string;
  user: { id: string; name: string };
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** One HTTP call; `token` null sends no Authorization header. */
export async function api<T = Record<string, unknown>>(
  relay: { url: string },
  token: string | null,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${relay.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Signs a new user in (POST /api/session) and returns the token. */
export async function signIn(
  relay: { url: string },
  name: string,
  extra: { device?: string; passcode?: string } = {},
): Promise<Session> {
  const res = await api<Session>(relay, null, 'POST', '/api/session', {
    name,
    device_unique_id: extra.device ?? `device-${name}`,
    ...(extra.passcode === undefined ? {} : { passcode: extra.passcode }),
  });
  if (res.status !== 201) throw new Error(`sign-in of ${name} failed: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Creates a room (POST /api/chats) and returns its id; throws unless it was created. */
export async function createRoom(
  relay: { url: string },
  token: string,
  name: string,
  visibility: 'public' | 'private',
): Promise<string> {
  const res = await api<{ chat: { id: string } }>(relay, token, 'POST', '/api/chats', {
    name,
    visibility,
  });
  if (res.status !== 201) throw new Error(`room ${name}: ${JSON.stringify(res.body)}`);
  return res.body.chat.id;
}

/**
 * Posts `count` messages to `roomId` over HTTP, 25 at a time, the n-th (from 1) being
 * `message(n)`; throws unless every one was created (201).
 */
export async function postMessages(
  relay: { url: string },
  token: string,
  roomId: string,
  count: number,
  message: (n: number) => { content: string; mobile_ref_id: string },
): Promise<void> {
  for (let first = 1; first <= count; first += 25) {
    const sent = await Promise.all(
      Array.from({ length: Math.min(25, count - first + 1) }, (_, i) =>
        api(relay, token, 'POST', `/api/chats/${roomId}/messages`, message(first + i)),
      ),
    );
    const refused = sent.filter((res) => res.status !== 201);
    if (refused.length > 0) {
      throw new Error(`messages from ${first} refused: ${JSON.stringify(refused)}`);
    }
  }
}

/** The id of the main chat (everyone's) as `token` lists it; throws if there is none. */
export async function mainChatId(relay: { url: string }, token: string): Promise<string> {
  const res = await api<{ chats: { id: string; is_main: boolean }[] }>(
    relay,
    token,
    'GET',
    '/api/chats',
  );
  const main = res.body.chats.find((chat) => chat.is_main);
  if (main === undefined) throw new Error(`no main chat in ${JSON.stringify(res.body)}`);
  return main.id;
}

/** A `phoenix` Socket pointed at the relay, connected. Close it with socket.disconnect(). */
export function connectPhoenix(
  relay: { socketUrl: string },
  token: string,
  device = 'test-device',
): Socket {
  const socket = new Socket(relay.socketUrl, {
    params: { token, device_unique_id: device, preferred_language: 'EN' },
    transport: WebSocket as unknown as typeof globalThis.WebSocket,
    reconnectAfterMs: () => 50,
    rejoinAfterMs: () => 50,
    timeout: 5_000,
  });
  socket.connect();
  return socket;
}

export interface PushReply<T = Record<string, unknown>> {
  status: 'ok' | 'error' | 'timeout';
  response: T;
}

/** Joins a channel and resolves with the reply (ok or error). */
export function join<T = Record<string, unknown>>(
  channel: Channel,
  timeout = 5_000,
): Promise<PushReply<T>> {
  return new Promise((resolve) => {
    channel
      .join(timeout)
      .receive('ok', (response: T) => resolve({ status: 'ok', response }))
      .receive('error', (response: T) => resolve({ status: 'error', response }))
      .receive('timeout', () => resolve({ status: 'timeout', response: {} as T }));
  });
}

/** Pushes an event and resolves with the reply. */
export function push<T = Record<string, unknown>>(
  channel: Channel,
  event: string,
  payload: object,
  timeout = 5_000,
): Promise<PushReply<T>> {
  return new Promise((resolve) => {
    channel
      .push(event, payload, timeout)
      .receive('ok', (response: T) => resolve({ status: 'ok', response }))
      .receive('error', (response: T) => resolve({ status: 'error', response }))
      .receive('timeout', () => resolve({ status: 'timeout', response: {} as T }));
  });
}

/** Collects every payload of one event on a channel, in arrival order. */
export function collect<T = Record<string, unknown>>(channel: Channel, event: string): T[] {
  const seen: T[] = [];
  channel.on(event, (payload: T) => {
    seen.push(payload);
  });
  return seen;
}

/** Waits until `check` returns true (polled; for state filled by events). */
export async function until(
  check: () => boolean,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits for a condition only a request can observe (no event exists for it), polling every 20 ms. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A raw WebSocket client speaking frames by hand, for protocol tests the `phoenix` client
 * would never produce (malformed frames, floods, never reading).
 */
export class RawClient {
  readonly frames: unknown[][] = [];
  closeCode: number | null = null;
  closeReason = '';
  readonly #ws: WebSocket;
  readonly #opened: Promise<void>;
  readonly #closed: Promise<number>;
  #ref = 0;

  constructor(url: string) {
    this.#ws = new WebSocket(url);
    this.#ws.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as unknown[]));
    this.#opened = new Promise((resolve, reject) => {
      this.#ws.once('open', () => resolve());
      this.#ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`HTTP ${res.statusCode}`)),
      );
      this.#ws.once('error', reject);
    });
    this.#closed = new Promise((resolve) => {
      this.#ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve(code);
      });
    });
    this.#ws.on('error', () => undefined);
  }

  static async connect(
    relay: { socketUrl: string },
    token: string,
    device = 'raw-device',
  ): Promise<RawClient> {
    const query = new URLSearchParams({ token, device_unique_id: device, vsn: '2.0.0' });
    const client = new RawClient(`${relay.socketUrl}/websocket?${query.toString()}`);
    await client.opened();
    return client;
  }

  opened(): Promise<void> {
    return this.#opened;
  }

  closed(): Promise<number> {
    return this.#closed;
  }

  get socket(): WebSocket {
    return this.#ws;
  }

  nextRef(): string {
    this.#ref += 1;
    return String(this.#ref);
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.#ws.send(data, { binary });
  }

  /** Sends a frame and returns its ref. */
  send(joinRef: string | null, topic: string, event: string, payload: unknown): string {
    const ref = this.nextRef();
    this.#ws.send(JSON.stringify([joinRef, ref, topic, event, payload]));
    return ref;
  }

  /** Waits for the reply to `ref`. */
  async reply(
    ref: string,
    timeoutMs = 5_000,
  ): Promise<{ status: string; response: Record<string, unknown> }> {
    const frame = await this.waitFor((f) => f[1] === ref && f[3] === 'phx_reply', timeoutMs);
    return frame[4] as { status: string; response: Record<string, unknown> };
  }

  /** Sends a frame and waits for its reply. */
  async call(
    joinRef: string | null,
    topic: string,
    event: string,
    payload: unknown,
  ): Promise<{ status: string; response: Record<string, unknown> }> {
    return this.reply(this.send(joinRef, topic, event, payload));
  }

  async join(
    topic: string,
    payload: object = {},
  ): Promise<{ joinRef: string; status: string; response: Record<string, unknown> }> {
    const joinRef = this.nextRef();
    this.#ws.send(JSON.stringify([joinRef, joinRef, topic, 'phx_join', payload]));
    const reply = await this.reply(joinRef);
    return { joinRef, ...reply };
  }

  async waitFor(predicate: (frame: unknown[]) => boolean, timeoutMs = 5_000): Promise<unknown[]> {
    let found: unknown[] | undefined;
    await until(
      () => (found = this.frames.find(predicate)) !== undefined,
      timeoutMs,
      'a matching frame',
    );
    return found as unknown[];
  }

  /** Payloads of every frame with this event, in order. */
  events<T = Record<string, unknown>>(event: string): T[] {
    return this.frames.filter((f) => f[3] === event).map((f) => f[4] as T);
  }

  close(): void {
    this.#ws.close();
  }
}
