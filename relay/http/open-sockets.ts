/**
 * Every TCP connection a relay's server accepted, so that closing the relay ends them all within
 * a bound. `server.close()` waits for every accepted socket, and Node's `closeIdleConnections()`
 * and `closeAllConnections()` reach only the connections its HTTP layer tracks: that leaves out
 * an https server's sockets before their TLS handshake completes (one idle TCP connection held a
 * SIGTERM for 11 s: the 10 s handshake timeout) and every upgraded socket. Sockets are tracked
 * here at the TCP level (the `connection` event, before TLS), where destroying one also ends the
 * TLS socket and the WebSocket above it.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

/** A TCP connection's peer, the same for the raw socket and the TLS socket above it. */
function peerKey(socket: Socket): string | null {
  const { remoteAddress, remotePort } = socket;
  return remoteAddress === undefined || remotePort === undefined
    ? null
    : `${remoteAddress}|${remotePort}`;
}

export class OpenSockets {
  readonly #sockets = new Set<Socket>();
  /** Open TCP sockets by peer, to find the TCP socket under an upgraded TLS socket. */
  readonly #byPeer = new Map<string, Socket>();
  readonly #upgraded = new WeakSet<Socket>();

  /** Tracks `server`'s connections from now on, and marks those its upgrades take over. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.#add(socket));
    server.on('upgrade', (req: IncomingMessage) => this.#markUpgraded(req.socket));
  }

  /** Open TCP connections. */
  get size(): number {
    return this.#sockets.size;
  }

  /**
   * Destroys every open connection, or with `{ upgraded: false }` only those no upgrade took
   * over (idle, mid-handshake, or carrying an HTTP request or response). Returns how many.
   */
  destroy({ upgraded = true }: { upgraded?: boolean } = {}): number {
    let count = 0;
    for (const socket of [...this.#sockets]) {
      if (!upgraded && this.#upgraded.has(socket)) continue;
      socket.destroy();
      count += 1;
    }
    return count;
  }

  #add(socket: Socket): void {
    // Already refused (connection-limits.ts destroys over-limit sockets at once): nothing to end.
    if (socket.destroyed) return;
    this.#sockets.add(socket);
    const key = peerKey(socket);
    if (key !== null) this.#byPeer.set(key, socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      if (key !== null && this.#byPeer.get(key) === socket) this.#byPeer.delete(key);
    });
  }

  #markUpgraded(socket: Socket): void {
    // Plain http: the request's socket is the TCP socket. https: it is the TLS socket over it.
    if (this.#sockets.has(socket)) return void this.#upgraded.add(socket);
    const key = peerKey(socket);
    const tcp = key === null ? undefined : this.#byPeer.get(key);
    if (tcp !== undefined) this.#upgraded.add(tcp);
  }
}
