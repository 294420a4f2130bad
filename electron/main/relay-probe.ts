/**
 * Checks an address typed by hand: GET /healthz from the main process (no page CSP involved).
 * LAN relays serve https with a self-signed certificate, so with certificate pins at hand an
 * address typed without a scheme is tried as https first (checked against the pins: trusted on
 * first use, refused if it changed), then as plain http. An https:// address with a fingerprint
 * announced for it (mDNS, invite) is checked against the pins too; any other https:// address
 * (a company server) is checked by the system's CAs, as a browser would.
 */
import type { ProbedRelay } from '../shared/bridge.js';
import { fail, ok, type Result } from '../shared/result.js';
import type { CertPins } from './cert-pins.js';
import { pinnedRequest } from './pinned-request.js';
import { normalizeRelayUrl } from './relay-url.js';

export const PROBE_TIMEOUT_MS = 3_000;

export interface ProbeOptions {
  fetchImpl?: typeof fetch;
  timeoutMs?: number;
  /** Certificate pins for LAN relays; without them only CA-valid https is accepted. */
  pins?: CertPins;
}

interface Answer {
  status: number;
  body: unknown;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null; // Not JSON: not a Parley relay; reported by the caller.
  }
}

async function fetchHealth(url: string, options: ProbeOptions): Promise<Result<Answer>> {
  const fetchImpl = options.fetchImpl ?? fetch;
  try {
    const response = await fetchImpl(`${url}/healthz`, {
      signal: AbortSignal.timeout(options.timeoutMs ?? PROBE_TIMEOUT_MS),
      redirect: 'error',
    });
    return ok({ status: response.status, body: parseJson(await response.text()) });
  } catch (error) {
    return fail(
      'unreachable',
      `cannot reach ${url}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

async function pinnedHealth(
  url: string,
  pins: CertPins,
  timeoutMs: number,
): Promise<Result<Answer>> {
  const result = await pinnedRequest(`${url}/healthz`, pins, { timeoutMs });
  if (!result.ok) return result;
  return ok({ status: result.value.status, body: parseJson(result.value.body) });
}

function asRelay(url: string, answer: Answer): Result<ProbedRelay> {
  const health = answer.body as { ok?: unknown; version?: unknown } | null;
  const success = answer.status >= 200 && answer.status < 300;
  if (!success || health?.ok !== true || typeof health.version !== 'string') {
    return fail(
      'not_a_relay',
      `${url} answered, but not as a Parley relay (HTTP ${answer.status})`,
    );
  }
  return ok({ url, version: health.version });
}

export async function probeRelay(
  address: string,
  options: ProbeOptions = {},
): Promise<Result<ProbedRelay>> {
  const url = normalizeRelayUrl(address);
  if (url === null) return fail('invalid_address', 'enter an address like 192.168.1.20:4000');
  const { pins } = options;
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const typedScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address.trim());
  if (pins !== undefined && !typedScheme) {
    const secure = url.replace(/^http:/, 'https:');
    const answer = await pinnedHealth(secure, pins, timeoutMs);
    if (answer.ok) return asRelay(secure, answer.value);
    // A refused certificate is the answer (never fall back to plaintext past it).
    if (answer.code === 'certificate_refused') return answer;
  }
  if (pins !== undefined && url.startsWith('https://')) {
    const { hostname, port } = new URL(url);
    if (pins.expectedFor(hostname, Number(port || 443)) !== null) {
      const answer = await pinnedHealth(url, pins, timeoutMs);
      return answer.ok ? asRelay(url, answer.value) : answer;
    }
  }
  const answer = await fetchHealth(url, options);
  return answer.ok ? asRelay(url, answer.value) : answer;
}
