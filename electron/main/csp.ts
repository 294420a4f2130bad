/**
 * The Content-Security-Policy of the app's pages. `connect-src` lists only the relays the user
 * chose (profiles, typed addresses), discovered, or hosts: each as its http(s) and ws(s) origin.
 */

/** Turns a relay URL into the origins a page needs to reach it (HTTP API and WebSocket). */
export function relayOrigins(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return [];
  // Host names only, never credentials or paths: a CSP source is scheme://host:port.
  const host = parsed.host;
  return parsed.protocol === 'https:'
    ? [`https://${host}`, `wss://${host}`]
    : [`http://${host}`, `ws://${host}`];
}

/** A CSP source must not carry characters that would end the directive or the header. */
function safeSource(source: string): boolean {
  return /^[a-z]+:\/\/[A-Za-z0-9.\-[\]:]+$/.test(source);
}

export interface CspInput {
  /** Relay base URLs the page may connect to. */
  relayUrls: readonly string[];
}

export function buildCsp(input: CspInput): string {
  const connect = [...new Set(input.relayUrls.flatMap(relayOrigins))].filter(safeSource).sort();
  const directives: [string, string[]][] = [
    ['default-src', ["'none'"]],
    ['script-src', ["'self'"]],
    // Inline style attributes come from React's `style` props and the virtualised list.
    ['style-src', ["'self'", "'unsafe-inline'"]],
    ['img-src', ["'self'", 'data:', 'blob:']],
    ['font-src', ["'self'"]],
    ['media-src', ["'self'"]],
    ['connect-src', connect.length === 0 ? ["'none'"] : connect],
    ['worker-src', ["'none'"]],
    ['frame-src', ["'none'"]],
    ['child-src', ["'none'"]],
    ['object-src', ["'none'"]],
    ['base-uri', ["'none'"]],
    ['form-action', ["'none'"]],
    ['frame-ancestors', ["'none'"]],
  ];
  return directives.map(([name, sources]) => `${name} ${sources.join(' ')}`).join('; ');
}

/** The `connect-src` sources of a policy, for tests and for deciding whether a reload is needed. */
export function connectSources(csp: string): string[] {
  const directive = csp
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith('connect-src '));
  return directive === undefined ? [] : directive.split(/\s+/).slice(1);
}
