/**
 * A client that reads at about 1 MB/s resumes a room of 500 maximal messages (8,000 characters
 * of CJK text each: about 24 KB of JSON apiece, 12 MB in all) from the real command-line relay.
 * Before join replies were bounded by bytes, the reply to that join was one 12 MB frame: over
 * the client's own maxBufferedBytes (4 MiB), so the relay closed the socket with 4001, and the
 * client's rejoin got the same reply again, forever. Long CJK text reaches this with nobody
 * attacking.
 *
 * The client is a raw `ws` client behind a TCP proxy (in this process) that passes the relay's
 * bytes on at THROTTLE_BYTES_PER_S and stops reading from the relay while it holds more than a
 * little: the relay sees a client that reads at 1 MB/s. It joins with `since_seq: 0` while
 * another user keeps sending, pages the rest over HTTP through the same proxy, and gets every
 * message exactly once and in order, and is never closed.
 */
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../core/options.js';
import type { ChatJoinReply, WireMessage } from '../protocol/events.js';
import {
  api,
  createRoom,
  postMessages,
  signIn,
  until,
  type Session,
} from '../testing/relay-harness.js';
import {
  FAST_SEEDING_ARGS,
  startRelayProcessOnTempData,
  stopRelayProcess,
  type TempDataRelayProcess,
} from '../testing/relay-process.js';

const THROTTLE_BYTES_PER_S = 1024 * 1024;
const MESSAGES = 500;
const LIVE = 10;
/** What the relay answers within, under load on a shared machine; never a speed claim. */
const PATIENCE_MS = 60_000;
const CJK = '漢字仮名交じり文のテキスト、長い段落。';

/** A message of exactly maxMessageChars UTF-16 units, CJK text after its number. */
function longCjk(n: number): string {
  const head = `${n} `;
  return (
    head +
    CJK.repeat(Math.ceil(DEFAULT_LIMITS.maxMessageChars / CJK.length)).slice(
      0,
      DEFAULT_LIMITS.maxMessageChars - head.length,
    )
  );
}

/**
 * A TCP proxy to `port` that passes what the relay sends on at `bytesPerS` (in 10 ms slices)
 * and pauses its relay-side socket while it holds more than 64 KiB: backpressure reaches the
 * relay as a client reading at that rate. What the client sends goes through unthrottled.
 */
