/**
 * Certificate fingerprints for people: a SHA-256 fingerprint (`AB:12:…`, 32 pairs) is read out
 * by the host and compared by a colleague, so it is shown as short numbered lines (4 pairs each
 * by default) in a monospace font, never as one 95-character run.
 */

/** Hex pairs per line of a fingerprint shown for reading aloud. */
export const FINGERPRINT_PAIRS_PER_LINE = 4;

const CANONICAL = /^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/;

/**
 * `AB:12:…` → `['AB:12:CD:34', 'EF:56:…', …]` (8 lines of 4 pairs by default). Null for anything
 * but a canonical SHA-256 fingerprint (the caller then shows the text as it is).
 */
export function fingerprintLines(
  fingerprint: string,
  pairsPerLine: number = FINGERPRINT_PAIRS_PER_LINE,
): string[] | null {
  if (!CANONICAL.test(fingerprint)) return null;
  if (!Number.isInteger(pairsPerLine) || pairsPerLine < 1) {
    throw new RangeError(`pairsPerLine must be a positive integer, got ${pairsPerLine}`);
  }
  const pairs = fingerprint.split(':');
  const lines: string[] = [];
  for (let at = 0; at < pairs.length; at += pairsPerLine) {
    lines.push(pairs.slice(at, at + pairsPerLine).join(':'));
  }
  return lines;
}

/** The host part of a relay URL as people say it: `https://10.0.0.5:4000` → `10.0.0.5:4000`. */
export function addressOf(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
}
