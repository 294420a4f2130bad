/**
 * Issue 15, item 9, against the real command-line relay (a child process): tokens that should
 * no longer work (signed out everywhere, or expired long ago), `/metrics` asked for through a
 * proxy, the web page's connect-src, and the modes of the files that hold every message.
 */
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE } from '../cli/cli-args.js';
import { api, removeDir } from '../testing/relay-harness.js';
import { startRelayProcess, type RelayProcess } from '../testing/relay-process.js';

const SECRET = 'hardening-test-secret-0123456789abcdef';
const DAY_S = 24 * 3600;

interface Session {
  token: string;
  user: { id: string; name: string };
}

/** A token signed with the relay's secret, as the relay would have issued it `ageS` ago. */
function tokenFrom(userId: string, name: string, issuedAgoS: number, lifetimeS: number) {
  const iat = Math.floor(Date.now() / 1000) - issuedAgoS;
  return new SignJWT({ name, dev: 'old-laptop' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer('parley-relay')
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetimeS)
    .sign(new TextEncoder().encode(SECRET));
}

function get(
  relay: RelayProcess,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: relay.port, path, headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A WebSocket with `token`, open; `closed` resolves its close code when the relay closes it. */
async function openSocket(
  relay: RelayProcess,
  token: string,
): Promise<{ closed: Promise<number> }> {
  const ws = new WebSocket(
    `${relay.socketUrl}/websocket?vsn=2.0.0&token=${encodeURIComponent(token)}&device_unique_id=d`,
  );
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { closed };
}

describe('tokens, metrics, CSP and file modes', () => {
  let relay: RelayProcess;
  let parent: string;
  let dataDir: string;

  beforeAll(async () => {
    parent = mkdtempSync(joinPath(tmpdir(), 'parley-hardening-'));
    // A folder the relay makes itself.
    dataDir = joinPath(parent, 'data');
    const webDir = joinPath(parent, 'web');
    mkdirSync(webDir);
    writeFileSync(joinPath(webDir, 'index.html'), '<!doctype html><title>Parley</title>');
    relay = await startRelayProcess(
      [
        ...(USAGE.includes('--no-mdns') ? ['--no-mdns'] : []),
        '--data',
        dataDir,
        '--web',
        webDir,
        '--limit',
        'sessionAttemptsPerMinute=1000',
      ],
      { env: { PARLEY_JWT_SECRET: SECRET } },
    );
  });
  afterAll(async () => {
    relay.child.kill('SIGTERM');
    await relay.exited;
    removeDir(parent);
  });

  const signIn = (name: string, bearer: string | null = null) =>
    fetch(`${relay.url}/api/session`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
      },
      body: JSON.stringify({ name, device_unique_id: 'd' }),
    }).then(async (res) => ({
      status: res.status,
      body: (await res.json()) as Session & { error?: { code: string } },
    }));

  it('signs out everywhere: every token of the user stops working and its sockets close', async () => {
    const laptop = await signIn('Revoker');
    expect(laptop.status).toBe(201);
    const phone = await signIn('Revoker', laptop.body.token);
    expect(phone.status).toBe(201);
    const other = await signIn('Bystander');
    const laptopSocket = await openSocket(relay, laptop.body.token);
    const phoneSocket = await openSocket(relay, phone.body.token);
    const bystanderSocket = new WebSocket(
      `${relay.socketUrl}/websocket?vsn=2.0.0&token=${other.body.token}&device_unique_id=b`,
    );
    await new Promise((resolve) => bystanderSocket.once('open', resolve));

    const revoked = await api(relay, phone.body.token, 'POST', '/api/tokens/revoke');
    expect(revoked).toEqual({ status: 200, body: { ok: true } });
    const codes = await Promise.all([laptopSocket.closed, phoneSocket.closed]);
    expect(codes).toEqual([4003, 4003]);
    for (const token of [laptop.body.token, phone.body.token]) {
      expect((await api(relay, token, 'GET', '/api/me')).status).toBe(401);
      // A revoked token no longer proves the name either.
      expect((await signIn('Revoker', token)).body.error?.code).toBe('name_taken');
    }
    // Other users are not affected.
    expect(bystanderSocket.readyState).toBe(WebSocket.OPEN);
    expect((await api(relay, other.body.token, 'GET', '/api/me')).status).toBe(200);
    bystanderSocket.close();
    console.log(`sign out everywhere: 2 tokens refused, 2 sockets closed with ${codes.join(', ')}`);
  });

  it('renews a token that expired lately, not one that expired long ago', async () => {
    const user = await signIn('Returner');
    expect(user.status).toBe(201);
    const id = user.body.user.id;
    // 90-day tokens: one expired 40 days ago, one yesterday.
    const ancient = await tokenFrom(id, 'Returner', 130 * DAY_S, 90 * DAY_S);
    const recent = await tokenFrom(id, 'Returner', 91 * DAY_S, 90 * DAY_S);
    const refused = await signIn('Returner', ancient);
    const renewed = await signIn('Returner', recent);
    console.log(
      `renewal: expired 40 days ago → ${refused.status} ${refused.body.error?.code ?? ''}, ` +
        `expired yesterday → ${renewed.status}`,
    );
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe('name_taken');
    expect(renewed.status).toBe(201);
    expect(renewed.body.user.id).toBe(id);
  });

  it('serves /metrics to this computer only, not through a proxy', async () => {
    expect((await get(relay, '/metrics')).status).toBe(200);
    const proxied: Record<string, string>[] = [
      { 'x-forwarded-for': '192.0.2.7' },
      { forwarded: 'for=192.0.2.7' },
      { 'x-real-ip': '192.0.2.7' },
    ];
    for (const headers of proxied) {
      const answer = await get(relay, '/metrics', headers);
      expect(answer.status, JSON.stringify(headers)).toBe(404);
      expect(answer.body).not.toContain('parley_');
    }
  });

  it('serves /metrics to anyone on --metrics-listen, and only there', async () => {
    const monitored = await startRelayProcess([
      ...(USAGE.includes('--no-mdns') ? ['--no-mdns'] : []),
      '--memory',
      '--metrics-listen',
      '127.0.0.1:0',
    ]);
    try {
      const listening = monitored.logs.find((entry) => entry.msg === 'relay listening');
      const metricsPort = Number(listening?.metricsPort);
      expect(metricsPort).toBeGreaterThan(0);
      const viaListener = await get({ ...monitored, port: metricsPort }, '/metrics', {
        'x-forwarded-for': '192.0.2.7',
      });
      expect(viaListener.status).toBe(200);
      expect(viaListener.body).toContain('parley_');
      expect((await get({ ...monitored, port: metricsPort }, '/api/me')).status).toBe(404);
      expect((await get(monitored, '/metrics', { 'x-forwarded-for': '192.0.2.7' })).status).toBe(
        404,
      );
    } finally {
      monitored.child.kill('SIGTERM');
      await monitored.exited;
    }
  });

  it('lets the page it serves connect to this relay only', async () => {
    const page = await get(relay, '/');
    expect(page.status).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    const connect = csp
      .split(';')
      .map((part) => part.trim())
      .find((part) => part.startsWith('connect-src '));
    console.log(`served ${connect}`);
    expect(connect).toBe("connect-src 'self'");
  });

  it('keeps the database files 0600 in a 0700 folder', async () => {
    // A write, so the WAL and its shared-memory file exist.
    expect((await signIn('Writer')).status).toBe(201);
    const modes = Object.fromEntries(
      ['', 'parley.db', 'parley.db-wal', 'parley.db-shm'].map((file) => [
        file === '' ? 'data/' : file,
        (statSync(joinPath(dataDir, file)).mode & 0o777).toString(8),
      ]),
    );
    console.log(`modes: ${JSON.stringify(modes)}`);
    expect(modes).toEqual({
      'data/': '700',
      'parley.db': '600',
      'parley.db-wal': '600',
      'parley.db-shm': '600',
    });
  });
});
