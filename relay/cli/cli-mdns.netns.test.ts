/**
 * The CLI host's mDNS advertisement for real, inside network namespaces this test creates
 * (PLATFORM.md; relay/testing/netns.ts): the real CLI (`node --import tsx relay/cli/cli.ts`) runs in
 * one namespace; in another, the relay's own browser (mdns.ts, which the desktop app's discovery
 * uses) and Debian's `mdns-scan`, a standard mDNS client that needs no daemon. Nothing multicasts
 * on the machine's real interfaces. Skips, saying why, only without root or `ip` (and the
 * mdns-scan case without mdns-scan); the namespaces are deleted afterwards, also on failure.
 */
import type { ChildProcess, ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { advertTxt, cliDisplayName, instanceName } from '../discovery/mdns-advert.js';
import type { MdnsService } from '../discovery/mdns.js';
import { endChild, jsonLines, type Lines } from '../testing/child-lines.js';
import {
  createNetns,
  listNetns,
  netnsSkipReason,
  type Namespace,
  type Netns,
  type NetnsOptions,
} from '../testing/netns.js';
import { cleanEnv, relayCliArgs, type RelayCliArgsOptions } from '../testing/relay-process.js';
import { RELAY_VERSION } from '../core/version.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BROWSE = fileURLToPath(new URL('../testing/mdns-browse.ts', import.meta.url));
const MDNS_SCAN = '/usr/bin/mdns-scan';
const WAIT_MS = 15_000;
/** A CLI start compiles the relay with tsx: about 5 s, far more on a machine busy with other suites. */
const START_WAIT_MS = 45_000;
/**
 * How long a relay started with --no-mdns is watched for an advertisement that must not come. An
 * absence has no event to await; the relay announces within about a second when it does.
 */
const SILENCE_MS = 3_000;
const FINGERPRINT = /^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/;

const skipReason = netnsSkipReason();
if (skipReason !== null) console.warn(`cli-mdns.netns.test.ts skipped: ${skipReason}`);
const scanSkipReason =
  skipReason ??
  (existsSync(MDNS_SCAN)
    ? null
    : `needs ${MDNS_SCAN} (apt-get install mdns-scan; .ci/run installs it)`);
if (skipReason === null && scanSkipReason !== null) {
  console.warn(`cli-mdns.netns.test.ts: the mdns-scan case is skipped: ${scanSkipReason}`);
}

type BrowseLine =
  | { event: 'browsing' | 'updated' }
  | { event: 'up' | 'down'; service: MdnsService }
  | { event: 'error'; message: string };

/** The pino lines of the CLI that these tests read. */
interface LogLine {
  level: number;
  msg: string;
  port?: number;
  tlsFingerprint?: string | null;
  mdns?: { name: string; type: string; port: number; txt: Record<string, string> };
  err?: { message?: string };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function namespaces(count: number, options?: NetnsOptions): Netns {
  const netns = createNetns(count, options);
  const prefix = netns.namespaces[0]?.name.slice(0, -2) ?? 'none';
  cleanups.push(() => {
    netns.destroy();
    expect(listNetns(prefix)).toEqual([]);
  });
  return netns;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cli-mdns-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function track<T extends ChildProcess>(child: T): T {
  cleanups.push(() => endChild(child));
  return child;
}

/** The relay's own browser, in `ns`. */
async function browse(netns: Netns, ns: Namespace) {
  const child = track(netns.spawnNode(ns, BROWSE, {}));
  const lines = jsonLines<BrowseLine>(child);
  await lines.waitFor((l) => l.event === 'browsing', WAIT_MS, 'the browser to start');
  return { child, lines };
}

/** The real CLI in `ns`, serving https on 0.0.0.0:4000 from a fresh data folder. */
async function startCli(
  netns: Netns,
  ns: Namespace,
  mdns: RelayCliArgsOptions['mdns'],
): Promise<{
  child: ChildProcessWithoutNullStreams;
  lines: Lines<LogLine> & { stderr(): string };
  dataDir: string;
  fingerprint: string;
}> {
  const dataDir = tempDir();
  const args = ['--host', '0.0.0.0', '--port', '4000', '--data', dataDir];
  const child = track(
    netns.spawn(ns, process.execPath, relayCliArgs(args, { mdns }), {
      cwd: REPO_ROOT,
      env: cleanEnv(),
    }),
  );
  const lines = jsonLines<LogLine>(child);
  const listening = await lines.waitFor(
    (l) => l.msg === 'relay listening',
    START_WAIT_MS,
    'the relay to listen',
  );
  expect(listening.tlsFingerprint).toMatch(FINGERPRINT);
  return { child, lines, dataDir, fingerprint: listening.tlsFingerprint ?? '' };
}

/** What the CLI in `dataDir` advertises: its instance name and TXT record. */
function expectedAdvert(dataDir: string, fingerprint: string) {
  const relayId = readFileSync(join(dataDir, 'relay-id'), 'utf8').trim();
  const displayName = cliDisplayName();
  return {
    relayId,
    name: instanceName(displayName, relayId),
    txt: advertTxt({ displayName, relayId, passcodeRequired: false, tlsFingerprint: fingerprint }),
  };
}

/** A child's output as lines (stdout and stderr; `\r` ends a line too, as mdns-scan uses it). */
function textLines(child: ChildProcessWithoutNullStreams) {
  const all: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  let raw = '';
  const onData = (chunk: string): void => {
    raw += chunk;
    const parts = (partial + chunk).split(/[\r\n]/);
    partial = parts.pop() ?? '';
    all.push(...parts.map((part) => part.trim()).filter((part) => part.length > 0));
    for (const wake of [...waiters]) wake();
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  return {
    all,
    /** Everything written so far, as written. */
    raw: () => raw,
    waitFor: (match: (line: string) => boolean, what: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', exited);
        };
        const check = (): void => {
          const found = all.find(match);
          if (found === undefined) return;
          done();
          resolve(found);
        };
        const exited = (): void => {
          done();
          reject(new Error(`exited while waiting for ${what}: ${all.join(' | ')}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`timed out after ${WAIT_MS} ms waiting for ${what}: ${all.join(' | ')}`),
          );
        }, WAIT_MS);
        waiters.add(check);
        child.once('exit', exited);
        check();
      }),
  };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

// Each CLI start compiles the relay with tsx: about 5 s on a busy two-core machine.
describe(
  'the CLI host advertises its room by mDNS (network namespaces)',
  { timeout: 60_000 },
  () => {
    it('is found by the relay’s own browser with the desktop’s TXT record (fp included), and says goodbye on SIGTERM', async (ctx) => {
      if (skipReason !== null) return ctx.skip(skipReason);
      const netns = namespaces(2);
      const [hostNs, guestNs] = netns.namespaces as [Namespace, Namespace];
      const guest = await browse(netns, guestNs);

      const host = await startCli(netns, hostNs, 'inside-test-network-namespace');
      const expected = expectedAdvert(host.dataDir, host.fingerprint);
      const logged = await host.lines.waitFor(
        (l) => l.mdns !== undefined,
        WAIT_MS,
        'the advertising line',
      );
      expect(logged.mdns).toEqual({
        name: expected.name,
        type: '_parley._tcp',
        port: 4000,
        txt: expected.txt,
      });

      const up = await guest.lines.waitFor((l) => l.event === 'up', WAIT_MS, 'the room to appear');
      if (up.event !== 'up') throw new Error('unreachable');
      expect(up.service).toMatchObject({
        name: expected.name,
        fqdn: `${expected.name}._parley._tcp.local`,
        port: 4000,
      });
      expect(up.service.txt).toEqual(expected.txt);
      // The fingerprint crossed the network: the one the relay printed, which clients pin.
      expect(up.service.txt.fp).toBe(host.fingerprint);
      expect(up.service.txt.id).toBe(expected.relayId);
      expect([...up.service.addresses, up.service.refererAddress]).toContain(hostNs.address);

      // SIGTERM: goodbye packets (TTL 0) first, then the relay closes and the process exits 0.
      // bonjour-service's browser reports `down` only for a goodbye (it never expires records on
      // its own), so seeing it proves the goodbye arrived; TTLs would keep the room for minutes.
      const beforeStop = guest.lines.all.length;
      const exited = exitOf(host.child);
      const stoppedAt = performance.now();
      host.child.kill('SIGTERM');
      const down = await guest.lines.waitFor(
        (l) => l.event === 'down',
        WAIT_MS,
        'the goodbye',
        beforeStop,
      );
      const goodbyeMs = Math.round(performance.now() - stoppedAt);
      if (down.event !== 'down') throw new Error('unreachable');
      expect(down.service.fqdn).toBe(up.service.fqdn);
      expect(await exited).toBe(0);
      const exitMs = Math.round(performance.now() - stoppedAt);
      const messages = host.lines.all.map((l) => l.msg);
      expect(messages).toContain('mDNS advertisement withdrawn (goodbye sent)');
      expect(messages.indexOf('mDNS advertisement withdrawn (goodbye sent)')).toBeGreaterThan(
        messages.indexOf('stopping'),
      );
      console.info(`goodbye seen ${goodbyeMs} ms after SIGTERM; the CLI exited after ${exitMs} ms`);
    });

    it('is listed by a standard mDNS client (mdns-scan, no daemon)', async (ctx) => {
      if (scanSkipReason !== null) return ctx.skip(scanSkipReason);
      const netns = namespaces(2);
      const [hostNs, guestNs] = netns.namespaces as [Namespace, Namespace];
      const scan = textLines(track(netns.spawn(guestNs, MDNS_SCAN, [])));

      const host = await startCli(netns, hostNs, 'inside-test-network-namespace');
      const expected = expectedAdvert(host.dataDir, host.fingerprint);
      // mdns-scan prints each instance it finds (the PTR records under _services._dns-sd._udp) as
      // "+ <instance>.<type>.local".
      const line = await scan.waitFor((l) => l.startsWith('+ '), 'mdns-scan to list the room');
      expect(line).toBe(`+ ${expected.name}._parley._tcp.local`);
    });

    it('advertises nothing with --no-mdns, while a relay beside it without the flag is found', async (ctx) => {
      if (skipReason !== null) return ctx.skip(skipReason);
      // Three namespaces on one bridge: the relay with --no-mdns, the guest, and a control relay
      // without it, started together, so the guest's browser demonstrably works on this network.
      const netns = namespaces(3);
      const [silentNs, guestNs, loudNs] = netns.namespaces as [Namespace, Namespace, Namespace];
      const guest = await browse(netns, guestNs);
      const scan =
        scanSkipReason === null ? textLines(track(netns.spawn(guestNs, MDNS_SCAN, []))) : null;

      const [silent, loud] = await Promise.all([
        startCli(netns, silentNs, 'off'),
        startCli(netns, loudNs, 'inside-test-network-namespace'),
      ]);
      await guest.lines.waitFor(
        (l) => l.event === 'up' && l.service.txt.fp === loud.fingerprint,
        WAIT_MS,
        'the control relay to appear',
      );
      const from = guest.lines.all.length;
      guest.child.stdin.write('update\n');
      await guest.lines.waitFor((l) => l.event === 'updated', WAIT_MS, 'a fresh query', from);
      await delay(SILENCE_MS);

      const seen = guest.lines.all.flatMap((l) => (l.event === 'up' ? [l.service] : []));
      expect(seen.length).toBeGreaterThan(0);
      for (const service of seen) {
        expect(service.txt.fp).toBe(loud.fingerprint);
        expect([...service.addresses, service.refererAddress]).not.toContain(silentNs.address);
      }
      expect(silent.lines.all.filter((l) => /mDNS/.test(l.msg))).toEqual([]);
      if (scan !== null) {
        const loudName = expectedAdvert(loud.dataDir, loud.fingerprint).name;
        await scan.waitFor((l) => l.startsWith('+ '), 'mdns-scan to list the control relay');
        expect(scan.all.filter((l) => l.includes('_parley._tcp'))).toEqual([
          `+ ${loudName}._parley._tcp.local`,
        ]);
      }
    });

    it('warns and keeps serving when the network has no route for multicast', async (ctx) => {
      if (skipReason !== null) return ctx.skip(skipReason);
      const netns = namespaces(2, { multicastRoute: false });
      const [hostNs, guestNs] = netns.namespaces as [Namespace, Namespace];

      const host = await startCli(netns, hostNs, 'inside-test-network-namespace');
      const warning = await host.lines.waitFor(
        (l) => l.level === 40 && l.msg.startsWith('mDNS advertisement failed'),
        WAIT_MS,
        'the warning',
      );
      expect(warning.err?.message).toMatch(/no route to 224\.0\.0\.251/);

      // Still serving, by address: /healthz from the other namespace over the veth.
      const probe = netns.spawn(guestNs, process.execPath, [
        '-e',
        `require('node:https').get({ host: '${hostNs.address}', port: 4000, path: '/healthz',
         rejectUnauthorized: false }, (res) => res.pipe(process.stdout))
         .on('error', (error) => { console.error(error.message); process.exit(1); });`,
      ]);
      const body = textLines(track(probe));
      const probeExit = exitOf(probe);
      expect(await probeExit).toBe(0);
      expect(JSON.parse(body.raw())).toMatchObject({ ok: true, version: RELAY_VERSION });

      const exited = exitOf(host.child);
      host.child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(host.lines.all.filter((l) => l.level >= 50)).toEqual([]);
    });
  },
);
