/**
 * startRelay: one port for HTTP and WebSocket; SQLite storage and the in-process bus on one
 * host, or PostgreSQL and Redis as a node of a cluster (see backends.ts and cluster.ts).
 * Used by the desktop app (embedded), by the command line, and by the tests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { CLOSE_CODES, failure } from './protocol/errors.js';
import { Auth } from './auth.js';
import { backendsReady, defaultNodeId, openBus, openStore } from './backends.js';
import { ChatService } from './chat-service.js';
import { startClusterNode } from './cluster.js';
import { startDelivery } from './delivery.js';
import { createHttpApi } from './http-api.js';
import { sendError } from './http-util.js';
import { createStaticHandler } from './static-files.js';
import { createLogger } from './logger.js';
import { MembershipCache } from './membership-cache.js';
import { MessageWriter } from './message-writer.js';
import { RelayMetrics } from './metrics.js';
import { ObservedHub } from './observed-hub.js';
import { resolveOptions, type RelayOptions, type RelayOptionsInput } from './options.js';
import { PasscodeGate } from './passcode.js';
import { PresenceTracker } from './presence.js';
import { RedisBus } from './redis-bus.js';
import { attachSocketServer } from './socket-server.js';
import type { Store } from './store.js';
import { TypingTracker } from './typing.js';
import { RELAY_VERSION } from './version.js';

export interface RunningRelay {
  /** Base HTTP URL, e.g. http://127.0.0.1:4000 */
  url: string;
  /** Phoenix socket URL for `new Socket(url)`, e.g. ws://127.0.0.1:4000/socket */
  socketUrl: string;
  port: number;
  options: RelayOptions;
  store: Store;
  logger: Logger;
  /** This node's id (logs, metrics, cluster). */
  nodeId: string;
  metrics: RelayMetrics;
  /** Closes every connection with 1001, finishes queued writes, closes the database. */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startRelay(input: RelayOptionsInput = {}): Promise<RunningRelay> {
  const options = resolveOptions(input);
  const { limits } = options;
  const nodeId = options.nodeId ?? defaultNodeId();
  const baseLogger = options.logger ?? createLogger();
  const logger = options.redisUrl === null ? baseLogger : baseLogger.child({ node: nodeId });
  const metrics = new RelayMetrics({ nodeId, processMetrics: options.processMetrics });
  const store = await openStore(options, logger, metrics);
  const bus = await openBus(options, nodeId, logger, metrics);
  const hub = new ObservedHub();
  hub.observe({
    subscribed: (subscription) =>
      metrics.joins.inc({
        topic: subscription.topic.startsWith('chat:') ? 'chat' : 'notifications',
      }),
    delivered: (sent) => metrics.messagesOut.inc(sent),
  });
  const members = new MembershipCache(store);
  const writer = new MessageWriter({
    store,
    maxQueue: limits.maxWriteQueue,
    onCommitted: (result, request) => {
      metrics.messagesIn.inc();
      bus.publish({
        type: 'message',
        message: result.message,
        originConnectionId: request.originConnectionId,
      });
    },
    onError: (error) => {
      metrics.error('storage_write');
      logger.error({ err: error }, 'message write failed');
    },
  });
  const service = new ChatService({ store, hub, bus, members, writer, limits, logger });
  await service.ensureMainRoom(options.mainRoomName);
  const auth = await Auth.create({
    auth: options.auth,
    jwtSecret: options.jwtSecret,
    tokenTtlS: options.tokenTtlS,
    store,
    onExternalUser: (user) => service.welcome(user),
  });
  const passcode = await PasscodeGate.create(options.passcode);
  const cluster =
    bus instanceof RedisBus
      ? startClusterNode({
          nodeId,
          bus,
          hub,
          store,
          members,
          limits,
          logger,
          heartbeatMs: options.nodeHeartbeatMs,
          nodeTtlMs: options.nodeTtlMs,
        })
      : null;
  const presence = cluster?.presence ?? new PresenceTracker();
  const typing =
    cluster?.typing ??
    new TypingTracker(limits.typingTtlMs, (chatId, userIds) =>
      bus.publish({ type: 'typing', chatId, userIds }),
    );
  metrics.observe({
    connections: () => hub.connectionCount,
    writeQueue: () => writer.queued,
    peers: () => cluster?.peers() ?? 0,
  });

  const api = createHttpApi({
    store,
    auth,
    service,
    passcode,
    limits,
    logger,
    version: RELAY_VERSION,
    ready: () => backendsReady(store, bus),
  });
  const web = options.webDir === null ? null : createStaticHandler(options.webDir);
  const server = createServer((req, res) => {
    if (metrics.serve(req, res)) return;
    api(req, res)
      .then(async (handled) => handled || (web !== null && (await web(req, res))))
      .then((handled) => {
        if (!handled) sendError(res, failure('not_found', 'no such route'));
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'http handler failed');
        if (!res.headersSent) sendError(res, failure('internal_error'));
      });
  });
  server.on('clientError', (error, socket) => {
    logger.debug({ err: error }, 'http client error');
    socket.destroy();
  });
  const sockets = attachSocketServer(server, {
    hub,
    service,
    store,
    presence,
    typing,
    limits,
    logger,
    auth,
  });
  const stopDelivery = startDelivery({ bus, hub, members, store, logger, revoke: sockets.revoke });

  const timers = [
    setInterval(() => typing.sweep(), Math.min(1_000, limits.typingTtlMs)),
    setInterval(() => sockets.sweep(), Math.min(5_000, Math.ceil(limits.heartbeatTimeoutMs / 4))),
    setInterval(() => {
      store
        .deleteExpired(new Date())
        .catch((error: unknown) => logger.error({ err: error }, 'expiry sweep failed'));
    }, options.sweepIntervalMs),
  ];
  for (const timer of timers) timer.unref();

  const port = await listen(server, options.port, options.host);
  const host = urlHost(options.host);
  logger.info(
    {
      port,
      host: options.host,
      dataDir: options.databaseUrl === null ? options.dataDir : null,
      storage: options.databaseUrl === null ? 'sqlite' : 'postgres',
      bus: cluster === null ? 'local' : 'redis',
      nodeId,
      version: RELAY_VERSION,
    },
    'relay listening',
  );

  let closing: Promise<void> | null = null;
  async function close(): Promise<void> {
    for (const timer of timers) clearInterval(timer);
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    sockets.closeAll(CLOSE_CODES.GOING_AWAY, 'relay shutting down');
    server.closeIdleConnections();
    await writer.drain();
    stopDelivery();
    cluster?.close();
    await bus.close();
    // Sockets that do not finish the close handshake are cut after the grace period.
    const grace = setTimeout(() => server.closeAllConnections(), 2_500);
    await serverClosed;
    clearTimeout(grace);
    await store.close();
    logger.info('relay closed');
  }

  return {
    url: `http://${host}:${port}`,
    socketUrl: `ws://${host}:${port}/socket`,
    port,
    options,
    store,
    logger,
    nodeId,
    metrics,
    close: () => (closing ??= close()),
  };
}
