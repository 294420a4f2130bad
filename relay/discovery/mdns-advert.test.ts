/**
 * The room's advertisement: the one TXT record (desktop and CLI), instance names, and the CLI's
 * advertise/withdraw lifecycle against the in-memory mDNS fake (no multicast here: the real thing
 * is tested in network namespaces, cli-mdns.netns.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Mdns } from './mdns.js';
import {
  advertiseRelay,
  advertTxt,
  cliDisplayName,
  instanceName,
  isLoopbackHost,
  WITHDRAW_TIMEOUT_MS,
  type AdvertiseRelayOptions,
  type RelayAdvertisement,
} from './mdns-advert.js';
import { PROTOCOL_VERSION } from '../protocol/events.js';
import { FakeNetwork } from '../testing/fake-mdns.js';
import { RELAY_VERSION } from '../core/version.js';

const FINGERPRINT = Array.from({ length: 32 }, () => 'AB').join(':');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-advert-'));
  dirs.push(dir);
  return dir;
}

/** A pino logger whose lines land in `lines`. */
function capture(): { logger: AdvertiseRelayOptions['logger']; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

/**
 * advertiseRelay with a port-4000 plain relay on every interface, no data folder and no passcode,
 * unless `options` say otherwise; `createMdns` is always the test's (never real multicast).
 */
function advertise(
  options: Partial<AdvertiseRelayOptions> & Pick<AdvertiseRelayOptions, 'logger' | 'createMdns'>,
): RelayAdvertisement {
  return advertiseRelay({
    relay: { port: 4000, tlsFingerprint: null },
    listenHost: '0.0.0.0',
    dataDir: null,
    passcodeRequired: false,
    ...options,
  });
}

describe('the TXT record', () => {
  it('carries version, name, id, passcode flag, relay version and the certificate fingerprint', () => {
    const room = {
      displayName: 'Ana',
      relayId: 'ab'.repeat(16),
      passcodeRequired: true,
      tlsFingerprint: FINGERPRINT,
    };
    expect(advertTxt(room)).toEqual({
      v: String(PROTOCOL_VERSION),
      name: 'Ana',
      id: 'ab'.repeat(16),
      pc: '1',
      rv: RELAY_VERSION,
      fp: FINGERPRINT,
    });
    // Plain http/ws: no fingerprint at all (a browser then connects with http://).
    const plain = advertTxt({ ...room, passcodeRequired: false, tlsFingerprint: null });
    expect(plain).not.toHaveProperty('fp');
    expect(plain.pc).toBe('0');
  });

  it('cuts instance names to one DNS label', () => {
    const name = instanceName('x'.repeat(100), 'abcd'.repeat(8));
    expect(new TextEncoder().encode(name).length).toBeLessThanOrEqual(63);
    expect(name.endsWith(' (abcd)')).toBe(true);
    expect(instanceName('a.b', 'ffff0000')).toBe('a b (ffff)');
  });

  it('knows loopback hosts, and names the CLI host after the machine', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.200.0.1', '192.168.1.20']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
    const name = cliDisplayName();
    expect(name.length).toBeGreaterThan(0);
    expect(name.length).toBeLessThanOrEqual(64);
    expect([...name].every((ch) => ch >= ' ' && ch !== '\u007f')).toBe(true);
  });
});

