/**
 * Relay options: every default is set here, once, and every bad option throws a precise
 * `RelayOptionsError` (code `ERR_RELAY_OPTION`) before anything starts.
 */
import type { Logger } from 'pino';
import { DEFAULT_MAX_MESSAGE_CHARS } from '../protocol/message-content.js';
import { trustProxyProblem, type TrustProxy } from './trust-proxy.js';

/** Limits a client cannot exceed. Documented in relay/PROTOCOL.md ("Limits"). */
export interface RelayLimits {
  /** Largest WebSocket frame accepted, in bytes (`ws` maxPayload; bigger frames close with 1009). */
  maxPayloadBytes: number;
  /** Longest message content, in UTF-16 code units. */
  maxMessageChars: number;
  /** Sustained send_message rate per connection, and the burst allowed above it. */
  messagesPerSecond: number;
  messageBurst: number;
  /** Sustained typing events per connection per second, and the burst. */
  typingPerSecond: number;
  typingBurst: number;
  /** Any frame at all, per connection per second, and the burst. */
  framesPerSecond: number;
  frameBurst: number;
  /** Limit breaches (each answered with an error) tolerated per minute before closing with 1008. */
  strikesPerMinute: number;
  /** Topics one connection may have joined at once. */
  maxJoinsPerConnection: number;
  /** Connections one user may hold at once (devices and tabs). */
  maxConnectionsPerUser: number;
  /** Connections the relay accepts in total. */
  maxConnections: number;
  /**
   * TCP connections (HTTP and WebSocket, before and after sign-in) one client address may hold
   * at once; beyond, HTTP 429. Behind a reverse proxy or load balancer every client shares its
   * address: raise it there. Cluster nodes default to maxConnections (no per-address bound).
   */
  maxConnectionsPerAddress: number;
  /**
   * Open TCP sockets of any kind the HTTP(S) server keeps (`server.maxConnections`): a backstop
   * for connections that never become WebSockets, from many addresses. Beyond it a new socket
   * is closed at once, unanswered. Defaults to maxConnections + 1024 unless set.
   */
  maxSockets: number;
  /** Bytes queued for one client before it counts as a slow consumer (closed with 4001). */
  maxBufferedBytes: number;
  /** A connection that sends nothing (not even a heartbeat) for this long is closed with 4000. */
  heartbeatTimeoutMs: number;
  /** Messages waiting for the database; beyond this, sends fail with `overloaded`. */
  maxWriteQueue: number;
  /** Messages returned with a plain chat join. */
  joinHistory: number;
  /** Messages returned with a `since_seq` join before `has_more` asks the client to page. */
  resumeMax: number;
  /**
   * Bytes of messages (their JSON encoding) in one history page or join reply, whatever the
   * count; beyond, `has_more` (relay/core/history-page.ts). A join reply gets less while the
   * connection already has output waiting, so joins never push it towards maxBufferedBytes.
   */
  maxPageBytes: number;
  /** A typing user who sends no update for this long stops counting as typing. */
  typingTtlMs: number;
  /** Pending notifications kept per user, and sent per push. */
  pendingPerUser: number;
  pendingPerPush: number;
  /** In rooms with more members than this, offline members get pending notifications only for mentions. */
  pendingFanoutMaxMembers: number;
  /** Largest HTTP request body, in bytes. */
  maxHttpBodyBytes: number;
  /** Sign-in attempts per client address per minute (passcode guessing is locked out beyond). */
  sessionAttemptsPerMinute: number;
  /** Rooms one user may create per minute (and at once). */
  roomCreationsPerMinute: number;
  /** Message searches one user may run per minute (and at once). */
  searchesPerMinute: number;
  /**
   * First lockout of an address that used up its sign-in attempts; each further lockout within a
   * day doubles it, up to 64 times (relay/identity/passcode.ts, SignInGuard).
   */
  sessionLockoutMs: number;
  /**
   * Wrong passcodes the whole relay checks per hour (and at once), whatever their source; beyond,
   * passcode sign-ins are locked out like an address (relay/identity/passcode-budget.ts).
   */
  passcodeFailuresPerHour: number;
  /** Wrong passcodes one IPv4 /24 or IPv6 /48 may try per hour (and at once). */
  passcodeFailuresPerNetworkPerHour: number;
  /**
   * Wrong recovery or device-link codes for one display name before that name's code sign-ins
   * are locked out (relay/identity/code-guard.ts); unknown names count the same.
   */
  codeFailuresPerName: number;
  /** First lockout of a name's code sign-ins; doubles per lockout within a day, up to 64×. */
  codeLockoutMs: number;
  /** Code sign-ins per minute across the whole relay, whatever the name or address. */
  codeAttemptsPerMinute: number;
  /** How long a device-link code works. */
  linkCodeTtlMs: number;
  /** Device-link codes one user may have outstanding; a new one drops the oldest beyond. */
  linkCodesPerUser: number;
}

