/**
 * startRelay: one port for HTTP and WebSocket; SQLite storage and the in-process bus on one
 * host, or PostgreSQL and Redis as a node of a cluster (see backends.ts and cluster.ts).
 * Used by the desktop app (embedded), by the command line, and by the tests.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { CLOSE_CODES, failure } from '../protocol/errors.js';
import { Auth } from '../identity/auth.js';
import { defaultNodeId, openBackends } from './backends.js';
import { ChatService } from '../core/chat-service.js';
import { answerClientErrors } from '../http/client-errors.js';
import { CLOSE_HANDSHAKE_GRACE_MS } from '../transport/connection.js';
import { AddressLimit, HTTP_SERVER_TIMEOUTS } from '../http/connection-limits.js';
import { ClusterNode } from '../cluster/cluster.js';
import { startDelivery } from '../transport/delivery.js';
import { parseTopic } from '../protocol/topics.js';
import { createHttpApi } from '../http/http-api.js';
import { HttpOutputGuard } from '../http/http-output.js';
import { Hub } from '../transport/hub.js';
import { sendError } from '../http/http-util.js';
import { createStaticHandler } from '../http/static-files.js';
import { createLogger } from './logger.js';
import { MembershipCache } from '../core/membership-cache.js';
import { MessageWriter } from '../core/message-writer.js';
import { OpenSockets } from '../http/open-sockets.js';
import { RelayMetrics } from './metrics.js';
import { resolveOptions, type RelayOptions, type RelayOptionsInput } from '../core/options.js';
import { PasscodeGate } from '../identity/passcode.js';
import { PresenceTracker, type ChatPresence } from '../core/presence.js';
import { StorageFailureLog, storageOrDatabaseFailure } from '../core/storage-errors.js';
import { attachSocketServer } from '../transport/socket-server.js';
import { resolveTls, TLS_HANDSHAKE_TIMEOUT_MS } from './tls.js';
import type { Store } from '../core/store.js';
import { clientAddress } from '../core/trust-proxy.js';
import { TypingTracker, type ChatTyping } from '../core/typing.js';
import { RELAY_VERSION } from '../core/version.js';

/** While storage refuses writes, at most one log line per this interval (with a count). */
const STORAGE_LOG_INTERVAL_MS = 10_000;
/**
 * On close, how long an HTTP request already being answered has to finish before every socket
 * that is not a WebSocket (idle, mid-TLS-handshake, keep-alive, a slow download) is cut.
 */
const HTTP_CLOSE_GRACE_MS = 500;

