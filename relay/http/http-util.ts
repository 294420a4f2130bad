/** Small HTTP helpers: JSON bodies with a size limit, JSON answers, error answers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { failure, type ErrorCode, type Failure } from '../protocol/errors.js';

/** HTTP status for each error code. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  malformed_frame: 400,
  invalid_payload: 400,
  unknown_topic: 404,
  unknown_event: 400,
  'unmatched topic': 400,
  unauthorized: 401,
  not_found: 404,
  not_member: 403,
  too_many_joins: 429,
  message_too_long: 400,
  empty_message: 400,
  rate_limited: 429,
  overloaded: 503,
  storage_error: 503,
  storage_full: 503,
  storage_read_only: 503,
  name_taken: 409,
  bad_passcode: 401,
  bad_recovery_code: 401,
  sessions_disabled: 404,
  invalid_name: 400,
  forbidden: 403,
  message_deleted: 409,
  message_expired: 410,
  dm_with_self: 400,
  body_too_large: 413,
  bad_request: 400,
  headers_too_large: 431,
  request_timeout: 408,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  internal_error: 500,
};

/** Bodies larger than this are written in pieces of this size (see writeBody). */
const BODY_CHUNK_BYTES = 64 * 1024;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  const bytes = Buffer.byteLength(text);
  res.writeHead(status, {
    ...extraHeaders,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': bytes,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  if (bytes <= BODY_CHUNK_BYTES) res.end(text);
  else writeBody(res, Buffer.from(text));
}

/**
 * Writes a large body piece by piece, each after the one before drained: a slow reader's
 * progress is then visible as 'drain' events (http-output.ts cuts only connections that make
 * none), and a connection that stops reading holds the body once, not twice.
 */
function writeBody(res: ServerResponse, body: Buffer): void {
  let offset = 0;
  const more = (): void => {
    while (offset < body.length && !res.destroyed) {
      const piece = body.subarray(offset, offset + BODY_CHUNK_BYTES);
      offset += piece.length;
      if (offset >= body.length) return void res.end(piece);
      if (!res.write(piece)) return void res.once('drain', more);
    }
  };
  more();
}

export function sendError(
  res: ServerResponse,
  error: Pick<Failure, 'code' | 'message'>,
  extraHeaders: Record<string, string> = {},
): void {
  // An oversize body was left unread: the connection cannot be reused.
  const headers: Record<string, string> =
    error.code === 'body_too_large' ? { ...extraHeaders, Connection: 'close' } : extraHeaders;
  sendJson(
    res,
    HTTP_STATUS[error.code],
    { error: { code: error.code, message: error.message } },
    headers,
  );
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a JSON body of at most `maxBytes` (declared or streamed). An empty body reads as `{}`;
 * a body that is not UTF-8 or not JSON is `invalid_payload`.
 */
export function readJsonBody(
  req: IncomingMessage,
  maxBytes: number,
): Promise<{ ok: true; body: unknown } | Failure> {
  const tooLarge = failure('body_too_large', `bodies are at most ${maxBytes} bytes`);
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) return Promise.resolve(tooLarge);
  const type = req.headers['content-type'] ?? '';
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // Stop reading; the error answer closes the connection (see sendError).
      req.off('data', onData);
      req.pause();
      resolve(tooLarge);
    };
    req.on('data', onData);
    req.on('error', () => resolve(failure('invalid_payload', 'the request body was cut off')));
    req.on('end', () => {
      if (size > maxBytes) return;
      if (size === 0) return resolve({ ok: true, body: {} });
      if (!/^application\/json\s*(;|$)/i.test(type)) {
        return resolve(failure('unsupported_media_type', 'send application/json'));
      }
      let text: string;
      try {
        // JSON is UTF-8 (RFC 8259). Decoding leniently would store U+FFFD in place of the bad
        // bytes; the socket refuses such frames (1007), so the HTTP door refuses them too.
        text = UTF8.decode(Buffer.concat(chunks));
      } catch {
        return resolve(failure('invalid_payload', 'the body is not valid UTF-8'));
      }
      try {
        resolve({ ok: true, body: JSON.parse(text) as unknown });
      } catch {
        resolve(failure('invalid_payload', 'the body is not valid JSON'));
      }
    });
  });
}

/**
 * The request target as a URL, or null when it is not one. `new URL(target, base)` would throw
 * on origin-form targets such as `//` or `/\\` (read as a host-less `//host` URL) and read
 * `//api/me` as host `api`; a target starting with `/` is therefore always a path of this
 * relay. Absolute-form targets (`http://host/path`, which HTTP/1.1 servers must accept) keep
 * their path; anything else (`*`, `secret.txt`) is not a URL here.
 */
export function requestUrl(req: IncomingMessage): URL | null {
  const target = req.url ?? '/';
  try {
    return target.startsWith('/') ? new URL(`http://relay${target}`) : new URL(target);
  } catch {
    return null;
  }
}

/**
 * The API's namespace, `/api` and everything under `/api/`: a path there that no route matches
 * is a JSON 404 for every method (http-api.ts), never a file or the web client's index.html
 * fallback (static-files.ts asks after decoding, so `/%61pi/x` is refused too).
 */
export function isApiPath(pathname: string): boolean {
  return pathname === '/api' || pathname.startsWith('/api/');
}

export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}
