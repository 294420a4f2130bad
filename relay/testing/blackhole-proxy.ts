/**
 * A TCP proxy between a test client and a relay that can stop passing the relay's answers:
 * once `blackhole()` is called, client → relay bytes still go through, relay → client bytes are
 * dropped. A send made after that is committed by the relay, but its acknowledgement never
 * reaches the client: the "stored, not acknowledged" state, reached on purpose rather than by a
 * lucky kill.
 */
import { startTcpPairs } from './tcp-pair.js';

export interface BlackholeProxy {
  /** ws://127.0.0.1:PORT/socket, for the client. */
  socketUrl: string;
  blackhole(): void;
  /** Relay → client bytes dropped since blackhole(). */
  readonly droppedBytes: number;
  close(): Promise<void>;
}

export async function startBlackholeProxy(relayPort: number): Promise<BlackholeProxy> {
  let holing = false;
  let droppedBytes = 0;
  const pairs = await startTcpPairs(relayPort, (chunk, client) => {
    if (holing) droppedBytes += chunk.length;
    else client.write(chunk);
  });
  return {
    socketUrl: `ws://127.0.0.1:${pairs.port}/socket`,
    blackhole: () => {
      holing = true;
    },
    get droppedBytes() {
      return droppedBytes;
    },
    close: () => pairs.close(),
  };
}