export type AuthOptions =
  | { mode: 'relay' }
  | {
      mode: 'jwt';
      /** HS256 shared secret. */
      secret?: string;
      /** PEM (SPKI) public key for RS*, ES*, EdDSA. */
      publicKeyPem?: string;
      /** JWKS endpoint of the identity provider. */
      jwksUrl?: string;
      issuer?: string;
      audience?: string;
    };

/**
 * TLS of the relay's one port (https and wss). `{ mode: 'auto' }`: a self-signed certificate made
 * on first run in `<dataDir>/tls/` and reused (a new one per run when dataDir is null); or the
 * operator's own PEM certificate (chain) and key. See relay/node/tls.ts.
 */
export type TlsOptions = { mode: 'auto' } | { certPem: string; keyPem: string };

export interface RelayOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Interface to listen on. */
  host: string;
  /** Folder for parley.db; null keeps everything in memory (tests, throwaway rooms). */
  dataDir: string | null;
  /** Name of the public main room every new user joins. */
  mainRoomName: string;
  /** Sign-in passcode for relay-issued sessions; null means open. */
  passcode: string | null;
  /** Who issues tokens: the relay itself (host mode) or the company's identity provider. */
  auth: AuthOptions;
  /** Secret for relay-issued tokens; null generates one and keeps it in the database. */
  jwtSecret: string | null;
  /** Lifetime of relay-issued tokens, in seconds. */
  tokenTtlS: number;
  /** SQLite durability: FULL survives power loss, NORMAL survives a killed process. */
  durability: 'full' | 'normal';
  /** How often expired ephemeral messages are deleted. */
  sweepIntervalMs: number;
  limits: RelayLimits;
  /** Path to a better_sqlite3.node for this runtime (the desktop app passes Electron's build). */
  sqliteNativeBinding: string | undefined;
  /** pino logger; the default logs JSON lines at `info` to stdout. */
  logger: Logger | undefined;
  /** Folder of the built web client served at `/`; null serves none. */
  webDir: string | null;
  /** PostgreSQL URL (`postgres://…`): the cluster's shared storage. Null stores in SQLite. */
  databaseUrl: string | null;
  /** Redis URL (`redis://…`): fan-out between cluster nodes. Null uses the in-process bus. */
  redisUrl: string | null;
  /** This node's name in logs, metrics and the cluster; null generates `<hostname>-<random>`. */
  nodeId: string | null;
  /** Cluster: how often a node tells the others it is alive. */
  nodeHeartbeatMs: number;
  /** Cluster: silence after which a node counts as dead (its presence and typing vanish). */
  nodeTtlMs: number;
  /** Export Node's process metrics (heap, event loop, CPU) at /metrics too. */
  processMetrics: boolean;
  /**
   * A second, plain-HTTP listener that serves only `GET /metrics`, to whoever reaches it (bind it
   * to an address only the monitoring network reaches). Null (the default): /metrics is served
   * on the main port to loopback clients only (relay/node/metrics.ts, isLocalClient).
   */
  metricsListen: { host: string; port: number } | null;
  /** https/wss instead of http/ws; null (the library default) serves plain http/ws. */
  tls: TlsOptions | null;
  /**
   * Reverse proxies whose `X-Forwarded-For` names the client (relay/core/trust-proxy.ts): `loopback`
   * or a list of their addresses. Null (the default): the TCP peer is the client.
   */
  trustProxy: TrustProxy | null;
}

export type RelayOptionsInput = Partial<Omit<RelayOptions, 'limits'>> & {
  limits?: Partial<RelayLimits>;
};

/** Sockets beyond maxConnections: sign-ins, API calls and upgrades in progress. */
export const SOCKET_MARGIN = 1_024;

