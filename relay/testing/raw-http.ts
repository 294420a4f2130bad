/**
 * HTTP requests written byte by byte over `node:net`, for hostile tests: the request line,
 * headers and body go out exactly as given (no client normalising the path, fixing the framing
 * or refusing odd methods), and the answer is read until the relay closes the socket.
 */
import { connect } from 'node:net';

export interface RawHttpRequest {
  /** The request line's method and target, sent as given. */
  method: string;
  target: string;
  /** Header lines in order (name, value); nothing is added but what `framing` implies. */
  headers: [string, string][];
  /** Body chunks, written one by one. */
  body?: Buffer[];
  /**
   * How the body is framed: `length` adds a Content-Length of the body's size (or `declared`),
   * `chunked` adds Transfer-Encoding: chunked and encodes each chunk, `none` adds nothing.
   */
  framing?: 'length' | 'chunked' | 'none';
  /** A Content-Length to declare instead of the body's real size (lies, truncations). */
  declared?: number;
  /** Half-close the socket after writing (a client that gives up mid-body). */
  halfClose?: boolean;
}

export interface RawHttpAnswer {
  /** null when the socket closed without a status line. */
  status: number | null;
  headers: Record<string, string>;
  body: Buffer;
  /** Bytes after the declared Content-Length (a second response would show up here). */
  trailing: Buffer;
  raw: Buffer;
}

/** Sends one request and reads until the socket closes; rejects after `timeoutMs` (a hang). */
export function rawHttp(
  port: number,
  request: RawHttpRequest,
  timeoutMs = 10_000,
): Promise<RawHttpAnswer> {
  const framing = request.framing ?? 'length';
  const body = request.body ?? [];
  const size = body.reduce((sum, chunk) => sum + chunk.length, 0);
  const lines = [`${request.method} ${request.target} HTTP/1.1`];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  if (framing === 'length') lines.push(`Content-Length: ${request.declared ?? size}`);
  if (framing === 'chunked') lines.push('Transfer-Encoding: chunked');
  const parts: Buffer[] = [Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')];
  for (const chunk of body) {
    if (framing !== 'chunked') parts.push(chunk);
    else if (chunk.length > 0)
      parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  if (framing === 'chunked' && request.halfClose !== true) parts.push(Buffer.from('0\r\n\r\n'));

  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no answer and no close within ${timeoutMs} ms: ${request.method} ${request.target}`,
        ),
      );
    }, timeoutMs);
    socket.on('data', (data: Buffer) => received.push(data));
    // The relay may answer and close before the whole body is written (413): a reset or a broken
    // pipe while writing is part of the answer, not a test failure.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(received)));
    });
    for (const part of parts) socket.write(part);
    if (request.halfClose === true) socket.end();
  });
}

function parseAnswer(raw: Buffer): RawHttpAnswer {
  const empty = Buffer.alloc(0);
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: null, headers: {}, body: empty, trailing: empty, raw };
  const [statusLine = '', ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = raw.subarray(end + 4);
  const length = headers['content-length'];
  const bodyLength = length === undefined ? rest.length : Number(length);
  return {
    status: match === null ? null : Number(match[1]),
    headers,
    body: rest.subarray(0, bodyLength),
    trailing: rest.subarray(bodyLength),
    raw,
  };
}
