/**
 * TLS in host mode, against real relays: https and wss work for a client that pins the relay's
 * certificate; the certificate (and so its fingerprint) survives restarts; the port serves no
 * plaintext at all; a broken certificate file is replaced loudly, never silently; a bad operator
 * certificate is refused before anything starts; and the real CLI serves TLS by default, prints
 * the fingerprint, and serves plain ws only with `--plain`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Socket } from 'phoenix';
import WebSocket from 'ws';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ChatSummary, WireMessage } from '../protocol/events.js';
import { join as joinChannel, push, removeDir, until } from '../testing/relay-harness.js';
import { relayCliArgs } from '../testing/relay-process.js';
import { startRelay, type RunningRelay } from './relay.js';
import { resolveOptions } from '../core/options.js';
import {
  CERT_FILE,
  generateSelfSigned,
  KEY_FILE,
  TLS_DIR_NAME,
  TLS_HANDSHAKE_TIMEOUT_MS,
} from './tls.js';
import { connect as tcpConnect } from 'node:net';
import { normalizeFingerprint } from './tls-fingerprint.js';
import { pino } from 'pino';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FINGERPRINT_FORMAT = /^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/;
const dirs: string[] = [];
const relays: RunningRelay[] = [];
const children = new Set<ChildProcess>();

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-tls-'));
  dirs.push(dir);
  return dir;
}

async function start(
  dataDir: string | null,
  tls: RunningRelay['options']['tls'] = { mode: 'auto' },
) {
  const relay = await startRelay({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    tls,
    logger: pino({ level: 'silent' }),
  });
  relays.push(relay);
  return relay;
}

afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.close();
  for (const child of children) child.kill('SIGKILL');
});

afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

interface HttpsAnswer {
  status: number;
  body: string;
  /** SHA-256 of the certificate the server presented, `AB:12:…`. */
  peerFingerprint: string;
}

/**
 * One https request that trusts exactly `ca` (the pinned certificate): the chain must be that
 * certificate and its names must cover 127.0.0.1.
 */
function pinnedRequest(
  url: string,
  ca: string,
  options: { method?: string; body?: unknown; token?: string } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const req = httpsRequest(url, { method: options.method ?? 'GET', ca, headers }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerX509Certificate();
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, peerFingerprint: peer?.fingerprint256 ?? '' }),
      );
    });
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

/** A plaintext request to the port; resolves with the error (or the status, which is a failure). */
function plainRequest(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(url, (res) => {
      res.resume();
      resolve(`HTTP ${res.statusCode ?? 0}`);
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** The official `phoenix` client over wss, trusting exactly the pinned certificate. */
function pinnedPhoenix(socketUrl: string, ca: string, token: string, device: string): Socket {
  class PinnedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { ca });
    }
  }
  const socket = new Socket(socketUrl, {
    params: { token, device_unique_id: device, preferred_language: 'EN' },
    transport: PinnedWebSocket as unknown as typeof globalThis.WebSocket,
    reconnectAfterMs: () => 50,
    timeout: 5_000,
  });
  socket.connect();
  return socket;
}

function certOnDisk(dataDir: string): string {
  return readFileSync(join(dataDir, TLS_DIR_NAME, CERT_FILE), 'utf8');
}

