/**
 * POST /api/session from a chosen source address, for the hostile tests of per-address and
 * relay-wide sign-in limits: every 127.0.0.0/8 address is on `lo` and reaches a relay listening
 * on 127.0.0.1, so one test can act as many clients.
 */
import { request as httpRequest } from 'node:http';

export interface SignInAnswer {
  status: number;
  /** The error's code, when the relay refused. */
  code: string | undefined;
  /** The Retry-After header as sent (seconds), when there was one. */
  retryAfter: string | undefined;
  /** The parsed JSON body. */
  body: unknown;
}

export interface SignInFromOptions {
  /** Extra request headers (forged X-Forwarded-For and the like). */
  headers?: Record<string, string>;
  /** A connection of its own, closed after the answer (no keep-alive pool). Default false. */
  freshConnection?: boolean;
}

/** POST /api/session with `body` as JSON from `localAddress` to the relay on 127.0.0.1:`port`. */
export function signInFrom(
  relay: { port: number },
  localAddress: string,
  body: object,
  { headers = {}, freshConnection = false }: SignInFromOptions = {},
): Promise<SignInAnswer> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: relay.port,
        method: 'POST',
        path: '/api/session',
        localAddress,
        ...(freshConnection ? { agent: false } : {}),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          ...headers,
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () => {
          const parsed = JSON.parse(data) as { error?: { code: string } };
          resolve({
            status: res.statusCode ?? 0,
            code: parsed.error?.code,
            retryAfter: res.headers['retry-after'],
            body: parsed,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}
