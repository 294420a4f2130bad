/**
 * Requests Node's HTTP parser refuses (unknown methods, conflicting framing, headers over 16 KB,
 * a request not finished within the server's timeouts) never reach the API. Node's default
 * answers them with a bare `400 Bad Request`; a `clientError` listener replaces that default,
 * and the relay's answers them with its documented JSON error body instead (PROTOCOL.md, "HTTP
 * API"), then closes the connection. A connection the client reset, or whose response already
 * began, cannot take an answer: it is just closed.
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { failure, type Failure } from '../protocol/errors.js';
import { HTTP_STATUS } from './http-util.js';

/** How long an answered connection may take to read its answer before it is cut. */
const ANSWERED_GRACE_MS = 1_000;

/** The documented failure for one of Node's client errors. */
export function clientErrorFailure(code: string | undefined): Failure {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return failure('headers_too_large', 'the request headers exceed 16 KB');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return failure('body_too_large', 'the chunk extensions are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return failure('request_timeout', 'the request was not received in time');
    case 'HPE_INVALID_EOF_STATE':
      return failure('bad_request', 'the connection ended in the middle of the request');
    default:
      return failure('bad_request', `the request is not valid HTTP/1.1 (${code ?? 'unknown'})`);
  }
}

function errorCode(error: Error): string | undefined {
  return 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Writes a JSON error answer and closes the connection. An answer to HEAD carries the headers
 * only (its Content-Length still names the body GET would have had).
 */
function answerAndClose(socket: Duplex, refused: Failure, head = false): void {
  const status = HTTP_STATUS[refused.code];
  const body = JSON.stringify({ error: { code: refused.code, message: refused.message } });
  socket.end(
    [
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? refused.code}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Cache-Control: no-store',
      'X-Content-Type-Options: nosniff',
      'Connection: close',
      '',
      head ? '' : body,
    ].join('\r\n'),
  );
  // end() only half-closes: a peer that never closes its side would hold the socket.
  setTimeout(() => socket.destroy(), ANSWERED_GRACE_MS).unref();
}

/**
 * Answers `server`'s client errors with JSON where an answer can still be given, and `CONNECT`
 * (which Node hands to a `connect` listener, or else drops unanswered) with 405.
 */
export function answerClientErrors(server: Server, logger: Logger): void {
  // The response being written on each connection (keep-alive: the latest request's).
  const inFlight = new WeakMap<Duplex, ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    inFlight.set(req.socket, res);
    res.once('close', () => {
      if (inFlight.get(req.socket) === res) inFlight.delete(req.socket);
    });
  });
  server.on('clientError', (error: Error, socket: Duplex) => {
    const code = errorCode(error);
    logger.debug({ err: error }, 'http client error');
    const current = inFlight.get(socket);
    if (code === 'HPE_CLOSED_CONNECTION') {
      // Bytes after a request that said `Connection: close` are not a request: that request
      // still gets its own answer (which closes the connection); nothing else is answered.
      if (current === undefined) socket.destroy();
      else current.once('close', () => socket.destroy());
      return;
    }
    const started = current?.headersSent === true;
    if (code === 'ECONNRESET' || started || !socket.writable) {
      socket.destroy();
      return;
    }
    // The parser can refuse a request after its headers were read (a body cut short).
    answerAndClose(socket, clientErrorFailure(code), current?.req.method === 'HEAD');
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', (error) => logger.debug({ err: error }, 'connect socket error'));
    answerAndClose(socket, failure('method_not_allowed', 'this relay is not a proxy'));
  });
}
