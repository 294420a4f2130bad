/**
 * The Phoenix socket endpoint, `/socket/websocket?vsn=2.0.0&token=…&device_unique_id=…`:
 * authenticates the upgrade, then reads frames, enforces limits and routes each frame to its
 * channel. A bad frame is answered or closes that one socket; the server keeps running.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CLOSE_CODES, failure, type Failure } from '../protocol/errors.js';
import { parseFrame, type Frame } from '../protocol/frame.js';
import { parseTopic } from '../protocol/topics.js';
import type { Auth, Identity } from '../identity/auth.js';
import type { ChannelDeps } from './channel-deps.js';
import { joinChat, leaveChat, markRead, sendMessage, setTyping } from './chat-channel.js';
import { Connection } from './connection.js';
import { requestUrl } from '../http/http-util.js';
import { newId } from '../core/ids.js';
import {
  ackNotifications,
  joinNotifications,
  leaveNotifications,
} from './notifications-channel.js';
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

/** Events whose success shows that storage takes writes again (they always write). */
const WRITING_EVENTS: ReadonlySet<string> = new Set(['read', 'ack_notifications']);

export function attachSocketServer(server: Server, deps: SocketServerDeps): SocketServer {
  const { hub, limits, logger } = deps;
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
      for (const subscription of [...connection.subscriptions.values()]) {
        if (subscription.topic.startsWith('chat:')) leaveChat(deps, subscription);
        else leaveNotifications(deps, subscription);
      }
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
    try {
      await route(inbound, parsed.frame);
    } catch (error) {
      // A write other than a send (a read marker, an ack, the membership a first join of a
      // public room adds) on a full or read-only disk: answered like a refused send, the socket
      // stays open, and the outage is logged once per interval, not once per frame.
      const refused = deps.storageFailure(error);
      if (refused === null) throw error;
      deps.storageLog.failed(refused, 1);
      if (event === 'phx_join') {
        // A join that failed after subscribing leaves nothing behind.
        const subscription = connection.subscriptions.get(topic);
        if (subscription?.joinRef === joinRef && subscription.held !== null) {
          if (topic.startsWith('chat:')) leaveChat(deps, subscription);
          else leaveNotifications(deps, subscription);
        }
      }
      if (!connection.closed) replyError(inbound, refused);
      return;
    }
    if (WRITING_EVENTS.has(event)) deps.storageLog.succeeded();
  }

  async function route(inbound: Inbound, [joinRef, , topic, event, payload]: Frame): Promise<void> {
    const { connection } = inbound;
    if (!connection.frames.take()) {
      if (!connection.strike('frames'))
        replyError(inbound, failure('rate_limited', 'too many frames'));
      return;
    }
    const route = parseTopic(topic);
    if (route?.kind === 'phoenix') {
      if (event === 'heartbeat') return replyOk(inbound);
      return replyError(
        inbound,
        failure('unknown_event', `the phoenix topic only takes heartbeat`),
      );
    }
    if (route === null) {
      return replyError(
        inbound,
        failure('unknown_topic', 'topics are chat:<id> or notifications:<user_id>'),
      );
    }
    if (event === 'phx_join') {
      if (joinRef === null)
        return replyError(inbound, failure('invalid_payload', 'phx_join needs a join_ref'));
      if (route.kind === 'chat')
        return joinChat(deps, { ...inbound, joinRef, chatId: route.chatId }, payload);
      return joinNotifications(deps, { ...inbound, joinRef, userId: route.userId });
    }
    const subscription = connection.subscriptions.get(topic);
    if (
      subscription === undefined ||
      subscription.held !== null ||
      (joinRef !== null && joinRef !== subscription.joinRef)
    ) {
      return replyError(inbound, failure('unmatched topic', 'join the topic before pushing to it'));
    }
    if (event === 'phx_leave') {
      if (route.kind === 'chat') leaveChat(deps, subscription);
      else leaveNotifications(deps, subscription);
      return replyOk(inbound);
    }
    if (route.kind === 'chat') {
      const chatInbound = { ...inbound, joinRef: subscription.joinRef, chatId: route.chatId };
      switch (event) {
        case 'send_message':
          return sendMessage(deps, chatInbound, payload);
        case 'typing':
          return setTyping(deps, chatInbound, payload);
        case 'read':
          return markRead(deps, chatInbound, payload);
      }
    } else if (event === 'ack_notifications') {
      return ackNotifications(
        deps,
        { ...inbound, joinRef: subscription.joinRef, userId: route.userId },
        payload,
      );
    }
    return replyError(
      inbound,
      failure('unknown_event', `${event} is not an event of ${route.kind} topics`),
    );
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
      const topic = `chat:${chatId}`;
      for (const connection of hub.connectionsOf(userId)) {
        const subscription = connection.subscriptions.get(topic);
        if (subscription === undefined) continue;
        leaveChat(deps, subscription);
        connection.send(JSON.stringify([subscription.joinRef, null, topic, 'phx_close', {}]));
      }
    },
  };
}