function throttlingProxy(port: number, bytesPerS: number): Promise<Server> {
  const SLICE_MS = 10;
  const perSlice = Math.ceil((bytesPerS * SLICE_MS) / 1000);
  const server = createServer((client: Socket) => {
    const relay = tcpConnect({ host: '127.0.0.1', port });
    const held: Buffer[] = [];
    let heldBytes = 0;
    let ended = false;
    const timer = setInterval(() => {
      let budget = perSlice;
      while (budget > 0 && held.length > 0) {
        const first = held[0] as Buffer;
        const piece = first.subarray(0, budget);
        if (piece.length === first.length) held.shift();
        else held[0] = first.subarray(piece.length);
        heldBytes -= piece.length;
        budget -= piece.length;
        client.write(piece);
      }
      if (heldBytes < 64 * 1024 && relay.isPaused()) relay.resume();
      if (ended && held.length === 0) {
        clearInterval(timer);
        client.end();
      }
    }, SLICE_MS);
    relay.on('data', (chunk: Buffer) => {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes >= 64 * 1024) relay.pause();
    });
    relay.on('end', () => (ended = true));
    client.pipe(relay);
    const stop = (): void => {
      clearInterval(timer);
      client.destroy();
      relay.destroy();
    };
    client.on('error', stop);
    relay.on('error', stop);
    client.on('close', stop);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** GET over a fresh connection through the proxy (so throttled too), JSON body. */
async function slowGet<T>(proxyPort: number, token: string, path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${proxyPort}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

describe('resuming a room of maximal CJK messages at 1 MB/s, against a relay process', () => {
  let relay: TempDataRelayProcess;
  let proxy: Server;
  let writer: Session;
  let reader: Session;
  let roomId: string;

  beforeAll(async () => {
    relay = await startRelayProcessOnTempData('resume-bytes', FAST_SEEDING_ARGS);
    writer = await signIn(relay, 'Writer');
    reader = await signIn(relay, 'Reader');
    roomId = await createRoom(relay, writer.token, 'long reads', 'private');
    await api(relay, writer.token, 'POST', `/api/chats/${roomId}/members`, {
      user_id: reader.user.id,
    });
    await postMessages(relay, writer.token, roomId, MESSAGES, (n) => ({
      content: longCjk(n),
      mobile_ref_id: `long-${n}`,
    }));
    proxy = await throttlingProxy(relay.port, THROTTLE_BYTES_PER_S);
  }, 120_000);

  afterAll(async () => {
    proxy?.close();
    try {
      expect(relay.logs.filter((line) => (line.level as number) >= 50)).toEqual([]);
    } finally {
      await stopRelayProcess(relay);
    }
  }, 60_000);

  it('the join reply stays under the byte bound; HTTP pages the rest; every message once, in order; never closed', async () => {
    const proxyPort = (proxy.address() as { port: number }).port;
    const topic = `chat:${roomId}`;
    const params = new URLSearchParams({
      vsn: '2.0.0',
      token: reader.token,
      device_unique_id: 'slow-reader',
    });
    const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/socket/websocket?${params.toString()}`);
    let closeCode: number | null = null;
    const closed = new Promise<number>((resolve) =>
      ws.on('close', (code) => {
        closeCode = code;
        resolve(code);
      }),
    );
    let replyBytes = 0;
    let reply: ChatJoinReply | null = null;
    const live: WireMessage[] = [];
    ws.on('message', (data) => {
      const text = String(data);
      const [, ref, frameTopic, event, payload] = JSON.parse(text) as [
        string | null,
        string | null,
        string,
        string,
        { status?: string; response?: unknown },
      ];
      if (frameTopic !== topic) return;
      if (event === 'phx_reply' && ref === '1') {
        replyBytes = Buffer.byteLength(text);
        expect(payload.status).toBe('ok');
        reply = payload.response as ChatJoinReply;
      } else if (event === 'receive_message') {
        live.push(payload as WireMessage);
      }
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const started = Date.now();
    ws.send(JSON.stringify(['1', '1', topic, 'phx_join', { since_seq: 0 }]));
    // The room stays busy while the reader resumes: short messages, delivered live.
    for (let n = 1; n <= LIVE; n += 1) {
      const sent = await api(relay, writer.token, 'POST', `/api/chats/${roomId}/messages`, {
        content: `live ${n}`,
        mobile_ref_id: `live-${n}`,
      });
      expect(sent.status).toBe(201);
    }
    await until(() => reply !== null || closeCode !== null, PATIENCE_MS, 'the join reply');
    expect(closeCode).toBeNull();
    const joined = reply as unknown as ChatJoinReply;
    expect(replyBytes).toBeLessThanOrEqual(DEFAULT_LIMITS.maxPageBytes + 64 * 1024);
    expect(replyBytes).toBeLessThan(DEFAULT_LIMITS.maxBufferedBytes);
    expect(joined.has_more).toBe(true);

    // Paged over HTTP up to the reply's last_seq; what comes after it arrives live.
    const resumed = [...joined.messages];
    let pages = 0;
    while ((resumed.at(-1)?.seq ?? 0) < joined.last_seq) {
      const page = await slowGet<{ messages: WireMessage[]; has_more: boolean }>(
        proxyPort,
        reader.token,
        `/api/chats/${roomId}/messages?limit=500&after_seq=${resumed.at(-1)?.seq ?? 0}`,
      );
      pages += 1;
      expect(page.messages.length).toBeGreaterThan(0);
      resumed.push(...page.messages.filter((message) => message.seq <= joined.last_seq));
    }
    const total = MESSAGES + LIVE;
    await until(
      () => joined.last_seq + live.length >= total || closeCode !== null,
      PATIENCE_MS,
      'the live messages',
    );
    const elapsedS = (Date.now() - started) / 1000;
    console.info(
      `[resume-bytes] join reply ${(replyBytes / 1024).toFixed(0)} KiB with ${joined.messages.length} messages (has_more, last_seq ${joined.last_seq}); ${pages} HTTP pages; ${live.length} live; ${total} messages in ${elapsedS.toFixed(1)} s through a ${THROTTLE_BYTES_PER_S / 1024 / 1024} MB/s reader`,
    );
    expect(closeCode).toBeNull();
    const everything = [...resumed, ...live];
    expect(everything.map((message) => message.seq)).toEqual(
      Array.from({ length: total }, (_, i) => i + 1),
    );
    // The seeding sent 25 at a time, so seqs follow commit order, not the numbers in the refs.
    expect(new Set(everything.map((message) => message.mobile_ref_id))).toEqual(
      new Set([
        ...Array.from({ length: MESSAGES }, (_, i) => `long-${i + 1}`),
        ...Array.from({ length: LIVE }, (_, i) => `live-${i + 1}`),
      ]),
    );
    expect(
      everything
        .filter((message) => message.mobile_ref_id.startsWith('live-'))
        .map((message) => message.content),
    ).toEqual(Array.from({ length: LIVE }, (_, i) => `live ${i + 1}`));
    for (const message of everything.filter((m) => m.mobile_ref_id.startsWith('long-'))) {
      expect(message.content).toBe(longCjk(Number(message.mobile_ref_id.slice('long-'.length))));
    }
    // Still open and answering after all that.
    ws.send(JSON.stringify([null, '2', 'phoenix', 'heartbeat', {}]));
    ws.close(1000);
    expect(await closed).toBe(1000);
  }, 180_000);
});
