/**
 * HttpOutputGuard on a real HTTP server and real TCP clients: answers one at a time per
 * connection, too many pipelined requests close the connection, and a client that stops
 * reading is cut off once its output stalls (a short stall timeout here).
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpOutputGuard, MAX_PIPELINED_REQUESTS } from './http-output.js';
import { until } from '../testing/relay-harness.js';

const servers: Server[] = [];
const guards: HttpOutputGuard[] = [];
afterEach(async () => {
  for (const guard of guards.splice(0)) guard.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server whose answers are `bodyBytes` long, recording when each request starts and ends. */
async function serve(bodyBytes: number, stallMs = 200, maxBufferedBytes = 4 * 1024 * 1024) {
  const guard = new HttpOutputGuard({
    maxBufferedBytes,
    logger: pino({ level: 'silent' }),
    stallMs,
  });
  guards.push(guard);
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const server = createServer((req, res) =>
    guard.run(req, res, () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      log.push(`start ${req.url}`);
      // Answered later, as a database read would be: the next one must still wait for it.
      setTimeout(() => {
        res.on('finish', () => (running -= 1));
        res.end('x'.repeat(bodyBytes));
      }, 5);
    }),
  );
  servers.push(server);
  // The relay's side of each connection: when it closed.
  const closedAt: number[] = [];
  server.on('connection', (socket: Socket) => socket.on('close', () => closedAt.push(Date.now())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, log, closedAt, maxRunning: () => maxRunning };
}

function pipelined(port: number, count: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(
        Array.from({ length: count }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''),
      );
      resolve(socket);
    });
    socket.on('error', () => undefined);
  });
}

describe('HttpOutputGuard', () => {
  it('answers pipelined requests one at a time, in order', async () => {
    const server = await serve(100);
    const socket = await pipelined(server.port, 8);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    await until(() => (received.match(/HTTP\/1\.1 200/g) ?? []).length === 8, 5_000, '8 answers');
    expect(server.log).toEqual(Array.from({ length: 8 }, (_, i) => `start /${i}`));
    expect(server.maxRunning()).toBe(1);
    socket.destroy();
  });

  it(`closes a connection with more than ${MAX_PIPELINED_REQUESTS} requests waiting`, async () => {
    const server = await serve(100);
    const socket = await pipelined(server.port, MAX_PIPELINED_REQUESTS + 5);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.resume();
    await closed;
    expect(server.log.length).toBeLessThanOrEqual(1);
  });

  it('cuts off a client whose unsent output makes no progress for the stall timeout', async () => {
    // More than loopback's socket buffers take at once, under the hard cap: only the stall
    // timeout can end it.
    const server = await serve(16 * 1024 * 1024, 300, 64 * 1024 * 1024);
    const socket = await pipelined(server.port, 1);
    socket.pause();
    await until(() => server.log.length === 1, 5_000, 'the answer to start');
    const started = Date.now();
    await until(() => server.closedAt.length === 1, 5_000, 'the relay to close the connection');
    expect((server.closedAt[0] ?? 0) - started).toBeGreaterThanOrEqual(250);
    socket.destroy();
  });

  it('cuts off within a sweep (1 s) a connection whose unsent output passes maxBufferedBytes', async () => {
    const server = await serve(16 * 1024 * 1024, 60_000, 1024 * 1024);
    const socket = await pipelined(server.port, 1);
    socket.pause();
    await until(() => server.closedAt.length === 1, 5_000, 'the relay to close the connection');
    socket.destroy();
  });
});
