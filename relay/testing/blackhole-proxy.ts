/**
 * A TCP proxy between a test client and a relay that can stop passing the relay's answers:
 * once `blackhole()` is called, client → relay bytes still go through, relay → client bytes are
 * dropped. A send made after that is committed by the relay, but its acknowledgement never
 * reaches the client: the "stored, not acknowledged" state, reached on purpose rather than by a
 * lucky kill.
 */
import net from 'node:net';

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
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(relayPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (holing) droppedBytes += chunk.length;
      else client.write(chunk);
    });
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', closeBoth).on('error', closeBoth);
    upstream.on('close', closeBoth).on('error', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    socketUrl: `ws://127.0.0.1:${port}/socket`,
    blackhole: () => {
      holing = true;
    },
    get droppedBytes() {
      return droppedBytes;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
