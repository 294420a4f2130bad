/**
 * HTTPS requests from the main process to LAN relays, checked against certificate pins instead
 * of a CA: the TLS handshake is done first, the presented certificate's SHA-256 goes to
 * CertPins.decide(), and only an accepted certificate gets the request (a refused one never sees
 * a byte of it: no token, no passcode). Used to probe addresses typed by hand.
 */
import { request } from 'node:https';
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { fail, ok, type Result } from '../shared/result.js';
import { isAccepted, type CertPins, type PinDecision } from './cert-pins.js';

export interface PinnedResponse {
  status: number;
  body: string;
  decision: PinDecision;
}

/** Largest body read from a relay by these requests. */
export const MAX_PINNED_BODY_BYTES = 64 * 1024;

function handshake(host: string, port: number, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      // Not CA-checked on purpose: the pin decides (below). SNI only for names, never for IPs.
      rejectUnauthorized: false,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ALPNProtocols: ['http/1.1'],
    });
    const timer = setTimeout(() => socket.destroy(new Error('TLS handshake timed out')), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * GET (or another method) on an https:// relay URL, trusting only a pinned (or first-seen, or
 * announced) certificate. Failures are values: `unreachable`, `certificate_refused`.
 */
export async function pinnedRequest(
  url: string,
  pins: CertPins,
  options: {
    method?: 'GET' | 'POST';
    body?: string;
    headers?: Record<string, string>;
    relayId?: string | null;
    timeoutMs?: number;
  } = {},
): Promise<Result<PinnedResponse>> {
  const target = new URL(url);
  if (target.protocol !== 'https:') return fail('invalid_address', 'pinned requests are https');
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = target.port === '' ? 443 : Number(target.port);
  const timeoutMs = options.timeoutMs ?? 5_000;
  let socket: TLSSocket;
  try {
    socket = await handshake(host, port, timeoutMs);
  } catch (error) {
    return fail('unreachable', `cannot reach ${target.origin}: ${String(error)}`);
  }
  const certificate = socket.getPeerX509Certificate();
  const decision = pins.decide({
    host,
    port,
    presented: certificate?.fingerprint256 ?? '',
    relayId: options.relayId ?? null,
  });
  if (!isAccepted(decision)) {
    socket.destroy();
    const message = 'warning' in decision ? decision.warning.message : 'certificate refused';
    return fail('certificate_refused', message);
  }
  return new Promise((resolve) => {
    const req = request(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        createConnection: () => socket,
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > MAX_PINNED_BODY_BYTES) req.destroy(new Error('response too large'));
        });
        res.on('end', () => resolve(ok({ status: res.statusCode ?? 0, body, decision })));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) =>
      resolve(fail('unreachable', `cannot reach ${target.origin}: ${error.message}`)),
    );
    req.end(options.body);
  });
}
