import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Connection } from './connection.js';
import { DEFAULT_LIMITS } from '../core/options.js';
import { frameWriter, PreparedFrame, SplicedFrame } from './prepared-frame.js';
import { generateSelfSigned } from '../node/tls.js';
import { until } from '../testing/relay-harness.js';

/** Generous: the machine running the tests may be busy. */
const WAIT_MS = 20_000;
const waitFor = (check: () => boolean): Promise<void> => until(check, WAIT_MS);

/**
 * Prepared frames are written around `ws` (prepared-frame.ts): a real `ws` client must parse
 * them, in order with the frames `ws` writes itself (text, ping, pong, close), and `ws.send` must
 * take over whenever writing around it would be wrong (deflate, a busy Sender, a closing socket).
 */

/** One accepted server-side socket, with the TCP socket under it. */
interface Accepted {
  ws: WebSocket;
  socket: Duplex;
}

/** A real client and what it received, in order: text messages and control frames. */
interface Peer {
  client: WebSocket;
  server: Accepted;
  events: string[];
}

const servers: Server[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function connect(
  options: { deflate?: boolean; tls?: { certPem: string; keyPem: string } } = {},
): Promise<Peer> {
  const deflate = options.deflate ?? false;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: deflate });
  const { tls } = options;
  const server =
    tls === undefined ? createServer() : createTlsServer({ cert: tls.certPem, key: tls.keyPem });
  servers.push(server);
  const accepted = new Promise<Accepted>((resolve) => {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      wss.handleUpgrade(request, socket, head, (ws) => resolve({ ws, socket }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new WebSocket(`${tls === undefined ? 'ws' : 'wss'}://127.0.0.1:${port}/`, {
    perMessageDeflate: deflate,
    ...(tls === undefined ? {} : { ca: tls.certPem }),
  });
  clients.push(client);
  const events: string[] = [];
  client.on('message', (data, isBinary) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    events.push(`${isBinary ? 'binary' : 'text'}:${bytes.toString('utf8')}`);
  });
  client.on('ping', (data) => events.push(`ping:${data.toString()}`));
  client.on('pong', (data) => events.push(`pong:${data.toString()}`));
  client.on('close', (code) => events.push(`close:${code}`));
  client.on('error', (error) => events.push(`error:${error.message}`));
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  return { client, server: await accepted, events };
}

function connectionOf(server: Accepted): Connection {
  return new Connection({
    id: 'c1',
    socket: server.ws,
    transport: server.socket,
    user: { id: 'u1', name: 'Ana', created_at: new Date(0).toISOString() },
    deviceId: 'd1',
    language: 'en',
    remoteAddress: '127.0.0.1',
    limits: DEFAULT_LIMITS,
    logger: pino({ level: 'silent' }),
  });
}

describe('PreparedFrame', () => {
  it('frames text as one unmasked, final text frame with the shortest length encoding', () => {
    const cases: [number, number[]][] = [
      [0, [0x81, 0]],
      [125, [0x81, 125]],
      [126, [0x81, 126, 0, 126]],
      [65_535, [0x81, 126, 0xff, 0xff]],
      [65_536, [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
      [70_000, [0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]],
    ];
    for (const [length, header] of cases) {
      const text = 'x'.repeat(length);
      const frame = new PreparedFrame(text);
      expect([...frame.wire.subarray(0, header.length)]).toEqual(header);
      expect(frame.wire.length).toBe(header.length + length);
      expect(frame.payload.toString('utf8')).toBe(text);
    }
  });

  it('counts UTF-8 bytes, not UTF-16 units, in the length', () => {
    const text = 'é✓😀'; // 2 + 3 + 4 bytes
    const frame = new PreparedFrame(text);
    expect([...frame.wire.subarray(0, 2)]).toEqual([0x81, 9]);
    expect(frame.payload.toString('utf8')).toBe(text);
  });
});

describe('writing prepared frames around ws', () => {
  it('reaches a real ws client intact, in order with ws.send frames, at every length', async () => {
    const peer = await connect();
    const writer = frameWriter(peer.server.ws, peer.server.socket);
    expect(writer).not.toBeNull();
    const texts = ['["a"]', 'é✓😀', 'y'.repeat(126), 'z'.repeat(70_000), ''];
    const expected: string[] = [];
    for (const [i, text] of texts.entries()) {
      expect(writer?.write(new PreparedFrame(text))).toBe(true);
      peer.server.ws.send(`via ws ${i}`);
      expected.push(`text:${text}`, `text:via ws ${i}`);
    }
    await waitFor(() => peer.events.length >= expected.length);
    expect(peer.events).toEqual(expected);
  });

  it('goes through Connection.send as one chunk per frame, batched and counted in bufferedAmount', async () => {
    const peer = await connect();
    const connection = connectionOf(peer.server);
    const frames = Array.from({ length: 50 }, (_, i) => new PreparedFrame(`["m",${i}]`));
    const writes: number[] = [];
    const write = peer.server.socket.write.bind(peer.server.socket);
    peer.server.socket.write = ((chunk: Buffer, ...rest: never[]) => {
      writes.push(chunk.length);
      return write(chunk, ...rest);
    }) as typeof peer.server.socket.write;
    for (const frame of frames) expect(connection.send(frame)).toBe(true);
    // Corked until this task ends: every byte is still counted as queued for the peer.
    const wireBytes = frames.reduce((sum, frame) => sum + frame.wire.length, 0);
    expect(peer.server.ws.bufferedAmount).toBe(wireBytes);
    expect(writes).toEqual(frames.map((frame) => frame.wire.length));
    await waitFor(() => peer.events.length >= frames.length);
    expect(peer.events).toEqual(frames.map((_, i) => `text:["m",${i}]`));
  });

  it('keeps frames valid and ordered around ws pings, pongs and its close frame', async () => {
    const peer = await connect();
    const connection = connectionOf(peer.server);
    let pingsSeen = 0;
    peer.server.ws.on('ping', () => (pingsSeen += 1));
    // The client's pings are answered by ws's auto-pong between the server's prepared frames.
    for (let i = 0; i < 3; i += 1) peer.client.ping(`c${i}`);
    const expected: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      connection.send(new PreparedFrame(`["m",${i}]`));
      expected.push(`text:["m",${i}]`);
      if (i % 5 === 0) {
        // A server ping (written by ws's Sender) between prepared frames of the same batch.
        peer.server.ws.ping(`p${i}`);
        expected.push(`ping:p${i}`);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => pingsSeen >= 3);
    connection.send(new PreparedFrame('last'));
    connection.close(4001, 'slow_consumer');
    expected.push('text:last', 'close:4001');
    await waitFor(() => peer.events.includes('close:4001'));
    expect(peer.events.filter((event) => !event.startsWith('pong:'))).toEqual(expected);
    expect(peer.events.filter((event) => event.startsWith('pong:'))).toEqual([
      'pong:c0',
      'pong:c1',
      'pong:c2',
    ]);
  });

  it('writes nothing after ws answered a close: ws.send takes over and drops it', async () => {
    const peer = await connect();
    const connection = connectionOf(peer.server);
    const writer = frameWriter(peer.server.ws, peer.server.socket);
    connection.send(new PreparedFrame('before'));
    await waitFor(() => peer.events.includes('text:before'));
    peer.client.close(1000, 'bye');
    await waitFor(() => peer.server.ws.readyState !== WebSocket.OPEN);
    expect(writer?.write(new PreparedFrame('after'))).toBe(false);
    // Connection.send does not know yet (the socket server marks it closed on 'close').
    connection.send(new PreparedFrame('after'));
    await waitFor(() => peer.events.includes('close:1000'));
    expect(peer.events).toEqual(['text:before', 'close:1000']);
  });

  it('waits behind frames the ws Sender still holds (a Blob being read)', async () => {
    const peer = await connect();
    const connection = connectionOf(peer.server);
    const writer = frameWriter(peer.server.ws, peer.server.socket);
    peer.server.ws.send(new Blob(['from a blob']));
    // The Sender is reading the Blob: writing around it now would overtake it.
    expect(writer?.write(new PreparedFrame('overtaking'))).toBe(false);
    connection.send(new PreparedFrame('after the blob'));
    await waitFor(() => peer.events.length >= 2);
    expect(peer.events).toEqual(['binary:from a blob', 'text:after the blob']);
    // Idle again: the fast path is back.
    expect(writer?.write(new PreparedFrame('direct'))).toBe(true);
    await waitFor(() => peer.events.length >= 3);
    expect(peer.events[2]).toBe('text:direct');
  });

  it('waits while ws is between the fragments of a message', async () => {
    const peer = await connect();
    const writer = frameWriter(peer.server.ws, peer.server.socket);
    peer.server.ws.send('first half, ', { fin: false });
    expect(writer?.write(new PreparedFrame('inside a fragmented message'))).toBe(false);
    peer.server.ws.send('second half', { fin: true });
    expect(writer?.write(new PreparedFrame('after it'))).toBe(true);
    await waitFor(() => peer.events.length >= 2);
    expect(peer.events).toEqual(['text:first half, second half', 'text:after it']);
  });

  it('is never used with permessage-deflate: frames go through ws.send, compressed', async () => {
    const peer = await connect({ deflate: true });
    expect(peer.server.ws.extensions).toBe('permessage-deflate');
    expect(frameWriter(peer.server.ws, peer.server.socket)).toBeNull();
    const connection = connectionOf(peer.server);
    const big = 'w'.repeat(5_000);
    connection.send(new PreparedFrame('small'));
    connection.send(new PreparedFrame(big));
    connection.send('a string');
    await waitFor(() => peer.events.length >= 3);
    expect(peer.events).toEqual(['text:small', `text:${big}`, 'text:a string']);
  });

  it('writes through TLS too (host mode: the socket under ws is a tls.TLSSocket)', async () => {
    const tls = await generateSelfSigned({ dns: ['localhost'], ips: ['127.0.0.1'] });
    const peer = await connect({ tls });
    expect(peer.server.socket.constructor.name).toBe('TLSSocket');
    expect(frameWriter(peer.server.ws, peer.server.socket)).not.toBeNull();
    const connection = connectionOf(peer.server);
    const texts = ['["a"]', 'é✓😀', 'z'.repeat(70_000)];
    for (const text of texts) connection.send(new PreparedFrame(text));
    connection.send('a string');
    peer.server.ws.ping('p');
    connection.send(new PreparedFrame('last'));
    await waitFor(() => peer.events.length >= 6);
    expect(peer.events).toEqual([
      ...texts.map((text) => `text:${text}`),
      'text:a string',
      'ping:p',
      'text:last',
    ]);
  });

  it('writes spliced frames (a shared middle) intact at every length, in order, and through ws.send with deflate', async () => {
    const cases = [
      ['[1,', '"é✓"', ']'],
      ['[', 'y'.repeat(200), ']'],
      ['["a",', `"${'z'.repeat(70_000)}"`, ']'],
      ['', '', ''],
    ] as const;
    for (const deflate of [false, true]) {
      const peer = await connect({ deflate });
      const connection = connectionOf(peer.server);
      const shared = cases.map(([, middle]) => Buffer.from(middle));
      const expected: string[] = [];
      for (const [i, [prefix, middle, suffix]] of cases.entries()) {
        connection.send(new SplicedFrame(prefix, shared[i] as Buffer, suffix));
        connection.send(new PreparedFrame(`after ${i}`));
        expected.push(`text:${prefix}${middle}${suffix}`, `text:after ${i}`);
      }
      await waitFor(() => peer.events.length >= expected.length);
      expect(peer.events).toEqual(expected);
    }
  });

  it('shares the middle of a spliced frame: the same bytes, not a copy, for every recipient', () => {
    const shared = Buffer.from('{"u1":{"metas":[]}}');
    const one = new SplicedFrame('[1,', shared, ']');
    const two = new SplicedFrame('[22,', shared, ']');
    expect(one.chunks[1]).toBe(shared);
    expect(two.chunks[1]).toBe(shared);
    expect(Buffer.concat(one.chunks).subarray(2).toString()).toBe('[1,{"u1":{"metas":[]}}]');
    expect(one.payload.toString()).toBe('[1,{"u1":{"metas":[]}}]');
  });

  it('is not used for a socket that is not the one ws writes to', async () => {
    const peer = await connect();
    const other = await connect();
    expect(frameWriter(peer.server.ws, other.server.socket)).toBeNull();
  });
});