export const DEFAULT_LIMITS: RelayLimits = {
  maxPayloadBytes: 64 * 1024,
  maxMessageChars: DEFAULT_MAX_MESSAGE_CHARS,
  messagesPerSecond: 20,
  messageBurst: 50,
  typingPerSecond: 4,
  typingBurst: 8,
  framesPerSecond: 200,
  frameBurst: 400,
  strikesPerMinute: 30,
  maxJoinsPerConnection: 500,
  maxConnectionsPerUser: 32,
  maxConnections: 50_000,
  maxConnectionsPerAddress: 256,
  maxSockets: 50_000 + SOCKET_MARGIN,
  maxBufferedBytes: 4 * 1024 * 1024,
  heartbeatTimeoutMs: 60_000,
  maxWriteQueue: 10_000,
  joinHistory: 50,
  resumeMax: 500,
  maxPageBytes: 1024 * 1024,
  typingTtlMs: 6_000,
  pendingPerUser: 1_000,
  pendingPerPush: 100,
  pendingFanoutMaxMembers: 200,
  maxHttpBodyBytes: 256 * 1024,
  sessionAttemptsPerMinute: 10,
  roomCreationsPerMinute: 30,
  searchesPerMinute: 120,
  sessionLockoutMs: 60_000,
  passcodeFailuresPerHour: 20,
  passcodeFailuresPerNetworkPerHour: 10,
  codeFailuresPerName: 5,
  codeLockoutMs: 15 * 60_000,
  codeAttemptsPerMinute: 60,
  linkCodeTtlMs: 10 * 60_000,
  linkCodesPerUser: 3,
};

export const DEFAULT_OPTIONS: Omit<RelayOptions, 'limits'> = {
  port: 4000,
  host: '0.0.0.0',
  dataDir: null,
  mainRoomName: 'general',
  passcode: null,
  auth: { mode: 'relay' },
  jwtSecret: null,
  tokenTtlS: 90 * 24 * 3600,
  durability: 'full',
  sweepIntervalMs: 1_000,
  sqliteNativeBinding: undefined,
  logger: undefined,
  webDir: null,
  databaseUrl: null,
  redisUrl: null,
  nodeId: null,
  nodeHeartbeatMs: 1_000,
  nodeTtlMs: 5_000,
  processMetrics: false,
  metricsListen: null,
  tls: null,
  trustProxy: null,
};

export class RelayOptionsError extends Error {
  readonly code = 'ERR_RELAY_OPTION';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`invalid relay option ${option}: ${message}`);
    this.name = 'RelayOptionsError';
  }
}

function positiveInteger(name: string, value: number, { allowZero = false } = {}): void {
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RelayOptionsError(
      name,
      `expected a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`,
    );
  }
}

function urlWithProtocol(name: string, value: string, protocols: string[]): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RelayOptionsError(name, `expected a URL (${protocols.join(' or ')}//…)`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new RelayOptionsError(name, `expected ${protocols.join(' or ')}, got ${url.protocol}`);
  }
}

/** The cluster options: URLs, node id, heartbeat timing. */
function checkCluster(options: RelayOptions): void {
  if (options.databaseUrl !== null) {
    urlWithProtocol('databaseUrl', options.databaseUrl, ['postgres:', 'postgresql:']);
  }
  if (options.redisUrl !== null) {
    urlWithProtocol('redisUrl', options.redisUrl, ['redis:', 'rediss:']);
    // Nodes with a bus but their own SQLite files would each hold a different history.
    if (options.databaseUrl === null) {
      throw new RelayOptionsError('redisUrl', 'a cluster needs databaseUrl (PostgreSQL) too');
    }
  }
  if (options.nodeId !== null && !/^[A-Za-z0-9_.-]{1,64}$/.test(options.nodeId)) {
    throw new RelayOptionsError('nodeId', 'expected 1 to 64 of A-Z a-z 0-9 _ . -');
  }
  positiveInteger('nodeHeartbeatMs', options.nodeHeartbeatMs);
  positiveInteger('nodeTtlMs', options.nodeTtlMs);
  if (options.nodeTtlMs < 2 * options.nodeHeartbeatMs) {
    throw new RelayOptionsError('nodeTtlMs', 'must be at least twice nodeHeartbeatMs');
  }
}

