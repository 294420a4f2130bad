/**
 * "About this server": which certificate the app holds a relay to, so a user can compare it with
 * the fingerprint the host reads out from their hosting panel. Answers from the pins
 * (cert-pins.ts), never from the network: what matters is the certificate the app will accept,
 * not one a page could make it fetch.
 */
import type { RelayCertificate } from '../shared/bridge.js';
import { fail, ok, type Result } from '../shared/result.js';
import type { CertPins } from './cert-pins.js';
import { normalizeRelayUrl } from './relay-url.js';

/** The certificate state of the relay at `address` (any form normalizeRelayUrl accepts). */
export function relayCertificate(
  address: string,
  pins: Pick<CertPins, 'pin' | 'expectedFor'>,
): Result<RelayCertificate> {
  const normalized = normalizeRelayUrl(address);
  if (normalized === null) return fail('invalid_url', 'not an http(s) relay address');
  const url = new URL(normalized);
  if (url.protocol === 'http:') {
    return ok({ url: url.origin, state: 'plain', fingerprint: null, pinnedAt: null });
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port === '' ? 443 : url.port);
  const pin = pins.pin(host, port);
  if (pin !== null) {
    return ok({
      url: url.origin,
      state: 'pinned',
      fingerprint: pin.fingerprint,
      pinnedAt: pin.pinnedAt,
    });
  }
  const expected = pins.expectedFor(host, port);
  return ok({
    url: url.origin,
    state: expected === null ? 'unknown' : 'announced',
    fingerprint: expected,
    pinnedAt: null,
  });
}
