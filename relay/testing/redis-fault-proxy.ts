/**
 * A TCP proxy in front of a real Redis that drops chosen pub/sub deliveries on their way to a
 * client: fault injection for cluster tests, with no hook in the relay. Client → Redis bytes pass
 * untouched; Redis → client bytes are cut into whole RESP2/RESP3 values (ioredis speaks RESP3),
 * and a `message` push (`>3 $7 message $N channel $N payload`) is dropped when `drop(channel, payload)` says so.
 */
import { startTcpPairs } from './tcp-pair.js';

export interface RedisFaultProxy {
  /** redis://127.0.0.1:PORT, for the node under test. */
  url: string;
  /** Pushes dropped so far. */
  readonly dropped: number;
  close(): Promise<void>;
}

/** Where the RESP2 or RESP3 value starting at `from` ends, or -1 while it is incomplete. */
function valueEnd(buffer: Buffer, from: number): number {
  const lineEnd = buffer.indexOf('\r\n', from);
  if (lineEnd === -1) return -1;
  const type = String.fromCharCode(buffer[from] ?? 0);
  const count = Number(buffer.toString('latin1', from + 1, lineEnd));
  switch (type) {
    case '+':
    case '-':
    case ':':
    case '_':
    case ',':
    case '#':
    case '(':
      return lineEnd + 2;
    case '$':
    case '!':
    case '=': {
      if (count < 0) return lineEnd + 2;
      const end = lineEnd + 2 + count + 2;
      return end <= buffer.length ? end : -1;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      const elements = type === '%' || type === '|' ? count * 2 : Math.max(count, 0);
      let at = lineEnd + 2;
      for (let i = 0; i < elements; i += 1) {
        at = valueEnd(buffer, at);
        if (at === -1) return -1;
      }
      return at;
    }
    default:
      throw new Error(`not RESP: ${JSON.stringify(type)} at ${from}`);
  }
}

/** The bulk strings of an array or push of bulk strings (a pub/sub delivery), else null. */
function bulkStrings(value: Buffer): string[] | null {
  if (value[0] !== 0x2a /* '*' */ && value[0] !== 0x3e /* '>' */) return null;
  const parts: string[] = [];
  let at = value.indexOf('\r\n') + 2;
  while (at < value.length) {
    if (value[at] !== 0x24 /* '$' */) return null;
    const lineEnd = value.indexOf('\r\n', at);
    const length = Number(value.toString('latin1', at + 1, lineEnd));
    parts.push(value.toString('utf8', lineEnd + 2, lineEnd + 2 + length));
    at = lineEnd + 2 + length + 2;
  }
  return parts;
}

export async function startRedisFaultProxy(
  redisPort: number,
  drop: (channel: string, payload: string) => boolean,
): Promise<RedisFaultProxy> {
  let dropped = 0;
  // Bytes of an incomplete value, per client connection.
  const pending = new WeakMap<object, Buffer>();
  const pairs = await startTcpPairs(redisPort, (chunk, client) => {
    const held = pending.get(client);
    let buffer = held === undefined || held.length === 0 ? chunk : Buffer.concat([held, chunk]);
    let start = 0;
    for (let end = valueEnd(buffer, start); end !== -1; end = valueEnd(buffer, start)) {
      const value = buffer.subarray(start, end);
      const parts = bulkStrings(value);
      if (parts?.[0] === 'message' && drop(parts[1] ?? '', parts[2] ?? '')) dropped += 1;
      else client.write(value);
      start = end;
      if (start === buffer.length) break;
    }
    buffer = buffer.subarray(start);
    pending.set(client, buffer);
  });
  return {
    url: `redis://127.0.0.1:${pairs.port}`,
    get dropped() {
      return dropped;
    },
    close: () => pairs.close(),
  };
}
