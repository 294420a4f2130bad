/**
 * Certificate pins of LAN relays (trust on first use). A hosted relay serves a self-signed
 * certificate no CA vouches for, so the app remembers, per relay, the SHA-256 fingerprint it saw
 * first (or the one an mDNS TXT record or a `parley://` invite announced) and from then on
 * accepts only that certificate. A different one is refused with a warning naming both
 * fingerprints; only an explicit re-trust by the user (after the host confirms the new
 * fingerprint) replaces a pin. Every decision lives here, under plain Node; main.ts only feeds
 * Electron's certificate checks into it.
 *
 * Pins are keyed by `host:port`, and by relay id when discovery told it (so a host whose address
 * changed keeps its pin). They live in a JSON file in the user-data folder, validated on load:
 * a corrupt file counts as empty (logged), never as a crash.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { z } from 'zod';
import { normalizeFingerprint } from '../../relay/index.js';
import type { CertWarning } from '../shared/bridge.js';
import { fail, ok, type Result } from '../shared/result.js';
import { readJsonFile, writeJsonFile } from './json-file.js';

/** Pins kept at most; beyond, the oldest is forgotten first. */
export const MAX_PINS = 1_000;
/** Expected fingerprints (from discovery and invites) kept at most, in memory. */
export const MAX_EXPECTED = 1_000;
const RELAY_ID = /^[0-9a-f]{32}$/;
const FINGERPRINT = /^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/;

export type PinDecisionKind =
  'trusted' | 'expected' | 'first-use' | 'changed' | 'mismatch-expected';

export type PinDecision =
  /** The presented certificate is the pinned one. */
  | { kind: 'trusted'; fingerprint: string }
  /** No pin yet; it matches the fingerprint announced by discovery or an invite: now pinned. */
  | { kind: 'expected'; fingerprint: string }
  /** No pin and nothing announced: trusted on first use, now pinned. */
  | { kind: 'first-use'; fingerprint: string }
  /** A pin exists and the certificate differs: refused until the user re-trusts. */
  | { kind: 'changed'; pinned: string; presented: string; warning: CertWarning }
  /** No pin, but the announced fingerprint differs: refused. */
  | { kind: 'mismatch-expected'; expected: string; presented: string; warning: CertWarning };

/** The decisions under which the connection goes ahead. */
export function isAccepted(decision: PinDecision): boolean {
  return (
    decision.kind === 'trusted' || decision.kind === 'expected' || decision.kind === 'first-use'
  );
}

const pinSchema = z.strictObject({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65_535),
  relayId: z.string().regex(RELAY_ID).nullable(),
  fingerprint: z.string().regex(FINGERPRINT),
  pinnedAt: z.string().max(40),
});
export type Pin = z.infer<typeof pinSchema>;

const fileSchema = z.strictObject({ version: z.literal(1), pins: z.array(z.unknown()) });

export interface CertPinsOptions {
  /** The pins file, e.g. `<userData>/cert-pins.json`. */
  path: string;
  logger?: Logger;
  now?: () => Date;
}

export interface DecideInput {
  host: string;
  port: number;
  /** The certificate's SHA-256, any spelling normalizeFingerprint accepts. */
  presented: string;
  /** The relay id, when discovery told it. */
  relayId?: string | null;
  /** An announced fingerprint for this connection; defaults to what expect() recorded. */
  expected?: string | null;
}

interface Expected {
  fingerprint: string;
  source: string;
}

/** `host:port` with the host lowercased and IPv6 brackets removed. */
export function pinKey(host: string, port: number): string {
  return `${host.replace(/^\[|\]$/g, '').toLowerCase()}:${port}`;
}

export class CertPins {
  readonly #o: CertPinsOptions;
  readonly #events = new EventEmitter();
  /** By pinKey, in pinning order (oldest first). */
  #pins = new Map<string, Pin>();
  readonly #expected = new Map<string, Expected>();
  /** Refusals the user may resolve by re-trusting, by pinKey. */
  readonly #pending = new Map<string, CertWarning>();

  constructor(options: CertPinsOptions) {
    this.#o = options;
    this.#pins = this.#load();
  }