export interface RunningRelay {
  /** Base HTTP URL, e.g. http://127.0.0.1:4000 (https://… with TLS) */
  url: string;
  /** Phoenix socket URL for `new Socket(url)`, e.g. ws://127.0.0.1:4000/socket (wss://… with TLS) */
  socketUrl: string;
  port: number;
  /** SHA-256 of the served certificate, `AB:12:…` (relay/node/tls-fingerprint.ts); null without TLS. */
  tlsFingerprint: string | null;
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
  // First, before anything opens: a bad certificate must not leave a database open behind it.
  const tls = await resolveTls(options.tls, options.dataDir, logger);
  const metrics = new RelayMetrics({ nodeId, processMetrics: options.processMetrics });
  const backends = await openBackends(options, nodeId, logger, metrics);
  const { store, bus } = backends;
  const hub = new Hub();
  hub.observe({
    subscribed: (subscription) =>
      metrics.joins.inc({
        topic: parseTopic(subscription.topic)?.kind === 'chat' ? 'chat' : 'notifications',
      }),
    delivered: (sent) => metrics.messagesOut.inc(sent),
  });
  const members = new MembershipCache(store);
  const storageLog = new StorageFailureLog(logger, STORAGE_LOG_INTERVAL_MS);
  // The writer publishes what it committed (sends and changes) on the bus itself.
  const writer = new MessageWriter({
    store,
    bus,
    maxQueue: limits.maxWriteQueue,
    onCommitted: (kind) => {
      if (kind === 'message') metrics.messagesIn.inc();
    },
    onError: (error) => {
      metrics.error('storage_write');
      logger.error({ err: error }, 'message write failed');
    },
    // A full or read-only disk refuses every send: counted each time, logged once a while.
    onStorageFailure: (problem, messages) => {
      metrics.error('storage_write');
      storageLog.failed(problem, messages);
    },
    onStorageOk: () => storageLog.succeeded(),
  });
  // In a cluster, the node's liveness also answers for the other nodes; it starts below.
  const cluster =
    backends.cluster === null
      ? null
      : new ClusterNode({
          nodeId,
          bus: backends.cluster,
          hub,
          store,
          members,
          limits,
          logger,
          heartbeatMs: options.nodeHeartbeatMs,
          nodeTtlMs: options.nodeTtlMs,
          // Called only after a bus loss, long after `sockets` below exists.
          revoke: (userId, chatId) => sockets.revoke(userId, chatId),
        });
  const service = new ChatService({
    store,
    liveness: cluster?.liveness ?? hub,
    bus,
    members,
    writer,
    limits,
    logger,
  });
  await service.ensureMainRoom(options.mainRoomName);
  const auth = await Auth.create({
    auth: options.auth,
    jwtSecret: options.jwtSecret,
    tokenTtlS: options.tokenTtlS,
    store,
    onExternalUser: (user) => service.welcome(user),
  });
  const passcode = await PasscodeGate.create(options.passcode);
  cluster?.start();
  const presence: ChatPresence = cluster?.presence ?? new PresenceTracker();
  const typing: ChatTyping =
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
    ready: () => backends.ready(),
    clientAddress: (req) => clientAddress(req, options.trustProxy),
    // Sockets are attached below; a revocation comes with a request, long after.
    tokensRevoked: (userId, generation) => sockets.closeRevoked(userId, generation),
  });
  const web = options.webDir === null ? null : createStaticHandler(options.webDir);
  const addressLimit = new AddressLimit(
    limits.maxConnectionsPerAddress,
    logger,
    options.trustProxy,
  );
  // One answer at a time per connection, its unsent output bounded (http-output.ts).
  const httpOutput = new HttpOutputGuard({ maxBufferedBytes: limits.maxBufferedBytes, logger });
  const handle: RequestListener = (req, res) => {
    // Already answered 429 (connection-limits.ts): a request read anyway is not served.
    if (addressLimit.refused(req.socket)) return void req.socket.destroy();
    httpOutput.run(req, res, () => serve(req, res));
  };
  const serve: RequestListener = (req, res) => {
    if (!addressLimit.admitForwarded(req, res)) {
      return sendError(res, failure('rate_limited', 'too many connections from this address'));
    }
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
  };
  // With TLS, the same handler and the same WebSocket upgrade, behind https.
  const server: Server =
    tls === null
      ? createServer(HTTP_SERVER_TIMEOUTS, handle)
      : createHttpsServer(
          {
            ...HTTP_SERVER_TIMEOUTS,
            handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
            cert: tls.certPem,
            key: tls.keyPem,
          },
          handle,
        );
  addressLimit.attach(server);
  const openSockets = new OpenSockets();
  openSockets.attach(server);
  // The backstop for sockets that never become WebSockets, from however many addresses: beyond
  // maxSockets Node closes a new socket at once (PROTOCOL.md, "Limits").
  server.maxConnections = limits.maxSockets;
  // A plain http request or a client refusing the certificate: the handshake fails, nothing is served.
  server.on('tlsClientError', (error: Error) =>
    logger.debug({ err: error }, 'tls handshake failed'),
  );
  // Requests the HTTP parser refuses: a JSON 400 (431, 408) where an answer can still be given.
  answerClientErrors(server, logger);
  // The data folder lets a vague SQLite I/O error read as the full or read-only disk it is.
  const sqliteDir = options.databaseUrl === null ? options.dataDir : null;
  const sockets = attachSocketServer(server, {
    hub,
    service,
    store,
    presence,
    typing,
    limits,
    logger,
    auth,
    storageFailure: (error) => storageOrDatabaseFailure(error, sqliteDir),
    // Read markers, acks and memberships written from sockets: their own rate-limited lines.
    storageLog: new StorageFailureLog(logger, STORAGE_LOG_INTERVAL_MS, 'socket'),
    clientAddress: (req) => clientAddress(req, options.trustProxy),
    admitUpgrade: (req, socket) => addressLimit.admitForwarded(req, socket),
  });
  const stopDelivery = startDelivery({
    bus,
    hub,
    members,
    store,
    notifications: service.notifications,
    logger,
    revoke: sockets.revoke,
  });

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

  // `--metrics-listen`: /metrics on an address of the operator's choosing, nothing else there.
  const metricsServer =
    options.metricsListen === null ? null : createServer((req, res) => metrics.serveAll(req, res));
  const metricsPort =
    options.metricsListen === null || metricsServer === null
      ? null
      : await listen(metricsServer, options.metricsListen.port, options.metricsListen.host);
  const port = await listen(server, options.port, options.host);
  const host = urlHost(options.host);
  const url = `${tls === null ? 'http' : 'https'}://${host}:${port}`;
  const socketUrl = `${tls === null ? 'ws' : 'wss'}://${host}:${port}/socket`;
  logger.info(
    {
      port,
      url,
      tlsFingerprint: tls?.fingerprint ?? null,
      host: options.host,
      dataDir: options.databaseUrl === null ? options.dataDir : null,
      storage: options.databaseUrl === null ? 'sqlite' : 'postgres',
      bus: cluster === null ? 'local' : 'redis',
      nodeId,
      version: RELAY_VERSION,
      metricsPort,
    },
    'relay listening',
  );

  let closing: Promise<void> | null = null;
  async function close(): Promise<void> {
    for (const timer of timers) clearInterval(timer);
    httpOutput.close();
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    sockets.closeAll(CLOSE_CODES.GOING_AWAY, 'relay shutting down');
    server.closeIdleConnections();
    // server.close() waits for every socket, and Node's HTTP layer alone cannot end them all
    // (open-sockets.ts): a request being answered may finish, then the rest is cut; WebSockets
    // get the close handshake's grace, and so does an upgrade still checking its token.
    const graces = [
      setTimeout(() => openSockets.destroy({ upgraded: false }), HTTP_CLOSE_GRACE_MS),
      setTimeout(() => openSockets.destroy(), CLOSE_HANDSHAKE_GRACE_MS),
    ];
    await writer.drain();
    stopDelivery();
    cluster?.close();
    await bus.close();
    await serverClosed;
    for (const grace of graces) clearTimeout(grace);
    await store.close();
    logger.info('relay closed');
  }

  return {
    url,
    socketUrl,
    port,
    tlsFingerprint: tls?.fingerprint ?? null,
    options,
    store,
    logger,
    nodeId,
    metrics,
    close: () => (closing ??= close()),
  };
}
