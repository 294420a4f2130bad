/**
 * maxConnectionsPerAddress on a real relay: a refused connection gets 429 before its request is
 * read, and a request it sends anyway is never served; cluster nodes default to no per-address
 * bound. maxSockets caps every open socket whatever its address. Behind a trusted proxy
 * (trustProxy) the forwarded client address is the one limited and logged; without it,
 * X-Forwarded-For changes nothing. (Floods of many connections run against the CLI process in
 * floods.hostile.test.ts.)
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_LIMITS, resolveOptions } from '../core/options.js';
import { capturingLogger } from '../testing/canary.js';
import {
  api,
  removeDir,
  signIn,
  startTestRelay,
  until,
  type TestRelay,
} from '../testing/relay-harness.js';

describe('maxConnectionsPerAddress', () => {
  const MAX = 3;
  const FROM = '127.0.0.2';
  let relay: TestRelay;

  beforeAll(async () => {
    relay = await startTestRelay({ limits: { maxConnectionsPerAddress: MAX } });
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  /** From 127.0.0.2 (still loopback): the harness's own HTTP calls from 127.0.0.1 do not count. */
  function open(): Promise<{ socket: Socket; received: () => string }> {
    const socket = connect({ host: '127.0.0.1', port: relay.port, localAddress: FROM });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    return new Promise((resolve) =>
      socket.once('connect', () => resolve({ socket, received: () => received })),
    );
  }

  it('answers the connection over the limit with 429 and never serves its request', async () => {
    const first = await signIn(relay, 'Counter');
    const before = await api<{ users: unknown[] }>(relay, first.token, 'GET', '/api/users');
    const held = [await open(), await open(), await open()];
    const refused = await open();
    const body = JSON.stringify({ name: 'Sneaky', device_unique_id: 'sneaky' });
    refused.socket.write(
      `POST /api/session HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    await until(() => refused.socket.destroyed, 5_000, 'the refused socket to close');
    expect(refused.received()).toMatch(/^HTTP\/1\.1 429 rate_limited\r\n/);
    expect(refused.received()).toContain('"code":"rate_limited"');
    expect(refused.received().match(/HTTP\/1\.1/g)).toHaveLength(1);

    // Closing one frees a slot (once the relay has seen it close).
    held[0]?.socket.destroy();
    let status = '';
    for (let attempt = 0; attempt < 50 && !status.startsWith('HTTP/1.1 200'); attempt += 1) {
      const probe = await open();
      probe.socket.write('GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n');
      await until(() => probe.socket.destroyed, 5_000, 'the probe to be answered');
      status = probe.received().split('\r\n')[0] ?? '';
    }
    expect(status).toBe('HTTP/1.1 200 OK');
    for (const { socket } of held) socket.destroy();
    const after = await api<{ users: { name: string }[] }>(relay, first.token, 'GET', '/api/users');
    expect(after.body.users).toHaveLength(before.body.users.length);
    expect(after.body.users.map((user) => user.name)).not.toContain('Sneaky');
  });
});

describe('maxConnectionsPerAddress defaults', () => {
  it('is 256 on a single relay and maxConnections on a cluster node unless set', () => {
    expect(resolveOptions().limits.maxConnectionsPerAddress).toBe(256);
    const cluster = { databaseUrl: 'postgres://h/db', redisUrl: 'redis://r:6379' };
    expect(resolveOptions(cluster).limits.maxConnectionsPerAddress).toBe(
      DEFAULT_LIMITS.maxConnections,
    );
    expect(
      resolveOptions({ ...cluster, limits: { maxConnectionsPerAddress: 64 } }).limits
        .maxConnectionsPerAddress,
    ).toBe(64);
  });
});

/** A raw TCP connection from `from` (a loopback address) with what it received. */
function openFrom(
  port: number,
  from: string,
): Promise<{ socket: Socket; received: () => string; closed: () => boolean }> {
  const socket = connect({ host: '127.0.0.1', port, localAddress: from });
  let received = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  return new Promise((resolve) =>
    socket.once('connect', () =>
      resolve({ socket, received: () => received, closed: () => closed }),
    ),
  );
}

describe('maxSockets', () => {
  it('defaults to maxConnections + 1024 and follows maxConnections unless set', () => {
    expect(resolveOptions().limits.maxSockets).toBe(DEFAULT_LIMITS.maxConnections + 1_024);
    expect(resolveOptions({ limits: { maxConnections: 10 } }).limits.maxSockets).toBe(1_034);
    expect(resolveOptions({ limits: { maxSockets: 7 } }).limits.maxSockets).toBe(7);
  });

  it('closes sockets beyond maxSockets at once, whatever their addresses, and takes new ones when some close', async () => {
    const relay = await startTestRelay({ limits: { maxSockets: 4 } });
    try {
      // Four silent connections from four addresses: under every per-address bound.
      const held = await Promise.all(
        ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].map((from) =>
          openFrom(relay.port, from),
        ),
      );
      const extra = await openFrom(relay.port, '127.0.0.6');
      await until(() => extra.closed(), 5_000, 'the socket over maxSockets to be closed');
      expect(extra.received()).toBe('');
      expect(held.every((tcp) => !tcp.closed())).toBe(true);

      held[0]?.socket.destroy();
      let status = '';
      for (let attempt = 0; attempt < 50 && !status.startsWith('HTTP/1.1 200'); attempt += 1) {
        const probe = await openFrom(relay.port, '127.0.0.7');
        probe.socket.write('GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n');
        await until(() => probe.closed(), 5_000, 'the probe to be answered or closed');
        status = probe.received().split('\r\n')[0] ?? '';
      }
      expect(status).toBe('HTTP/1.1 200 OK');
      for (const { socket } of held) socket.destroy();
    } finally {
      await relay.close();
      removeDir(relay.dataDir);
    }
  });
});

describe('trustProxy', () => {
  /** One sign-in from 127.0.0.1 claiming to forward for `forwardedFor`. */
  async function signInVia(relay: TestRelay, name: string, forwardedFor: string): Promise<number> {
    const res = await fetch(`${relay.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: JSON.stringify({ name, device_unique_id: 'proxy-test' }),
    });
    await res.arrayBuffer();
    return res.status;
  }

  /** A WebSocket upgrade from 127.0.0.1 forwarded for `forwardedFor`: its status or 'open'. */
  function upgradeVia(
    relay: TestRelay,
    token: string,
    forwardedFor: string,
  ): Promise<{ result: number | 'open'; ws: WebSocket }> {
    const query = new URLSearchParams({ token, device_unique_id: forwardedFor, vsn: '2.0.0' });
    const ws = new WebSocket(`${relay.socketUrl}/websocket?${query.toString()}`, {
      headers: { 'X-Forwarded-For': `198.51.100.99, ${forwardedFor}` },
    });
    ws.on('error', () => undefined);
    return new Promise((resolve) => {
      ws.once('open', () => resolve({ result: 'open', ws }));
      ws.once('unexpected-response', (_req, res) => resolve({ result: res.statusCode ?? 0, ws }));
    });
  }

  it('off (the default) or from an untrusted peer: X-Forwarded-For changes nothing', async () => {
    for (const trustProxy of [null, ['10.9.9.9']] as const) {
      const relay = await startTestRelay({
        trustProxy,
        limits: { sessionAttemptsPerMinute: 2 },
      });
      try {
        expect(await signInVia(relay, 'One', '203.0.113.1')).toBe(201);
        expect(await signInVia(relay, 'Two', '203.0.113.2')).toBe(201);
        // Every attempt came from 127.0.0.1, whatever the header said: one bucket, now empty.
        expect(await signInVia(relay, 'Three', '203.0.113.3')).toBe(429);
      } finally {
        await relay.close();
        removeDir(relay.dataDir);
      }
    }
  });

  it('behind a trusted proxy: sign-in limits, per-address connection limits and logs use the forwarded client', async () => {
    const { logger, lines } = capturingLogger();
    const relay = await startTestRelay({
      logger,
      trustProxy: 'loopback',
      limits: { sessionAttemptsPerMinute: 2, maxConnectionsPerAddress: 2 },
    });
    const sockets: WebSocket[] = [];
    try {
      expect(await signInVia(relay, 'One', '203.0.113.1')).toBe(201);
      expect(await signInVia(relay, 'Two', '203.0.113.1')).toBe(201);
      expect(await signInVia(relay, 'Three', '203.0.113.1')).toBe(429);
      // Another client behind the same proxy has its own bucket.
      expect(await signInVia(relay, 'Four', '203.0.113.2')).toBe(201);

      const user = (await (
        await fetch(`${relay.url}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.50' },
          body: JSON.stringify({ name: 'Sockets', device_unique_id: 'proxy-test' }),
        })
      ).json()) as { token: string };
      // The proxy's own address is not limited (more than 2 connections from 127.0.0.1); each
      // forwarded client is.
      for (let n = 0; n < 2; n += 1) {
        const opened = await upgradeVia(relay, user.token, '203.0.113.7');
        sockets.push(opened.ws);
        expect(opened.result).toBe('open');
      }
      const third = await upgradeVia(relay, user.token, '203.0.113.7');
      sockets.push(third.ws);
      expect(third.result).toBe(429);
      const other = await upgradeVia(relay, user.token, '203.0.113.8');
      sockets.push(other.ws);
      expect(other.result).toBe('open');

      const connected = lines
        .filter((line) => line.msg === 'connected')
        .map((line) => line.address);
      expect(connected).toEqual(['203.0.113.7', '203.0.113.7', '203.0.113.8']);
    } finally {
      for (const ws of sockets) ws.terminate();
      await relay.close();
      removeDir(relay.dataDir);
    }
  });
});
