/**
 * The real command-line relay as a child process: SIGTERM closes sockets with 1001 and exits 0,
 * bad flags exit 2 with the usage text. Slow: every test starts `node --import tsx relay/cli/cli.ts`.
 * Durability across kill -9 is crash.hostile.test.ts (20 random kills, resume, resends).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatSummary } from '../protocol/events.js';
import { RELAY_VERSION } from '../core/version.js';
import { RawClient, api, signIn } from '../testing/relay-harness.js';
import {
  BASE_RELAY_ARGS,
  killAllRelayProcesses,
  spawnCli,
  startRelayProcess,
  untilListening,
  type Exit,
} from '../testing/relay-process.js';

/** Always runs: no child outlives its test, whether it passed or not. */
afterEach(killAllRelayProcesses);

/** A test's bound on how long stopping may take: the relay's own deadline is about 2 s. */
const STOP_BOUND_MS = 3_000;

/** Resolves once `socket` connected. */
function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', resolve).once('error', reject);
  });
}

/** One https request to the relay's self-signed certificate; its status and body. */
function httpsCall(
  url: string,
  options: { method?: string; body?: unknown; agent?: Agent } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: options.method ?? 'GET',
        // Shutdown, not TLS, is under test here; tls.hostile.test.ts pins the certificate.
        rejectUnauthorized: false,
        ...(options.agent === undefined ? {} : { agent: options.agent }),
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('process (slow)', () => {
  it('closes sockets with 1001 on SIGTERM and exits with code 0', async () => {
    const relay = await startRelayProcess(['--memory']);
    const ana = await signIn(relay, 'Ana');
    const ben = await signIn(relay, 'Ben');
    const chats = await api<{ chats: ChatSummary[] }>(relay, ana.token, 'GET', '/api/chats');
    const mainId = chats.body.chats.find((chat) => chat.is_main)?.id ?? '';
    const idle = await RawClient.connect(relay, ana.token);
    const joined = await RawClient.connect(relay, ben.token);
    expect((await joined.join(`chat:${mainId}`)).status).toBe('ok');
    const sent = await joined.call('1', `chat:${mainId}`, 'send_message', {
      content: 'last words',
      mobile_ref_id: 'bye-1',
    });
    expect(sent.status).toBe('ok');

    relay.child.kill('SIGTERM');
    expect(await idle.closed()).toBe(1001);
    expect(await joined.closed()).toBe(1001);
    expect(await relay.exited).toEqual({ code: 0, signal: null });
    expect(relay.logs.map((entry) => entry.msg)).toEqual(
      expect.arrayContaining(['stopping', 'relay closed']),
    );
    expect(relay.stderr()).toBe('');
  });

  it('stops within about 2 s on SIGTERM whatever its TLS port holds: idle TCP, a half TLS handshake, keep-alive HTTPS, a WebSocket that never answers the close', async () => {
    // Host mode (TLS): before the fix one idle TCP connection held the exit for 11 s (the TLS
    // handshake timeout), because Node's HTTP layer does not see sockets before their handshake.
    const relay = await untilListening(
      // spawnCli passes --no-mdns (relayCliArgs): nothing is advertised from a test.
      spawnCli([...BASE_RELAY_ARGS.filter((arg) => arg !== '--plain'), '--memory']),
    );
    const url = `https://127.0.0.1:${relay.port}`;
    const sockets: Socket[] = [];
    const track = <T extends Socket>(socket: T): T => {
      socket.on('error', () => {
        // Cut by the relay as it stops: expected, and the exit time is what is asserted.
      });
      sockets.push(socket);
      return socket;
    };

    const idle = track(connect(relay.port, '127.0.0.1'));
    await connected(idle);
    // A TLS record header and the start of a ClientHello, then nothing more.
    const halfHandshake = track(connect(relay.port, '127.0.0.1'));
    await connected(halfHandshake);
    halfHandshake.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03]));

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const health = await httpsCall(`${url}/healthz`, { agent });
    expect(health.status).toBe(200);
    expect(health.headers.connection).toBe('keep-alive');

    const session = await httpsCall(`${url}/api/session`, {
      method: 'POST',
      body: { name: 'Mute', device_unique_id: 'mute-1' },
    });
    expect(session.status).toBe(201);
    const { token } = JSON.parse(session.body) as { token: string };
    // A WebSocket whose peer stops reading: it never answers the relay's close frame.
    const mute = track(
      tlsConnect({ port: relay.port, host: '127.0.0.1', rejectUnauthorized: false }),
    );
    await new Promise<void>((resolve, reject) => {
      mute.once('secureConnect', resolve).once('error', reject);
    });
    mute.write(
      `GET /socket/websocket?vsn=2.0.0&token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    const switched = await new Promise<string>((resolve) => {
      mute.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1')));
    });
    expect(switched).toMatch(/^HTTP\/1\.1 101 /);
    mute.pause();

    const started = performance.now();
    relay.child.kill('SIGTERM');
    const exit = await relay.exited;
    const tookMs = Math.round(performance.now() - started);
    console.log(`SIGTERM to exit with 4 open connections: ${tookMs} ms`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(STOP_BOUND_MS);
    agent.destroy();
    for (const socket of sockets) socket.destroy();
  });

  it('exits with code 2 and one line pointing to --help for bad flags', async () => {
    const bad = [
      ['--bogus'],
      ['--prot', '4000'],
      ['--port'],
      ['stray'],
      ['--log-format', 'fancy'],
      ['--port', 'abc'],
      ['--port', '70000'],
      ['--limit', 'nope=1'],
      ['--limit', 'maxMessageChars=0'],
      ['--limit', 'maxMessageChars'],
      ['--durability', 'sometimes'],
      ['--jwt-secret', 'short'],
      ['--main-room', ''],
      ['--log-level', 'loud'],
    ];
    const check = async (flags: string[]) => {
      // --memory and port 0: a wrongly accepted flag would still not touch anything.
      const run = spawnCli(['--memory', '--port', '0', '--host', '127.0.0.1', ...flags]);
      const exit = await Promise.race([
        run.exited,
        new Promise<Exit>((resolve) =>
          // A wrongly accepted flag would start a relay that never exits: fail, do not hang.
          // Generous: a usage error exits in about a second, but a loaded machine is slow.
          setTimeout(() => resolve({ code: null, signal: null }), 60_000).unref(),
        ),
      ]);
      return { flags: flags.join(' '), exit, stderr: run.stderr() };
    };
    // Five at a time: fifteen node processes at once on a busy two-core machine took over 60 s.
    const results = [];
    for (let at = 0; at < bad.length; at += 5) {
      results.push(...(await Promise.all(bad.slice(at, at + 5).map(check))));
    }
    for (const { flags, exit, stderr } of results) {
      expect({ flags, exit }).toEqual({ flags, exit: { code: 2, signal: null } });
      // The mistake in one line, not buried above the 40-line usage.
      expect(stderr, flags).toMatch(/^parley-relay: [^\n]+; see parley-relay --help\n$/);
    }
    const typo = results.find(({ flags }) => flags === '--prot 4000');
    expect(typo?.stderr).toBe(
      'parley-relay: unknown option --prot (did you mean --port?); see parley-relay --help\n',
    );

    const help = spawnCli(['--help']);
    expect(await help.exited).toEqual({ code: 0, signal: null });
    expect(help.stdout()).toContain('Usage: parley-relay');
    const version = spawnCli(['--version']);
    expect(await version.exited).toEqual({ code: 0, signal: null });
    expect(version.stdout()).toBe(`parley-relay ${RELAY_VERSION}\n`);
    expect(version.stderr()).toBe('');
  }, 240_000);

  it('with --log-format pretty prints a start banner (URL, fingerprint, how to stop) and readable lines', async () => {
    // The format a terminal gets (auto); asked for here because the test's stdout is a pipe.
    const run = spawnCli([
      ...BASE_RELAY_ARGS.filter((arg) => arg !== '--plain'),
      '--memory',
      '--log-format',
      'pretty',
    ]);
    const banner = await new Promise<string>((resolve, reject) => {
      run.child.stdout?.on('data', () => {
        if (run.stdout().includes('Ctrl+C')) resolve(run.stdout());
      });
      void run.exited.then((exit) =>
        reject(new Error(`exited before its banner (${JSON.stringify(exit)}): ${run.stderr()}`)),
      );
    });
    const url = /Open: +(https:\/\/127\.0\.0\.1:(\d+)\/)\n/.exec(banner);
    expect(url, banner).not.toBeNull();
    const fingerprint = /^ {4}((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$/m.exec(banner)?.[1];
    expect(fingerprint, banner).toBeDefined();
    const health = await httpsCall(`${url?.[1] ?? ''}healthz`);
    expect(health.status).toBe(200);

    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    const lines = run.stdout().split('\n');
    // Every log entry is a readable line, the last one included (written before the exit).
    expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\[\d\d:\d\d:\d\d\] INFO: relay listening \{/),
        expect.stringMatching(/^\[\d\d:\d\d:\d\d\] INFO: relay closed$/),
      ]),
    );
    expect(run.stderr()).toBe('');
  });

  it('on a start-up failure prints one line for an ERR_ error and the stack for anything else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-start-failure-'));
    try {
      // An operating condition (code ERR_RELAY_OPTION): one line with the reason and the code.
      const cert = join(dir, 'not-a-cert.pem');
      writeFileSync(cert, 'not a certificate\n');
      const badCert = spawnCli([
        ...BASE_RELAY_ARGS.filter((arg) => arg !== '--plain'),
        '--memory',
        '--tls-cert',
        cert,
        '--tls-key',
        cert,
      ]);
      expect(await badCert.exited).toEqual({ code: 1, signal: null });
      const lines = badCert.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^parley-relay failed to start: .*certificate.*\(ERR_RELAY_OPTION\)$/,
      );

      // Anything else (here the port is taken: EADDRINUSE) keeps its stack for the bug report.
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      try {
        const port = String((taken.address() as AddressInfo).port);
        const busy = spawnCli(['--memory', '--plain', '--host', '127.0.0.1', '--port', port]);
        expect(await busy.exited).toEqual({ code: 1, signal: null });
        expect(busy.stderr()).toMatch(/^parley-relay failed to start: Error: listen EADDRINUSE/);
        expect(busy.stderr()).toMatch(/\n {4}at /);
      } finally {
        taken.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
