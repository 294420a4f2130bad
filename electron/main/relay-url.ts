/** Relay addresses as users type them, normalised to `scheme://host:port` base URLs. */

/**
 * "10.0.0.5:4000", "http://host:4000/", "https://chat.example.com" → a base URL without a
 * trailing slash; null for anything that is not http(s), has credentials, a query or a fragment.
 */
export function normalizeRelayUrl(input: string): string | null {
  const raw = input.trim();
  if (raw === '' || raw.length > 2_048) return null;
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw);
  // "javascript:x" or "nope://" must not become http://javascript:x; "host:4000" is fine.
  if (!hasScheme && /^[a-z][a-z0-9+.-]*:(?!\d)/i.test(raw)) return null;
  const trimmed = raw.replace(/\/+$/, '');
  const withScheme = hasScheme ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '')
    return null;
  if (url.hostname === '') return null;
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

/** The origin part of a relay URL (what the Content-Security-Policy is about). */
export function relayOrigin(url: string): string | null {
  const normalized = normalizeRelayUrl(url);
  return normalized === null ? null : new URL(normalized).origin;
}