  /** Every pin, oldest first (for display and tests). */
  pins(): Pin[] {
    return [...this.#pins.values()].map((pin) => ({ ...pin }));
  }

  /** The pin of a relay (a copy: when and what was pinned), or null. */
  pin(host: string, port: number): Pin | null {
    const pin = this.#find(host, port, null);
    return pin === undefined ? null : { ...pin };
  }

  /** The pinned fingerprint of a relay, or null. */
  pinned(host: string, port: number, relayId: string | null = null): string | null {
    return this.#find(host, port, relayId)?.fingerprint ?? null;
  }

  /**
   * Records the fingerprint a relay announced (mDNS TXT `fp`, an invite, this app's own hosted
   * relay). Kept in memory only: it decides the first connection, then the pin takes over.
   * A malformed fingerprint is ignored (the announcement is from the network, untrusted).
   */
  expect(host: string, port: number, fingerprint: string, source: string): void {
    const normalized = normalizeFingerprint(fingerprint);
    if (normalized === null) return;
    const key = pinKey(host, port);
    this.#expected.delete(key);
    this.#expected.set(key, { fingerprint: normalized, source });
    if (this.#expected.size > MAX_EXPECTED) {
      const oldest = this.#expected.keys().next().value;
      if (oldest !== undefined) this.#expected.delete(oldest);
    }
  }

  /** What expect() recorded for a relay, or null. */
  expectedFor(host: string, port: number): string | null {
    return this.#expected.get(pinKey(host, port))?.fingerprint ?? null;
  }

  /**
   * Decides on a certificate a relay presented, and pins it when it is trusted for the first
   * time. Never replaces an existing pin (see retrust()). A refusal is also emitted to
   * onWarning listeners and kept as pending until re-trusted or accepted.
   */
  decide(input: DecideInput): PinDecision {
    const key = pinKey(input.host, input.port);
    const relayId =
      input.relayId !== undefined && input.relayId !== null && RELAY_ID.test(input.relayId)
        ? input.relayId
        : null;
    const presented = normalizeFingerprint(input.presented);
    const announced = this.#expected.get(key);
    const expectedText = input.expected ?? announced?.fingerprint ?? null;
    const expected = expectedText === null ? null : normalizeFingerprint(expectedText);
    const where = `${input.host.replace(/^\[|\]$/g, '')}:${input.port}`;
    if (presented === null) {
      // Not a SHA-256 at all: nothing to compare; treat as a certificate that changed to garbage.
      const warning = this.#warning(
        'changed',
        input.host,
        input.port,
        where,
        this.pinned(input.host, input.port, relayId) ?? '(none)',
        String(input.presented).slice(0, 100),
      );
      this.#refuse(key, warning);
      return { kind: 'changed', pinned: warning.previous, presented: warning.presented, warning };
    }
    const pin = this.#find(input.host, input.port, relayId);
    if (pin !== undefined) {
      if (pin.fingerprint === presented) {
        this.#pending.delete(key);
        // Learn the new address of a relay known by id (its pin moves with it).
        if (pinKey(pin.host, pin.port) !== key)
          this.#store({ ...pin, host: input.host, port: input.port }, pinKey(pin.host, pin.port));
        return { kind: 'trusted', fingerprint: presented };
      }
      const warning = this.#warning(
        'changed',
        input.host,
        input.port,
        where,
        pin.fingerprint,
        presented,
      );
      this.#refuse(key, warning);
      return { kind: 'changed', pinned: pin.fingerprint, presented, warning };
    }
    if (expected !== null && expected !== presented) {
      const warning = this.#warning(
        'mismatch-expected',
        input.host,
        input.port,
        where,
        expected,
        presented,
        announced?.source,
      );
      this.#refuse(key, warning);
      return { kind: 'mismatch-expected', expected, presented, warning };
    }
    this.#pending.delete(key);
    this.#store({
      host: input.host.replace(/^\[|\]$/g, '').toLowerCase(),
      port: input.port,
      relayId,
      fingerprint: presented,
      pinnedAt: (this.#o.now?.() ?? new Date()).toISOString(),
    });
    return expected === null
      ? { kind: 'first-use', fingerprint: presented }
      : { kind: 'expected', fingerprint: presented };
  }

  /**
   * The user's explicit "trust the new certificate" after a refusal: replaces the pin of
   * `host:port` with `fingerprint`, but only if that exact fingerprint is the one refused last
   * for that relay (so a page cannot pin a certificate nobody presented).
   */
  retrust(host: string, port: number, fingerprint: string): Result<Pin> {
    const key = pinKey(host, port);
    const normalized = normalizeFingerprint(fingerprint);
    const pending = this.#pending.get(key);
    if (normalized === null) return fail('invalid_fingerprint', 'not a SHA-256 fingerprint');
    if (pending === undefined || pending.presented !== normalized) {
      return fail('no_pending_change', `no refused certificate ${normalized} for ${key}`);
    }
    const old = this.#find(host, port, null);
    const pin: Pin = {
      host: host.replace(/^\[|\]$/g, '').toLowerCase(),
      port,
      relayId: old?.relayId ?? null,
      fingerprint: normalized,
      pinnedAt: (this.#o.now?.() ?? new Date()).toISOString(),
    };
    this.#pending.delete(key);
    // An invite or TXT that announced the old fingerprint no longer applies.
    this.#expected.delete(key);
    this.#store(pin, old === undefined ? undefined : pinKey(old.host, old.port));
    this.#o.logger?.warn(
      { host, port, fingerprint: normalized, previous: pending.previous },
      'certificate re-trusted by the user',
    );
    return ok({ ...pin });
  }

  /** Refusals waiting for the user (shown again when the window reloads). */
  pending(): CertWarning[] {
    return [...this.#pending.values()].map((warning) => ({ ...warning }));
  }

  onWarning(listener: (warning: CertWarning) => void): () => void {
    this.#events.on('warning', listener);
    return () => this.#events.off('warning', listener);
  }

  #find(host: string, port: number, relayId: string | null): Pin | undefined {
    if (relayId !== null) {
      for (const pin of this.#pins.values()) if (pin.relayId === relayId) return pin;
    }
    return this.#pins.get(pinKey(host, port));
  }

  #warning(
    kind: CertWarning['kind'],
    host: string,
    port: number,
    where: string,
    previous: string,
    presented: string,
    source?: string,
  ): CertWarning {
    const message =
      kind === 'changed'
        ? `The certificate of ${where} changed. Pinned: ${previous}. Presented now: ${presented}. ` +
          'This happens when the host reinstalled Parley or deleted its data folder, but it is ' +
          'also what someone impersonating the host on the network would cause. The connection ' +
          'was refused. Only continue if the host confirms the new fingerprint (they see it when ' +
          'hosting).'
        : `The certificate of ${where} does not match the fingerprint announced by ` +
          `${source ?? 'the invite'}. Expected: ${previous}. Presented: ${presented}. The ` +
          'connection was refused: someone may be impersonating the host. Ask the host for the ' +
          'fingerprint they see, and only continue if it matches the presented one.';
    return { kind, host: host.replace(/^\[|\]$/g, ''), port, previous, presented, message };
  }

  #refuse(key: string, warning: CertWarning): void {
    const before = this.#pending.get(key);
    this.#pending.set(key, warning);
    this.#o.logger?.warn(
      {
        host: warning.host,
        port: warning.port,
        previous: warning.previous,
        presented: warning.presented,
        kind: warning.kind,
      },
      'relay certificate refused',
    );
    // Chromium asks again for every connection attempt: tell the page once per new certificate.
    if (before?.presented !== warning.presented || before.kind !== warning.kind) {
      this.#events.emit('warning', { ...warning });
    }
  }

  #store(pin: Pin, replacing?: string): void {
    const next = new Map(this.#pins);
    if (replacing !== undefined) next.delete(replacing);
    const key = pinKey(pin.host, pin.port);
    next.delete(key);
    next.set(key, pin);
    while (next.size > MAX_PINS) {
      const oldest = next.keys().next().value;
      if (oldest === undefined) break;
      next.delete(oldest);
    }
    this.#pins = next;
    writeJsonFile(this.#o.path, { version: 1, pins: [...next.values()] });
  }

  #load(): Map<string, Pin> {
    const warn = (error: unknown, what: string): void =>
      this.#o.logger?.warn({ err: error, path: this.#o.path }, what);
    let stored: unknown;
    try {
      stored = readJsonFile(this.#o.path, (error) =>
        warn(error, 'the certificate pins file is not JSON; starting with no pins'),
      );
    } catch (error) {
      warn(error, 'the certificate pins file cannot be read; starting with no pins');
      return new Map();
    }
    if (stored === null) return new Map();
    const file = fileSchema.safeParse(stored);
    if (!file.success) {
      warn(file.error, 'the certificate pins file has an unknown shape; starting with no pins');
      return new Map();
    }
    const pins = new Map<string, Pin>();
    let dropped = 0;
    for (const entry of file.data.pins.slice(-MAX_PINS)) {
      const pin = pinSchema.safeParse(entry);
      if (pin.success) pins.set(pinKey(pin.data.host, pin.data.port), pin.data);
      else dropped += 1;
    }
    if (dropped > 0) warn(null, `dropped ${dropped} malformed certificate pins`);
    return pins;
  }
}
