/**
 * The Phoenix socket endpoint, `/socket/websocket?vsn=2.0.0&token=…&device_unique_id=…`:
 * authenticates the upgrade, then reads frames, enforces limits and routes each frame to its
 * channel. A bad frame is answered or closes that one socket; the server keeps running.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CLOSE_CODES, failure, type Failure } from '../protocol/errors.js';
import { EVENTS } from '../protocol/events.js';
import { encodeFrame, parseFrame, type Frame } from '../protocol/frame.js';
import { chatTopic } from '../protocol/topics.js';
import type { Auth, Identity } from '../identity/auth.js';
import type { ChannelDeps } from './channel-deps.js';
import { channelOf } from './channel-registry.js';
import { Connection } from './connection.js';
import type { Subscription } from './hub.js';
import { requestUrl } from '../http/http-util.js';
import { newId } from '../core/ids.js';
import { replyError, replyOk, type Inbound } from './replies.js';
import type { StorageFailureLog } from '../core/storage-errors.js';

export const SOCKET_PATH = '/socket/websocket';
/** How long a refused upgrade may take to read its answer before its socket is cut. */
const REFUSED_UPGRADE_GRACE_MS = 1_000;

export interface SocketServer {
  /** Closes every connection with `code` (1001 on shutdown). */
  closeAll(code: number, reason: string): void;
  /** Closes connections whose heartbeat or token ran out. Called on a timer. */
  sweep(now?: number): void;
  /** Ends a user's subscriptions to a chat they lost access to. */
  revoke(userId: string, chatId: string): void;
  /**
   * Closes (4003, `token_revoked`) this node's connections of `userId` opened with a token of a
   * generation older than `generation` (the user signed out everywhere). Returns how many.
   */
  closeRevoked(userId: string, generation: number): number;
}

function rejectUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // end() only half-closes: a peer that never closes its side would hold the socket for good
  // (the HTTP server's timeouts no longer apply after 'upgrade'). Cut it once it had time to read.
  setTimeout(() => socket.destroy(), REFUSED_UPGRADE_GRACE_MS).unref();
}

/** What the socket endpoint needs beyond the channels' dependencies. */
export interface SocketServerDeps extends ChannelDeps {
  auth: Auth;
  /**
   * The storage failure behind an error a frame handler threw (a full or read-only disk, a
   * database that refused the write), or null for anything else (a bug: the socket is closed).
   */
  storageFailure: (error: unknown) => Failure | null;
  /** Where refused writes other than sends (read markers, acks, memberships) are logged. */
  storageLog: StorageFailureLog;
  /** The client's address: the TCP peer, or behind a trusted proxy its forwarded client. */
  clientAddress: (req: IncomingMessage) => string;
  /** Per-address connection limit for upgrades through a trusted proxy; false: answer 429. */
  admitUpgrade: (req: IncomingMessage, socket: Duplex) => boolean;
}

