/**
 * The one format of a certificate fingerprint everywhere in Parley (relay log and API, mDNS TXT
 * `fp`, `parley://` invites, the desktop's pins file): the SHA-256 of the DER certificate as
 * uppercase hex pairs joined by colons, `AB:12:…` (95 characters). It is what Node's
 * `X509Certificate.fingerprint256`, `openssl x509 -fingerprint -sha256` and browsers' certificate
 * viewers show, so a host can read it out and a colleague compare it by eye.
 */
import { createHash } from 'node:crypto';

const HEX_64 = /^[0-9A-F]{64}$/;

/**
 * Accepts a SHA-256 fingerprint written with or without colons (or spaces), in any case, and
 * returns it in the canonical `AB:12:…` form; null for anything else.
 */
export function normalizeFingerprint(text: string): string | null {
  if (text.length > 200) return null;
  const hex = text.replace(/[:\s]/g, '').toUpperCase();
  if (!HEX_64.test(hex)) return null;
  // Colons, when present, must separate pairs: "A:B12…" is a typo, not a fingerprint.
  if (/:/.test(text) && !/^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/.test(text.trim())) return null;
  return hex.match(/../g)?.join(':') ?? null;
}

/** The canonical fingerprint of a DER-encoded certificate. */
export function fingerprintOfDer(der: Uint8Array): string {
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
  return hex.match(/../g)?.join(':') ?? hex;
}

/**
 * Electron's `Certificate.fingerprint` is `sha256/<base64>`: the same digest, other spelling.
 * Null when it is not a SHA-256 in that form.
 */
export function fingerprintFromElectron(text: string): string | null {
  const match = /^sha256\/([A-Za-z0-9+/]{43}=)$/.exec(text);
  if (match?.[1] === undefined) return null;
  const bytes = Buffer.from(match[1], 'base64');
  if (bytes.length !== 32) return null;
  return normalizeFingerprint(bytes.toString('hex'));
}
