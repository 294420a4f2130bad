/**
 * maxConnectionsPerAddress on a real relay: a refused connection gets 429 before its request is
 * read, and a request it sends anyway is never served; cluster nodes default to no per-address
 * bound. (Floods of many connections run against the CLI process in floods.hostile.test.ts.)
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, resolveOptions } from './options.js';
import {
  api,
  removeDir,
  signIn,
  startTestRelay,
  until,
  type TestRelay,
} from './testing/relay-harness.js';

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
