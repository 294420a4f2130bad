/** Checks an address typed by hand: GET /healthz from the main process (no page CSP involved). */
import type { ProbedRelay } from '../shared/bridge.js';
import { fail, ok, type Result } from '../shared/result.js';
import { normalizeRelayUrl } from './relay-url.js';

export const PROBE_TIMEOUT_MS = 3_000;

export async function probeRelay(
  address: string,
  options: { fetchImpl?: typeof fetch; timeoutMs?: number } = {},
): Promise<Result<ProbedRelay>> {
  const url = normalizeRelayUrl(address);
  if (url === null) return fail('invalid_address', 'enter an address like 192.168.1.20:4000');
  const fetchImpl = options.fetchImpl ?? fetch;
  let response: Response;
  try {
    response = await fetchImpl(`${url}/healthz`, {
      signal: AbortSignal.timeout(options.timeoutMs ?? PROBE_TIMEOUT_MS),
      redirect: 'error',
    });
  } catch (error) {
    return fail(
      'unreachable',
      `cannot reach ${url}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: not a Parley relay; reported below.
  }
  const health = body as { ok?: unknown; version?: unknown } | null;
  if (!response.ok || health?.ok !== true || typeof health.version !== 'string') {
    return fail(
      'not_a_relay',
      `${url} answered, but not as a Parley relay (HTTP ${response.status})`,
    );
  }
  return ok({ url, version: health.version });
}
