/**
 * The plumbing of the test proxies (blackhole-proxy.ts, redis-fault-proxy.ts): a loopback TCP
 * server whose every client is paired with a connection to `port`, client bytes passed on as
 * they come, the other direction handed to `fromUpstream`; either side closing closes both.
 */
import net from 'node:net';

export interface TcpPairServer {
  port: number;
  close(): Promise<void>;
}

export async function startTcpPairs(
  port: number,
  fromUpstream: (chunk: Buffer, client: net.Socket) => void,
): Promise<TcpPairServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => fromUpstream(chunk, client));
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
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
