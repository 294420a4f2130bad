/**
 * The hosting controller against the real embedded relay (real SQLite in a temp folder, real
 * HTTPS with its self-signed certificate, checked the way the app checks it: cert-pins), with the
 * in-memory mDNS fake: no multicast here (see discovery.netns.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../relay/protocol/events.js';
import { instanceName, RELAY_VERSION } from '../../relay/index.js';
import type { HostingStatus } from '../shared/bridge.js';
import { CertPins } from './cert-pins.js';
import { HostingController } from './hosting-controller.js';
import { pinnedRequest } from './pinned-request.js';
import { FakeNetwork } from '../../relay/testing/fake-mdns.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function controller(network: FakeNetwork | null, transport?: 'auto' | 'plain') {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-host-'));
  const mdns = network?.mdns() ?? null;
  const hosting = new HostingController({
    dataDir,
    mdns: () => mdns,
    listenHost: '127.0.0.1',
    logger: pino({ level: 'silent' }),
    lanAddresses: () => ['10.200.0.1'],
    ...(transport === undefined ? {} : { transport }),
  });
  cleanups.push(async () => {
    await hosting.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { hosting, dataDir };
}

/** Pins in a throwaway file: the client side of the app's certificate checks. */
const pins = new CertPins({ path: join(mkdtempSync(join(tmpdir(), 'parley-pins-')), 'pins.json') });

/** fetch for http://, the app's pinned client for https:// (throws when unreachable or refused). */
async function call(
  url: string,
  init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; json(): Promise<unknown> }> {
  if (url.startsWith('http://')) return fetch(url, init);
  const result = await pinnedRequest(url, pins, init);
  if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
  const { status, body } = result.value;
  return { status, json: () => Promise.resolve(JSON.parse(body) as unknown) };
}

async function health(url: string): Promise<unknown> {
  return (await call(`${url}/healthz`)).json();
}

describe('HostingController', () => {
  it('starts the relay, advertises it with the TXT record, and stops both', async () => {
    const network = new FakeNetwork();
    const { hosting } = controller(network);
    const states: HostingStatus['state'][] = [];
    hosting.onChange((s) => states.push(s.state));

    const started = await hosting.start({ port: 0, displayName: 'Ana', passcode: 'secret' });
    expect(started.ok).toBe(true);
    const status = hosting.status();
    expect(status).toMatchObject({
      state: 'running',
      advertised: true,
      passcodeRequired: true,
      displayName: 'Ana',
    });
    expect(status.url).toBe(`https://127.0.0.1:${status.port}`);
    expect(status.lanUrls).toEqual([`https://10.200.0.1:${status.port}`]);
    expect(status.tlsFingerprint).toMatch(/^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    pins.expect('127.0.0.1', status.port ?? 0, status.tlsFingerprint ?? '', 'hosting status');
    expect(await health(status.url ?? '')).toEqual({ ok: true, version: RELAY_VERSION });
    expect(pins.pinned('127.0.0.1', status.port ?? 0)).toBe(status.tlsFingerprint);

    const [advert] = [...network.published.values()];
    expect(advert).toMatchObject({
      name: instanceName('Ana', hosting.relayId),
      port: status.port,
      txt: {
        v: String(PROTOCOL_VERSION),
        name: 'Ana',
        id: hosting.relayId,
        pc: '1',
        rv: RELAY_VERSION,
        fp: status.tlsFingerprint,
      },
    });

    // The passcode is enforced by the relay itself.
    const refused = await call(`${status.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ben', device_unique_id: 'd1' }),
    });
    expect(refused.status).toBe(401);

    await hosting.stop();
    expect(network.published.size).toBe(0);
    expect(network.goodbyes).toBe(1);
    expect(hosting.status()).toMatchObject({ state: 'stopped', url: null, advertised: false });
    await expect(call(`${status.url}/healthz`)).rejects.toThrow(/unreachable/);
    expect(states).toEqual(['starting', 'running', 'stopping', 'stopped']);
  });

  it('restarts on another port, keeping the room and the certificate (same fingerprint)', async () => {
    const network = new FakeNetwork();
    const { hosting } = controller(network);
    const first = await hosting.start({ port: 0, displayName: 'Ana' });
    if (!first.ok) throw new Error(first.message);
    const session = await call(`${first.value.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ben', device_unique_id: 'd1' }),
    });
    const { token } = (await session.json()) as { token: string };

    const free = await freePort();
    const second = await hosting.start({ port: free, displayName: 'Ana B' });
    expect(second).toMatchObject({
      ok: true,
      value: {
        port: free,
        relayId: first.value.relayId,
        tlsFingerprint: first.value.tlsFingerprint,
      },
    });
    expect(network.goodbyes).toBe(1);
    expect([...network.published.values()].map((s) => [s.port, s.txt.name])).toEqual([
      [free, 'Ana B'],
    ]);
    const me = await call(`https://127.0.0.1:${free}/api/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.status).toBe(200);
    await expect(call(`${first.value.url}/healthz`)).rejects.toThrow();
  });

  it('serves plain http/ws, announcing no fingerprint, only when asked to', async () => {
    const network = new FakeNetwork();
    const { hosting } = controller(network, 'plain');
    const result = await hosting.start({ port: 0, displayName: 'Ana' });
    if (!result.ok) throw new Error(result.message);
    expect(result.value).toMatchObject({ tlsFingerprint: null });
    expect(result.value.url).toBe(`http://127.0.0.1:${result.value.port}`);
    expect(await health(result.value.url ?? '')).toEqual({ ok: true, version: RELAY_VERSION });
    const [advert] = [...network.published.values()];
    expect(advert?.txt).not.toHaveProperty('fp');
  });

  it('reports a busy port as a value and stays stopped', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as { port: number }).port;
    const network = new FakeNetwork();
    const { hosting } = controller(network);
    const result = await hosting.start({ port, displayName: 'Ana' });
    expect(result).toMatchObject({ ok: false, code: 'port_in_use' });
    expect(hosting.status()).toMatchObject({ state: 'failed', error: { code: 'port_in_use' } });
    expect(network.published.size).toBe(0);
  });

  it('refuses bad input without starting anything', async () => {
    const { hosting } = controller(null);
    expect(await hosting.start({ port: 70_000, displayName: 'Ana' })).toMatchObject({
      ok: false,
      code: 'invalid_port',
    });
    expect(await hosting.start({ port: 0, displayName: '  ' })).toMatchObject({
      ok: false,
      code: 'invalid_name',
    });
    expect(await hosting.start({ port: 0, displayName: 'a\u0007b' })).toMatchObject({
      ok: false,
      code: 'invalid_name',
    });
    expect(hosting.status().state).toBe('stopped');
  });

  it('hosts without advertising when discovery is off', async () => {
    const { hosting } = controller(null);
    const result = await hosting.start({ port: 0, displayName: 'Ana' });
    expect(result).toMatchObject({
      ok: true,
      value: { state: 'running', advertised: false, error: null },
    });
  });

  it('keeps the relay id across controllers on the same folder', async () => {
    const { hosting, dataDir } = controller(null);
    const again = new HostingController({ dataDir, mdns: () => null });
    expect(again.relayId).toBe(hosting.relayId);
    expect(hosting.relayId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('serialises overlapping calls: stop during start leaves it stopped', async () => {
    const network = new FakeNetwork();
    const { hosting } = controller(network);
    const starting = hosting.start({ port: 0, displayName: 'Ana' });
    const stopping = hosting.stop();
    await Promise.all([starting, stopping]);
    expect(hosting.status().state).toBe('stopped');
    expect(network.published.size).toBe(0);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