describe('relay with tls auto', () => {
  it('serves the API over https and the socket over wss to a client pinning its certificate', async () => {
    const dataDir = tempDir();
    const relay = await start(dataDir);
    expect(relay.url).toBe(`https://127.0.0.1:${relay.port}`);
    expect(relay.socketUrl).toBe(`wss://127.0.0.1:${relay.port}/socket`);
    expect(relay.tlsFingerprint).toMatch(FINGERPRINT_FORMAT);
    const ca = certOnDisk(dataDir);
    expect(new X509Certificate(ca).fingerprint256).toBe(relay.tlsFingerprint);
    // The certificate names loopback (and this machine), so a pinned client needs no exceptions.
    expect(new X509Certificate(ca).subjectAltName).toContain('IP Address:127.0.0.1');

    const health = await pinnedRequest(`${relay.url}/healthz`, ca);
    expect(health.status).toBe(200);
    expect(health.peerFingerprint).toBe(relay.tlsFingerprint);

    const sessions = await Promise.all(
      ['Ana', 'Ben'].map(async (name) => {
        const res = await pinnedRequest(`${relay.url}/api/session`, ca, {
          method: 'POST',
          body: { name, device_unique_id: `device-${name}` },
        });
        expect(res.status).toBe(201);
        return JSON.parse(res.body) as { token: string };
      }),
    );
    const [ana, ben] = sessions;
    if (ana === undefined || ben === undefined) throw new Error('two sessions expected');
    const chats = await pinnedRequest(`${relay.url}/api/chats`, ca, { token: ana.token });
    const main = (JSON.parse(chats.body) as { chats: ChatSummary[] }).chats.find((c) => c.is_main);
    if (main === undefined) throw new Error('no main room');

    const anaSocket = pinnedPhoenix(relay.socketUrl, ca, ana.token, 'ana-1');
    const benSocket = pinnedPhoenix(relay.socketUrl, ca, ben.token, 'ben-1');
    try {
      const anaChannel = anaSocket.channel(`chat:${main.id}`, {});
      const benChannel = benSocket.channel(`chat:${main.id}`, {});
      const received: WireMessage[] = [];
      benChannel.on('receive_message', (message: WireMessage) => {
        received.push(message);
      });
      expect((await joinChannel(anaChannel, 10_000)).status).toBe('ok');
      expect((await joinChannel(benChannel, 10_000)).status).toBe('ok');
      const sent = await push(anaChannel, 'send_message', {
        content: 'over wss',
        mobile_ref_id: 'tls-1',
      });
      expect(sent.status).toBe('ok');
      await until(() => received.length > 0, 10_000, 'the message over wss');
      expect(received[0]?.content).toBe('over wss');
    } finally {
      anaSocket.disconnect();
      benSocket.disconnect();
    }
  });

  it('refuses a client that does not trust the certificate (no silent downgrade)', async () => {
    const relay = await start(tempDir());
    const other = await generateSelfSigned();
    await expect(pinnedRequest(`${relay.url}/healthz`, other.certPem)).rejects.toThrow();
    const ws = new WebSocket(`${relay.socketUrl}/websocket?vsn=2.0.0`, { ca: other.certPem });
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(outcome).not.toBe('open');
  });

  it('keeps the certificate across restarts, with the key readable only by its owner', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    const fingerprint = first.tlsFingerprint;
    const certBefore = certOnDisk(dataDir);
    await first.close();
    relays.splice(relays.indexOf(first), 1);

    const second = await start(dataDir);
    expect(second.tlsFingerprint).toBe(fingerprint);
    expect(certOnDisk(dataDir)).toBe(certBefore);
    const served = await pinnedRequest(`${second.url}/healthz`, certBefore);
    expect(served.peerFingerprint).toBe(fingerprint);

    expect(statSync(join(dataDir, TLS_DIR_NAME, KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, TLS_DIR_NAME)).mode & 0o077).toBe(0);
  });

  it('serves nothing in plaintext: http:// and ws:// to the TLS port fail', async () => {
    const relay = await start(tempDir());
    const plainUrl = `http://127.0.0.1:${relay.port}`;
    for (const path of ['/healthz', '/api/session', '/']) {
      expect(await plainRequest(`${plainUrl}${path}`)).not.toMatch(/^HTTP /);
    }
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/socket/websocket?vsn=2.0.0`);
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('unexpected-response', () => resolve('http response'));
      ws.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(outcome).not.toBe('open');
    expect(outcome).not.toBe('http response');
    // The relay is unharmed by the garbage handshakes.
    expect(
      (await pinnedRequest(`${relay.url}/healthz`, certOnDisk(relay.options.dataDir ?? ''))).status,
    ).toBe(200);
  });

  it('replaces an unreadable certificate loudly and keeps the broken files', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    const old = first.tlsFingerprint;
    await first.close();
    relays.splice(relays.indexOf(first), 1);
    writeFileSync(join(dataDir, TLS_DIR_NAME, CERT_FILE), 'not a certificate');

    const lines: { level: number; msg?: unknown }[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as { level: number }) },
    );
    const second = await startRelay({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      tls: { mode: 'auto' },
      logger,
    });
    relays.push(second);
    expect(second.tlsFingerprint).toMatch(FINGERPRINT_FORMAT);
    expect(second.tlsFingerprint).not.toBe(old);
    expect(lines.some((line) => line.level === 40 && /unreadable/.test(String(line.msg)))).toBe(
      true,
    );
    const kept = readdirSync(join(dataDir, TLS_DIR_NAME)).filter((name) =>
      name.includes('.unreadable-'),
    );
    expect(kept).toHaveLength(2);
  });

  it('generates a fresh certificate per run without a data folder', async () => {
    const a = await start(null);
    const b = await start(null);
    expect(a.tlsFingerprint).toMatch(FINGERPRINT_FORMAT);
    expect(b.tlsFingerprint).not.toBe(a.tlsFingerprint);
  });

  it("serves the operator's certificate, and refuses a key that does not match it", async () => {
    const given = await generateSelfSigned({ dns: ['chat.example.test'], ips: ['127.0.0.1'] });
    const relay = await start(null, given);
    expect(relay.tlsFingerprint).toBe(new X509Certificate(given.certPem).fingerprint256);
    expect((await pinnedRequest(`${relay.url}/healthz`, given.certPem)).status).toBe(200);

    const other = await generateSelfSigned();
    await expect(
      start(null, { certPem: given.certPem, keyPem: other.keyPem }),
    ).rejects.toMatchObject({ code: 'ERR_RELAY_OPTION', option: 'tls' });
    await expect(start(null, { certPem: 'garbage', keyPem: other.keyPem })).rejects.toMatchObject({
      code: 'ERR_RELAY_OPTION',
    });
  });

  it('cuts a connection that never finishes the TLS handshake', async () => {
    const relay = await start(null);
    const socket = tcpConnect(relay.port, '127.0.0.1');
    socket.on('error', () => undefined); // a reset is one way of being cut
    // Half a ClientHello, then silence: the relay must not hold the socket for Node's 120 s.
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    const closed = await new Promise<boolean>((resolve) => {
      socket.once('close', () => resolve(true));
      setTimeout(() => resolve(false), TLS_HANDSHAKE_TIMEOUT_MS * 4).unref();
    });
    expect(closed).toBe(true);
  }, 60_000);

  it('refuses a malformed tls option before anything starts', () => {
    for (const tls of [
      { mode: 'manual' },
      { certPem: '', keyPem: 'k' },
      { certPem: 'c' },
      { mode: 'auto', certPem: 'c', keyPem: 'k' },
      'auto',
    ]) {
      expect(() => resolveOptions({ tls: tls as never }), JSON.stringify(tls)).toThrow(
        /invalid relay option tls/,
      );
    }
    expect(resolveOptions({}).tls).toBeNull();
  });

  it('normalises fingerprints to one format and rejects look-alikes', () => {
    const canonical = Array.from({ length: 32 }, (_, i) =>
      (i * 7 + 16).toString(16).toUpperCase().padStart(2, '0'),
    ).join(':');
    expect(normalizeFingerprint(canonical)).toBe(canonical);
    expect(normalizeFingerprint(canonical.toLowerCase())).toBe(canonical);
    expect(normalizeFingerprint(canonical.replace(/:/g, ''))).toBe(canonical);
    for (const bad of [
      canonical.slice(3), // 31 bytes
      `${canonical}:00`, // 33 bytes
      canonical.replace('1', 'G'),
      `A:${canonical.slice(2).replace(/:/g, '')}`,
      '',
    ]) {
      expect(normalizeFingerprint(bad), bad).toBeNull();
    }
  });
});

interface CliRelay {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  listening: Record<string, unknown>;
}

/** The real CLI (`node --import tsx relay/cli/cli.ts`), resolved once it logs "relay listening". */
function startCli(args: string[]): Promise<CliRelay> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('PARLEY_')),
  );
  const child = spawn(
    process.execPath,
    relayCliArgs(['--port', '0', '--host', '127.0.0.1', ...args]),
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    if (child.stdout === null) throw new Error('no stdout pipe');
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'relay listening') resolve({ child, logs, listening: entry });
    });
    child.once('exit', (code) => reject(new Error(`relay exited with ${String(code)}: ${stderr}`)));
  });
}

async function stopCli(relay: CliRelay): Promise<void> {
  const exited = new Promise((resolve) => relay.child.once('exit', resolve));
  relay.child.kill('SIGTERM');
  await exited;
}

describe('the CLI in host mode', () => {
  it('serves https/wss by default and prints the fingerprint of the kept certificate', async () => {
    const dataDir = tempDir();
    const relay = await startCli(['--data', dataDir]);
    try {
      const { url, tlsFingerprint, port } = relay.listening;
      expect(url).toBe(`https://127.0.0.1:${String(port)}`);
      expect(tlsFingerprint).toBe(new X509Certificate(certOnDisk(dataDir)).fingerprint256);
      await until(
        () => relay.logs.some((entry) => String(entry.msg).includes(String(tlsFingerprint))),
        10_000,
        'the line showing the fingerprint',
      );
      expect(statSync(join(dataDir, TLS_DIR_NAME, KEY_FILE)).mode & 0o777).toBe(0o600);
      expect(await plainRequest(`http://127.0.0.1:${String(port)}/healthz`)).not.toMatch(/^HTTP /);
      const served = await pinnedRequest(`${String(url)}/healthz`, certOnDisk(dataDir));
      expect(served.status).toBe(200);
    } finally {
      await stopCli(relay);
    }
  });

  it('serves plain http/ws only with --plain, and warns about it', async () => {
    const relay = await startCli(['--memory', '--plain']);
    try {
      const { url, tlsFingerprint, port } = relay.listening;
      expect(url).toBe(`http://127.0.0.1:${String(port)}`);
      expect(tlsFingerprint).toBeNull();
      expect(
        relay.logs.some((entry) => entry.level === 40 && /--plain/.test(String(entry.msg))),
      ).toBe(true);
      expect(await plainRequest(`${String(url)}/healthz`)).toBe('HTTP 200');
      const ws = new WebSocket(`ws://127.0.0.1:${String(port)}/socket/websocket?vsn=2.0.0`);
      // Reaching the relay's own upgrade check (403, no token) proves ws:// is served.
      const status = await new Promise<number>((resolve) => {
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('error', () => resolve(0));
      });
      expect(status).toBe(403);
    } finally {
      await stopCli(relay);
    }
  });
});