/** The shape of the TLS option; the certificate itself is checked when the relay starts. */
function checkTls(tls: unknown): void {
  if (tls === null) return;
  if (typeof tls !== 'object') throw new RelayOptionsError('tls', 'expected null or an object');
  const keys = Object.keys(tls).sort().join(',');
  const record = tls as Record<string, unknown>;
  if (keys === 'mode' && record.mode === 'auto') return;
  if (
    keys === 'certPem,keyPem' &&
    typeof record.certPem === 'string' &&
    record.certPem.length > 0 &&
    typeof record.keyPem === 'string' &&
    record.keyPem.length > 0
  ) {
    return;
  }
  throw new RelayOptionsError('tls', "expected null, { mode: 'auto' } or { certPem, keyPem }");
}

/** Fills in defaults and validates. Throws RelayOptionsError on the first bad option. */
export function resolveOptions(input: RelayOptionsInput = {}): RelayOptions {
  const { limits: limitsInput, ...rest } = input;
  const defined = Object.fromEntries(
    Object.entries(rest).filter(([, value]) => value !== undefined),
  ) as Partial<Omit<RelayOptions, 'limits'>>;
  const options: RelayOptions = {
    ...DEFAULT_OPTIONS,
    ...defined,
    limits: { ...DEFAULT_LIMITS },
  };
  for (const [key, value] of Object.entries(limitsInput ?? {})) {
    // Own keys only: `in` would also accept inherited names such as "toString".
    if (!Object.hasOwn(DEFAULT_LIMITS, key)) {
      throw new RelayOptionsError(`limits.${key}`, 'unknown limit');
    }
    if (value === undefined) continue;
    positiveInteger(`limits.${key}`, value);
    options.limits[key as keyof RelayLimits] = value;
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
    throw new RelayOptionsError('port', `expected 0..65535, got ${String(options.port)}`);
  }
  if (typeof options.host !== 'string' || options.host.length === 0) {
    throw new RelayOptionsError('host', 'expected an interface address');
  }
  if (options.mainRoomName.trim().length === 0 || options.mainRoomName.length > 80) {
    throw new RelayOptionsError('mainRoomName', 'expected 1 to 80 characters');
  }
  if (options.passcode !== null && options.passcode.length === 0) {
    throw new RelayOptionsError('passcode', 'an empty passcode would lock nobody out; pass null');
  }
  if (options.jwtSecret !== null && options.jwtSecret.length < 32) {
    throw new RelayOptionsError('jwtSecret', 'use at least 32 characters');
  }
  if (options.auth.mode === 'jwt') {
    const { secret, publicKeyPem, jwksUrl } = options.auth;
    const given = [secret, publicKeyPem, jwksUrl].filter((value) => value !== undefined);
    if (given.length !== 1) {
      throw new RelayOptionsError(
        'auth',
        'jwt mode needs exactly one of secret, publicKeyPem, jwksUrl',
      );
    }
  }
  if (!['full', 'normal'].includes(options.durability)) {
    throw new RelayOptionsError('durability', 'expected "full" or "normal"');
  }
  checkCluster(options);
  // Behind a load balancer every client shares its address: a cluster node bounds connections
  // per address only when told to.
  if (options.redisUrl !== null && limitsInput?.maxConnectionsPerAddress === undefined) {
    options.limits.maxConnectionsPerAddress = options.limits.maxConnections;
  }
  checkTls(options.tls);
  const metricsListen = options.metricsListen;
  if (
    metricsListen !== null &&
    (typeof metricsListen !== 'object' ||
      typeof metricsListen.host !== 'string' ||
      metricsListen.host.length === 0 ||
      !Number.isInteger(metricsListen.port) ||
      metricsListen.port < 0 ||
      metricsListen.port > 65_535)
  ) {
    throw new RelayOptionsError('metricsListen', 'expected null or {host, port} with port 0–65535');
  }
  const trustProblem = trustProxyProblem(options.trustProxy);
  if (trustProblem !== null) throw new RelayOptionsError('trustProxy', trustProblem);
  if (limitsInput?.maxSockets === undefined) {
    options.limits.maxSockets = options.limits.maxConnections + SOCKET_MARGIN;
  }
  positiveInteger('tokenTtlS', options.tokenTtlS);
  positiveInteger('sweepIntervalMs', options.sweepIntervalMs);
  if (options.limits.messageBurst < options.limits.messagesPerSecond) {
    throw new RelayOptionsError('limits.messageBurst', 'must be at least messagesPerSecond');
  }
  if (options.limits.maxMessageChars > 100_000) {
    throw new RelayOptionsError('limits.maxMessageChars', 'at most 100000');
  }
  return options;
}