describe('advertiseRelay (the CLI host)', () => {
  it('advertises the running relay with the shared TXT record, and withdraws it with a goodbye', async () => {
    const network = new FakeNetwork();
    const mdns = network.mdns('10.200.0.1');
    const { logger, lines } = capture();
    const dataDir = tempDir();
    const advert = advertise({
      relay: { port: 4000, tlsFingerprint: FINGERPRINT },
      dataDir,
      logger,
      displayName: 'build-box',
      createMdns: () => mdns,
    });
    expect(await advert.published).toBe(true);

    // The relay id is kept beside the database, as the desktop app keeps its own.
    const relayId = readFileSync(join(dataDir, 'relay-id'), 'utf8').trim();
    expect(relayId).toMatch(/^[0-9a-f]{32}$/);
    const [service] = [...network.published.values()];
    expect(service).toMatchObject({
      name: instanceName('build-box', relayId),
      port: 4000,
      txt: advertTxt({
        displayName: 'build-box',
        relayId,
        passcodeRequired: false,
        tlsFingerprint: FINGERPRINT,
      }),
    });
    expect(lines.find((line) => line.mdns !== undefined)).toMatchObject({
      level: 30,
      mdns: { name: instanceName('build-box', relayId), type: '_parley._tcp', port: 4000 },
    });

    await advert.withdraw();
    expect(network.goodbyes).toBe(1);
    expect(network.published.size).toBe(0);
    expect(mdns.destroyed).toBe(true);
    // Twice is once.
    await advert.withdraw();
    expect(network.goodbyes).toBe(1);

    // The next run advertises under the same id.
    const again = advertise({
      relay: { port: 4001, tlsFingerprint: null },
      listenHost: '10.200.0.1',
      dataDir,
      passcodeRequired: true,
      logger,
      createMdns: () => network.mdns('10.200.0.1'),
    });
    expect(await again.published).toBe(true);
    expect([...network.published.values()][0]?.txt).toMatchObject({ id: relayId, pc: '1' });
    await again.withdraw();
  });

  it('makes up an id for a relay without a data folder (--memory)', async () => {
    const network = new FakeNetwork();
    const advert = advertise({
      logger: capture().logger,
      createMdns: () => network.mdns(),
    });
    expect(await advert.published).toBe(true);
    expect([...network.published.values()][0]?.txt.id).toMatch(/^[0-9a-f]{32}$/);
    await advert.withdraw();
  });

  it('does not advertise a relay that listens on loopback only (nobody else could reach it)', async () => {
    let created = 0;
    const { logger, lines } = capture();
    const advert = advertise({
      listenHost: '127.0.0.1',
      logger,
      createMdns: () => {
        created += 1;
        return new FakeNetwork().mdns();
      },
    });
    expect(await advert.published).toBe(false);
    expect(created).toBe(0);
    expect(lines.map((line) => line.msg)).toContain(
      'not advertising by mDNS: the relay listens on loopback only',
    );
    await advert.withdraw();
  });

  it('turns every mDNS failure into a warning, never a rejection', async () => {
    const cases: [string, () => Mdns][] = [
      [
        'no socket',
        () => {
          throw new Error('bind EADDRINUSE 0.0.0.0:5353');
        },
      ],
      [
        'publish refused',
        () => ({
          ...new FakeNetwork().mdns(),
          publish: () => Promise.reject(new Error('no route to 224.0.0.251')),
        }),
      ],
    ];
    for (const [what, createMdns] of cases) {
      const { logger, lines } = capture();
      const advert = advertise({ logger, createMdns });
      expect(await advert.published, what).toBe(false);
      const warning = lines.find((line) => line.level === 40);
      expect(warning?.msg, what).toMatch(/^mDNS advertisement failed/);
      expect(JSON.stringify(warning?.err), what).toMatch(/EADDRINUSE|no route/);
      await expect(advert.withdraw()).resolves.toBeUndefined();
    }
  });

  it('logs socket errors instead of throwing them', async () => {
    const network = new FakeNetwork();
    const { logger, lines } = capture();
    const advert = advertise({
      logger,
      createMdns: (onError) => {
        onError(new Error('send ENETUNREACH 224.0.0.251:5353'));
        return network.mdns();
      },
    });
    expect(await advert.published).toBe(true);
    expect(lines.find((line) => line.msg === 'mDNS socket error')).toMatchObject({ level: 40 });
    await advert.withdraw();
  });

  it('gives up on the goodbye after WITHDRAW_TIMEOUT_MS, so stopping stays quick', async () => {
    const { logger, lines } = capture();
    const stuck: Mdns = {
      ...new FakeNetwork().mdns(),
      // An announcement that never completes (its probe answered by nobody, forever).
      publish: () => new Promise(() => undefined),
    };
    const advert = advertise({
      logger,
      createMdns: () => stuck,
    });
    const started = performance.now();
    await advert.withdraw();
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(WITHDRAW_TIMEOUT_MS - 5);
    expect(lines.find((line) => line.level === 40)?.msg).toMatch(/goodbye did not go out in time/);
  });
});
