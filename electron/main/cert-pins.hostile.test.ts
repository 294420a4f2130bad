/**
 * Trust on first use against a real TLS relay: a Node client (pinned-request.ts) does the
 * handshake, reads the certificate's SHA-256 and lets CertPins decide. First use pins; the next
 * connection is trusted; a relay whose certificate was regenerated is refused with a warning
 * naming both fingerprints; an invite's fingerprint that does not match is refused; only the
 * explicit re-trust replaces a pin; and a corrupt pins file is survived, never fatal.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from '../../relay/index.js';
import type { CertWarning } from '../shared/bridge.js';
import { CertPins, pinKey } from './cert-pins.js';
import { INVOKE_SCHEMAS, validateArgs } from './ipc-schemas.js';
import { pinnedRequest } from './pinned-request.js';

const dirs: string[] = [];
const relays: RunningRelay[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-pins-'));
  dirs.push(dir);
  return dir;
}

function capture(): { logger: pino.Logger; lines: { level: number; msg?: string }[] } {
  const lines: { level: number; msg?: string }[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg?: string }) },
  );
  return { logger, lines };
}

async function startTlsRelay(dataDir: string, port = 0): Promise<RunningRelay> {
  const relay = await startRelay({
    host: '127.0.0.1',
    port,
    dataDir,
    tls: { mode: 'auto' },
    logger: pino({ level: 'silent' }),
  });
  relays.push(relay);
  return relay;
}

async function stop(relay: RunningRelay): Promise<void> {
  relays.splice(relays.indexOf(relay), 1);
  await relay.close();
}

afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.close();
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('certificate pins against a real TLS relay', () => {
  it('pins on first use, trusts after, and refuses a regenerated certificate until re-trusted', async () => {
    const relayDir = tempDir();
    const pinsPath = join(tempDir(), 'cert-pins.json');
    const relay = await startTlsRelay(relayDir);
    const original = relay.tlsFingerprint;
    if (original === null) throw new Error('the relay serves no certificate');
    const { logger, lines } = capture();
    const pins = new CertPins({ path: pinsPath, logger });
    const warnings: CertWarning[] = [];
    pins.onWarning((warning) => warnings.push(warning));
    const health = `${relay.url}/healthz`;

    const first = await pinnedRequest(health, pins);
    expect(first.ok && first.value.decision.kind).toBe('first-use');
    expect(first.ok && first.value.status).toBe(200);
    expect(pins.pinned('127.0.0.1', relay.port)).toBe(original);
    expect(readFileSync(pinsPath, 'utf8')).toContain(original);

    const second = await pinnedRequest(health, pins);
    expect(second.ok && second.value.decision.kind).toBe('trusted');
    // Pins survive a restart of the app.
    const reloaded = new CertPins({ path: pinsPath });
    expect((await pinnedRequest(health, reloaded)).ok).toBe(true);
    expect(reloaded.pinned('127.0.0.1', relay.port)).toBe(original);

    // The host lost its data folder's tls/: a new certificate on the same address.
    const port = relay.port;
    await stop(relay);
    rmSync(join(relayDir, 'tls'), { recursive: true, force: true });
    const regenerated = await startTlsRelay(relayDir, port);
    const fresh = regenerated.tlsFingerprint;
    if (fresh === null) throw new Error('the relay serves no certificate');
    expect(fresh).not.toBe(original);

    const refused = await pinnedRequest(health, pins);
    expect(refused).toMatchObject({ ok: false, code: 'certificate_refused' });
    if (refused.ok) throw new Error('unreachable');
    expect(refused.message).toContain(original);
    expect(refused.message).toContain(fresh);
    expect(refused.message).toMatch(/Only continue if the host confirms the new fingerprint/);
    expect(warnings).toEqual([
      expect.objectContaining({ kind: 'changed', previous: original, presented: fresh, port }),
    ]);
    expect(lines.some((line) => line.msg === 'relay certificate refused')).toBe(true);
    expect(pins.pinned('127.0.0.1', port)).toBe(original);

    // Asking again, or an mDNS record announcing the new fingerprint, changes nothing.
    pins.expect('127.0.0.1', port, fresh, 'mDNS');
    expect((await pinnedRequest(health, pins)).ok).toBe(false);
    expect(warnings).toHaveLength(1); // told once per new certificate, not per attempt
    expect(pins.pending()).toHaveLength(1);

    // Re-trust: only the exact refused fingerprint, only through the explicit call.
    expect(pins.retrust('127.0.0.1', port, original)).toMatchObject({
      ok: false,
      code: 'no_pending_change',
    });
    expect(pins.retrust('127.0.0.1', port + 1, fresh)).toMatchObject({ ok: false });
    expect(pins.retrust('127.0.0.1', port, 'nonsense')).toMatchObject({
      ok: false,
      code: 'invalid_fingerprint',
    });
    expect(pins.pinned('127.0.0.1', port)).toBe(original);
    expect(pins.retrust('127.0.0.1', port, fresh.replace(/:/g, '').toLowerCase())).toMatchObject({
      ok: true,
    });
    expect(pins.pending()).toEqual([]);
    const after = await pinnedRequest(health, pins);
    expect(after.ok && after.value.decision.kind).toBe('trusted');
    expect(new CertPins({ path: pinsPath }).pinned('127.0.0.1', port)).toBe(fresh);
  });

  it('refuses a certificate that does not match the fingerprint of an invite', async () => {
    const relay = await startTlsRelay(tempDir());
    const other = await startTlsRelay(tempDir());
    const actual = relay.tlsFingerprint ?? '';
    const wrong = other.tlsFingerprint ?? '';
    const pins = new CertPins({ path: join(tempDir(), 'cert-pins.json') });
    const warnings: CertWarning[] = [];
    pins.onWarning((warning) => warnings.push(warning));

    pins.expect('127.0.0.1', relay.port, wrong, 'the invite');
    const refused = await pinnedRequest(`${relay.url}/healthz`, pins);
    expect(refused).toMatchObject({ ok: false, code: 'certificate_refused' });
    expect(warnings[0]).toMatchObject({
      kind: 'mismatch-expected',
      previous: wrong,
      presented: actual,
    });
    expect(warnings[0]?.message).toContain(wrong);
    expect(warnings[0]?.message).toContain(actual);
    // Nothing was pinned by the refused attempt.
    expect(pins.pinned('127.0.0.1', relay.port)).toBeNull();

    // The right invite: accepted as expected, and pinned.
    pins.expect('127.0.0.1', relay.port, actual.replace(/:/g, '').toLowerCase(), 'the invite');
    const accepted = await pinnedRequest(`${relay.url}/healthz`, pins);
    expect(accepted.ok && accepted.value.decision.kind).toBe('expected');
    expect(pins.pinned('127.0.0.1', relay.port)).toBe(actual);
    // A later invite with another fingerprint cannot displace the pin.
    pins.expect('127.0.0.1', relay.port, wrong, 'another invite');
    const still = await pinnedRequest(`${relay.url}/healthz`, pins);
    expect(still.ok && still.value.decision.kind).toBe('trusted');
  });

  it('keeps a pin when a relay known by id moves to another address, and refuses an impostor using its id', async () => {
    const relay = await startTlsRelay(tempDir());
    const impostor = await startTlsRelay(tempDir());
    const relayId = 'a'.repeat(32);
    const pins = new CertPins({ path: join(tempDir(), 'cert-pins.json') });
    expect((await pinnedRequest(`${relay.url}/healthz`, pins, { relayId })).ok).toBe(true);
    // Same relay reached by another name: its pin follows its id.
    const moved = await pinnedRequest(`https://localhost:${relay.port}/healthz`, pins, { relayId });
    expect(moved.ok && moved.value.decision.kind).toBe('trusted');
    // Another relay announcing the same id: refused as a changed certificate.
    const fake = await pinnedRequest(`${impostor.url}/healthz`, pins, { relayId });
    expect(fake).toMatchObject({ ok: false, code: 'certificate_refused' });
  });
});

describe('the pins file', () => {
  it.each([
    ['not JSON', '{"version":1, "pins": [oops'],
    ['another shape', '[1, 2, 3]'],
    ['an unknown version', '{"version": 2, "pins": []}'],
  ])('treats %s as no pins, with a logged warning', (_what, text) => {
    const path = join(tempDir(), 'cert-pins.json');
    writeFileSync(path, text);
    const { logger, lines } = capture();
    const pins = new CertPins({ path, logger });
    expect(pins.pins()).toEqual([]);
    expect(lines.some((line) => line.level === 40)).toBe(true);
    // Still usable: the next pin rewrites the file whole.
    expect(pins.decide({ host: '10.0.0.5', port: 4000, presented: 'AB'.repeat(32) }).kind).toBe(
      'first-use',
    );
    expect(new CertPins({ path }).pinned('10.0.0.5', 4000)).toBe(
      Array.from({ length: 32 }, () => 'AB').join(':'),
    );
  });

  it('drops malformed entries one by one and keeps the good ones', () => {
    const path = join(tempDir(), 'cert-pins.json');
    const good = {
      host: '10.0.0.5',
      port: 4000,
      relayId: null,
      fingerprint: Array.from({ length: 32 }, () => 'CD').join(':'),
      pinnedAt: '2026-11-22T00:00:00.000Z',
    };
    const bad = [
      { ...good, port: 0 },
      { ...good, fingerprint: 'cd'.repeat(32) }, // not canonical: never written by the app
      { ...good, host: 'x'.repeat(300) },
      { ...good, extra: true },
      'string',
    ];
    writeFileSync(path, JSON.stringify({ version: 1, pins: [...bad, good] }));
    const { logger, lines } = capture();
    const pins = new CertPins({ path, logger });
    expect(pins.pins()).toEqual([good]);
    expect(lines.some((line) => /dropped 5 malformed/.test(line.msg ?? ''))).toBe(true);
    expect(pinKey('[::1]', 4000)).toBe('::1:4000');
  });

  it('validates re-trust requests from the page before they reach the pins', () => {
    const schema = INVOKE_SCHEMAS['tls:retrust'];
    const fingerprint = 'AB'.repeat(32);
    expect(validateArgs(schema, [{ host: '10.0.0.5', port: 4000, fingerprint }]).ok).toBe(true);
    for (const args of [
      [],
      [{ host: '10.0.0.5', port: 4000 }],
      [{ host: '10.0.0.5', port: 70_000, fingerprint }],
      [{ host: '', port: 4000, fingerprint }],
      [{ host: '10.0.0.5', port: 4000, fingerprint: 'AB' }],
      [{ host: '10.0.0.5', port: 4000, fingerprint, extra: 1 }],
    ]) {
      expect(validateArgs(schema, args).ok, JSON.stringify(args)).toBe(false);
    }
  });
});
