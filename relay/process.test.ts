/**
 * The real command-line relay as a child process: SIGTERM closes sockets with 1001 and exits 0,
 * bad flags exit 2 with the usage text. Slow: every test starts `node --import tsx relay/cli.ts`.
 * Durability across kill -9 is crash.hostile.test.ts (20 random kills, resume, resends).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatSummary } from './protocol/events.js';
import { RawClient, api, signIn } from './testing/relay-harness.js';
import {
  BASE_RELAY_ARGS,
  killAllRelayProcesses,
  spawnCli,
  startRelayProcess,
  type Exit,
} from './testing/relay-process.js';

/** Always runs: no child outlives its test, whether it passed or not. */
afterEach(killAllRelayProcesses);

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

  it('exits with code 2 and prints the usage for bad flags', async () => {
    const bad = [
      ['--bogus'],
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
    const results = await Promise.all(
      bad.map(async (flags) => {
        // --memory and port 0: a wrongly accepted flag would still not touch anything.
        const run = spawnCli(['--memory', '--port', '0', '--host', '127.0.0.1', ...flags]);
        const exit = await Promise.race([
          run.exited,
          new Promise<Exit>((resolve) =>
            setTimeout(() => resolve({ code: null, signal: null }), 20_000).unref(),
          ),
        ]);
        return { flags: flags.join(' '), exit, stderr: run.stderr() };
      }),
    );
    for (const { flags, exit, stderr } of results) {
      expect({ flags, exit }).toEqual({ flags, exit: { code: 2, signal: null } });
      expect(stderr, flags).toContain('Usage: parley-relay');
    }

    const help = spawnCli(['--help']);
    expect(await help.exited).toEqual({ code: 0, signal: null });
    expect(help.stdout()).toContain('Usage: parley-relay');
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