export function attachSocketServer(server: Server, deps: SocketServerDeps): SocketServer {
  const { hub, limits, logger } = deps;

  /** Ends one subscription through its topic's channel. */
  function leave(subscription: Subscription): void {
    const routed = channelOf(subscription.topic);
    if (routed?.channel.joinable === true) routed.channel.leave(deps, subscription);
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxPayloadBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (error) => logger.debug({ err: error }, 'upgrade socket error'));
    void upgrade(request, socket, head).catch((error: unknown) => {
      // The token check needed a database that is unreachable or too busy: 503, try again.
      const refused = deps.storageFailure(error);
      if (refused !== null) return rejectUpgrade(socket, 503, refused.code, refused.message);
      logger.error({ err: error }, 'upgrade failed');
      rejectUpgrade(socket, 500, 'internal_error', 'upgrade failed');
    });
  });

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (!deps.admitUpgrade(request, socket)) {
      return rejectUpgrade(socket, 429, 'rate_limited', 'too many connections from this address');
    }
    const url = requestUrl(request);
    if (url?.pathname !== SOCKET_PATH)
      return rejectUpgrade(socket, 404, 'not_found', `sockets live at ${SOCKET_PATH}`);
    const vsn = url.searchParams.get('vsn') ?? '2.0.0';
    if (!vsn.startsWith('2.')) {
      return rejectUpgrade(
        socket,
        400,
        'invalid_payload',
        'only the V2 JSON serializer (vsn=2.0.0) is supported',
      );
    }
    if (hub.connectionCount >= limits.maxConnections) {
      return rejectUpgrade(socket, 503, 'overloaded', 'the relay is at its connection limit');
    }
    const verified = await deps.auth.verify(url.searchParams.get('token'));
    if (!verified.ok) return rejectUpgrade(socket, 403, verified.code, verified.message);
    const { user } = verified.identity;
    if (hub.connectionsOf(user.id).size >= limits.maxConnectionsPerUser) {
      return rejectUpgrade(socket, 429, 'rate_limited', 'too many connections for this user');
    }
    const deviceId = (url.searchParams.get('device_unique_id') ?? '').slice(0, 128) || 'unknown';
    const language = (url.searchParams.get('preferred_language') ?? '').slice(0, 16);
    wss.handleUpgrade(request, socket, head, (ws) => {
      accept(ws, verified.identity, {
        transport: socket,
        deviceId,
        language,
        remoteAddress: deps.clientAddress(request),
      });
    });
  }

  const expiries = new WeakMap<Connection, number | null>();
  const generations = new WeakMap<Connection, number>();

  function accept(
    ws: WebSocket,
    identity: Identity,
    meta: { transport: Duplex; deviceId: string; language: string; remoteAddress: string },
  ): void {
    const connection = new Connection({
      id: newId(),
      socket: ws,
      transport: meta.transport,
      user: identity.user,
      deviceId: meta.deviceId,
      language: meta.language,
      remoteAddress: meta.remoteAddress,
      limits,
      logger,
    });
    expiries.set(connection, identity.expiresAt);
    generations.set(connection, identity.generation);
    hub.add(connection);
    logger.info(
      {
        conn: connection.id,
        user: identity.user.id,
        device: meta.deviceId,
        address: meta.remoteAddress,
      },
      'connected',
    );
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const queued = connection.enqueue(() =>
        onFrame(connection, data, isBinary).catch((error: unknown) => {
          logger.error({ err: error, conn: connection.id }, 'frame handler failed');
          connection.close(CLOSE_CODES.INTERNAL_ERROR, 'internal_error');
        }),
      );
      if (!queued) connection.close(CLOSE_CODES.POLICY_VIOLATION, 'rate_limited');
    });
    ws.on('error', (error) => logger.info({ err: error, conn: connection.id }, 'socket error'));
    ws.on('close', (code: number) => {
      connection.markClosed();
      for (const subscription of [...connection.subscriptions.values()]) leave(subscription);
      deps.typing.dropConnection(connection.id);
      hub.remove(connection);
      logger.info({ conn: connection.id, user: connection.user.id, code }, 'disconnected');
    });
  }

  async function onFrame(connection: Connection, data: RawData, isBinary: boolean): Promise<void> {
    if (connection.closed) return;
    connection.lastSeenAt = Date.now();
    if (isBinary)
      return connection.close(CLOSE_CODES.UNSUPPORTED_DATA, 'binary frames are not supported');
    const parsed = parseFrame(data.toString());
    if (!parsed.ok) return connection.close(CLOSE_CODES.INVALID_FRAME, parsed.code);
    const [joinRef, ref, topic, event] = parsed.frame;
    const inbound: Inbound = { connection, joinRef, ref, topic };
    let writes = false;
    try {
      writes = await route(inbound, parsed.frame);
    } catch (error) {
      // A write other than a send (a read marker, an ack, the membership a first join of a
      // public room adds) on a full or read-only disk: answered like a refused send, the socket
      // stays open, and the outage is logged once per interval, not once per frame.
      const refused = deps.storageFailure(error);
      if (refused === null) throw error;
      deps.storageLog.failed(refused, 1);
      if (event === EVENTS.join) {
        // A join that failed after subscribing leaves nothing behind.
        const subscription = connection.subscriptions.get(topic);
        if (subscription?.joinRef === joinRef && subscription.held !== null) leave(subscription);
      }
      if (!connection.closed) replyError(inbound, refused);
      return;
    }
    if (writes) deps.storageLog.succeeded();
  }

  /**
   * Routes one frame to its topic's channel (channel-registry.ts). Returns true when the frame
   * was an event that always writes and it was handled.
   */
  async function route(
    inbound: Inbound,
    [joinRef, , topic, event, payload]: Frame,
  ): Promise<boolean> {
    const { connection } = inbound;
    if (!connection.frames.take()) {
      if (!connection.strike('frames'))
        replyError(inbound, failure('rate_limited', 'too many frames'));
      return false;
    }
    const routed = channelOf(topic);
    if (routed === null) {
      replyError(
        inbound,
        failure('unknown_topic', 'topics are chat:<id> or notifications:<user_id>'),
      );
      return false;
    }
    const { channel } = routed;
    if (!channel.joinable) {
      const handler = channel.event(event);
      if (handler === undefined) replyError(inbound, channel.unknownEvent(event));
      else await handler(deps, inbound, payload);
      return false;
    }
    if (event === EVENTS.join) {
      if (joinRef === null) {
        replyError(inbound, failure('invalid_payload', 'phx_join needs a join_ref'));
        return false;
      }
      await channel.join(deps, { ...inbound, joinRef }, routed.topic, payload);
      return false;
    }
    const subscription = connection.subscriptions.get(topic);
    if (
      subscription === undefined ||
      subscription.held !== null ||
      (joinRef !== null && joinRef !== subscription.joinRef)
    ) {
      replyError(inbound, failure('unmatched topic', 'join the topic before pushing to it'));
      return false;
    }
    if (event === EVENTS.leave) {
      channel.leave(deps, subscription);
      replyOk(inbound);
      return false;
    }
    const handler = channel.event(event);
    if (handler === undefined) {
      replyError(inbound, channel.unknownEvent(event));
      return false;
    }
    await handler(deps, { ...inbound, joinRef: subscription.joinRef }, routed.topic, payload);
    return channel.writes(event);
  }

  return {
    closeAll(code, reason) {
      for (const connection of [...hub.connections]) connection.close(code, reason);
    },
    sweep(now = Date.now()) {
      for (const connection of [...hub.connections]) {
        if (now - connection.lastSeenAt > limits.heartbeatTimeoutMs) {
          connection.close(CLOSE_CODES.HEARTBEAT_TIMEOUT, 'heartbeat_timeout');
          continue;
        }
        const expiresAt = expiries.get(connection);
        if (expiresAt != null && now >= expiresAt * 1000) {
          connection.close(CLOSE_CODES.TOKEN_EXPIRED, 'token_expired');
        }
      }
    },
    closeRevoked(userId, generation) {
      let closed = 0;
      for (const connection of [...hub.connectionsOf(userId)]) {
        if ((generations.get(connection) ?? 0) >= generation) continue;
        connection.close(CLOSE_CODES.TOKEN_EXPIRED, 'token_revoked');
        closed += 1;
      }
      return closed;
    },
    revoke(userId, chatId) {
      const topic = chatTopic(chatId);
      for (const connection of hub.connectionsOf(userId)) {
        const subscription = connection.subscriptions.get(topic);
        if (subscription === undefined) continue;
        leave(subscription);
        connection.send(encodeFrame(subscription.joinRef, null, topic, EVENTS.close, {}));
      }
    },
  };
}
