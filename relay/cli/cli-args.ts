/**
 * Command-line and environment configuration for the standalone relay. Flags win over
 * environment variables, which win over the defaults in options.ts.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { didYouMean } from './did-you-mean.js';
import { isLogFormat, LOG_FORMATS, LOG_LEVELS, type LogFormat } from './log-format.js';
import { parseTrustProxy } from '../core/trust-proxy.js';
import { defaultWebDir } from '../http/web-dir.js';
import {
  DEFAULT_LIMITS,
  RelayOptionsError,
  type RelayLimits,
  type RelayOptionsInput,
  type TlsOptions,
} from '../core/options.js';

export const USAGE = `parley-relay: the Parley chat relay (Phoenix Channels over WebSocket, JSON HTTP API)

Usage: parley-relay [options]      (npm run relay -- [options])

  --port N                 PARLEY_PORT              TCP port (default 4000; 0 = any free port)
  --host ADDR              PARLEY_HOST              interface (default 0.0.0.0)
  --data DIR               PARLEY_DATA_DIR          data folder for parley.db (default ./data)
  --memory                                          keep everything in memory (nothing saved)
  --main-room NAME         PARLEY_MAIN_ROOM         public room every user joins (default general)
  --passcode TEXT          PARLEY_PASSCODE          passcode needed to sign in (default none)
  --jwt-secret TEXT        PARLEY_JWT_SECRET        secret for relay-issued tokens (shared by nodes)
  --idp-secret TEXT        PARLEY_IDP_SECRET        verify company JWTs with this HS256 secret
  --idp-public-key FILE    PARLEY_IDP_PUBLIC_KEY    ... or with this PEM public key (RS/ES/EdDSA)
  --jwks-url URL           PARLEY_JWKS_URL          ... or with keys from this JWKS URL
  --idp-issuer ISS         PARLEY_IDP_ISSUER        required "iss" of company JWTs
  --idp-audience AUD       PARLEY_IDP_AUDIENCE      required "aud" of company JWTs
  --durability full|normal PARLEY_DURABILITY        fsync every commit (full, default) or not
  --limit NAME=VALUE       (repeatable)             override a limit, e.g. --limit maxMessageChars=4000
  --web DIR                PARLEY_WEB_DIR           built web client served at / (default dist/renderer)
  --log-level LEVEL        PARLEY_LOG_LEVEL         trace|debug|info|warn|error (default info)
  --log-format FORMAT      PARLEY_LOG_FORMAT        json|pretty|auto (default auto: readable lines
                                                    and a start banner in a terminal, else JSON)
  --trust-proxy LIST       PARLEY_TRUST_PROXY       believe X-Forwarded-For from these proxies:
                                                    loopback (or 1) or ip,ip,... (default: nobody)
  --metrics-listen ADDR:PORT PARLEY_METRICS_LISTEN  serve GET /metrics to anyone reaching ADDR:PORT
                                                    (plain http); default: on the main port, to
                                                    this computer (loopback) only
  --no-mdns                PARLEY_MDNS=0|off        do not advertise the room on the local network;
                                                    host mode advertises it by mDNS (_parley._tcp)
                                                    so the desktop app lists it; --mdns (or
                                                    PARLEY_MDNS=1|on) advertises a cluster node too

  TLS (host mode serves https:// and wss:// with a self-signed certificate made on first run in
  DIR/tls/ and kept; clients pin its SHA-256 fingerprint, printed at start):
  --tls-cert FILE          PARLEY_TLS_CERT          serve this PEM certificate (chain) instead
  --tls-key FILE           PARLEY_TLS_KEY           ... with this PEM private key
  --plain                  PARLEY_PLAIN=1           plain http:// and ws:// (unencrypted; opt-in)

  Cluster (several nodes behind a load balancer; see README "Run a cluster"):
  --database-url URL       PARLEY_DATABASE_URL      PostgreSQL (postgres://user:pass@host/db) instead of SQLite
  --redis-url URL          PARLEY_REDIS_URL         Redis (redis://host:6379) for fan-out between nodes
  --node-id ID             PARLEY_NODE_ID           this node's name (default <hostname>-<random>)
  --node-heartbeat-ms N    PARLEY_NODE_HEARTBEAT_MS how often a node says it is alive (default 1000)
  --node-ttl-ms N          PARLEY_NODE_TTL_MS       silence before a node counts as dead (default 5000)
  A cluster node (--database-url) serves plain http/ws unless given --tls-cert and --tls-key:
  TLS normally ends at the load balancer.
  --version                                         print the version and exit
  --help                                            print this text and exit
`;

export type CliResult =
  /** Not a run: the CLI prints the usage, or with `version` `parley-relay <version>`, and exits 0. */
  | { help: true; version?: true }
  | {
      help: false;
      options: RelayOptionsInput;
      logLevel: string;
      /** json, pretty, or auto (pretty when stdout is a terminal). */
      logFormat: LogFormat;
      /** Host mode asked for plain http/ws (--plain): the process warns about it at start. */
      plainOptIn: boolean;
      /** Advertise the room by mDNS: host mode unless --no-mdns; a cluster node only with --mdns. */
      mdns: boolean;
    };

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliResult {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      memory: { type: 'boolean' },
      'main-room': { type: 'string' },
      passcode: { type: 'string' },
      'jwt-secret': { type: 'string' },
      'idp-secret': { type: 'string' },
      'idp-public-key': { type: 'string' },
      'jwks-url': { type: 'string' },
      'idp-issuer': { type: 'string' },
      'idp-audience': { type: 'string' },
      durability: { type: 'string' },
      limit: { type: 'string', multiple: true },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      web: { type: 'string' },
      'database-url': { type: 'string' },
      'redis-url': { type: 'string' },
      'node-id': { type: 'string' },
      'node-heartbeat-ms': { type: 'string' },
      'node-ttl-ms': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      plain: { type: 'boolean' },
      'trust-proxy': { type: 'string' },
      'metrics-listen': { type: 'string' },
      mdns: { type: 'boolean' },
      'no-mdns': { type: 'boolean' },
      version: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return { help: true };
  if (values.version === true) return { help: true, version: true };
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? env[name];

  const portText = pick(values.port, 'PARLEY_PORT') ?? '4000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText))
    throw new RelayOptionsError('port', `expected a number, got "${portText}"`);

  const limits: Partial<RelayLimits> = {};
  for (const entry of values.limit ?? []) {
    // Split at the first '=' only: split('=', 2) would silently drop the "=00" of "x=40=00".
    const equals = entry.indexOf('=');
    const key = equals === -1 ? undefined : entry.slice(0, equals);
    const value = equals === -1 ? undefined : entry.slice(equals + 1);
    if (
      key === undefined ||
      // Own keys only: `in` would also accept inherited names such as "toString".
      !Object.hasOwn(DEFAULT_LIMITS, key) ||
      value === undefined ||
      !/^\d+$/.test(value)
    ) {
      throw new RelayOptionsError(
        `limit ${entry}`,
        `expected NAME=INTEGER with NAME one of ${Object.keys(DEFAULT_LIMITS).join(', ')}`,
      );
    }
    limits[key as keyof RelayLimits] = Number(value);
  }

  const idpSecret = pick(values['idp-secret'], 'PARLEY_IDP_SECRET');
  const idpKeyFile = pick(values['idp-public-key'], 'PARLEY_IDP_PUBLIC_KEY');
  const jwksUrl = pick(values['jwks-url'], 'PARLEY_JWKS_URL');
  const issuer = pick(values['idp-issuer'], 'PARLEY_IDP_ISSUER');
  const audience = pick(values['idp-audience'], 'PARLEY_IDP_AUDIENCE');
  const usesIdp = idpSecret !== undefined || idpKeyFile !== undefined || jwksUrl !== undefined;

  const durability = pick(values.durability, 'PARLEY_DURABILITY') ?? 'full';
  if (durability !== 'full' && durability !== 'normal') {
    throw new RelayOptionsError('durability', 'expected full or normal');
  }

  // Cluster settings appear in the options only when given; resolveOptions has the defaults.
  const cluster: RelayOptionsInput = {};
  const databaseUrl = pick(values['database-url'], 'PARLEY_DATABASE_URL');
  if (databaseUrl !== undefined) cluster.databaseUrl = databaseUrl;
  const redisUrl = pick(values['redis-url'], 'PARLEY_REDIS_URL');
  if (redisUrl !== undefined) cluster.redisUrl = redisUrl;
  const nodeId = pick(values['node-id'], 'PARLEY_NODE_ID');
  if (nodeId !== undefined) cluster.nodeId = nodeId;
  for (const [flag, env, key] of [
    ['node-heartbeat-ms', 'PARLEY_NODE_HEARTBEAT_MS', 'nodeHeartbeatMs'],
    ['node-ttl-ms', 'PARLEY_NODE_TTL_MS', 'nodeTtlMs'],
  ] as const) {
    const text = pick(values[flag], env);
    if (text === undefined) continue;
    if (!/^\d+$/.test(text)) throw new RelayOptionsError(key, `expected a number, got "${text}"`);
    cluster[key] = Number(text);
  }

  const tls = parseTls(values, env, databaseUrl !== undefined);
  // Given only when set (resolveOptions defaults it to null: no proxy is trusted).
  const trustProxyText = pick(values['trust-proxy'], 'PARLEY_TRUST_PROXY');
  const proxies: RelayOptionsInput =
    trustProxyText === undefined || ['', '0', 'false'].includes(trustProxyText.trim())
      ? {}
      : { trustProxy: parseTrustProxy(trustProxyText) };

  const metricsText = pick(values['metrics-listen'], 'PARLEY_METRICS_LISTEN');
  const metrics: RelayOptionsInput =
    metricsText === undefined ? {} : { metricsListen: parseListenAddress(metricsText) };

  const options: RelayOptionsInput = {
    ...cluster,
    ...proxies,
    ...metrics,
    tls: tls.tls,
    port,
    host: pick(values.host, 'PARLEY_HOST') ?? '0.0.0.0',
    dataDir: values.memory === true ? null : (pick(values.data, 'PARLEY_DATA_DIR') ?? './data'),
    mainRoomName: pick(values['main-room'], 'PARLEY_MAIN_ROOM') ?? 'general',
    passcode: pick(values.passcode, 'PARLEY_PASSCODE') ?? null,
    jwtSecret: pick(values['jwt-secret'], 'PARLEY_JWT_SECRET') ?? null,
    durability,
    webDir: pick(values.web, 'PARLEY_WEB_DIR') ?? defaultWebDir(),
    limits,
    auth: usesIdp
      ? {
          mode: 'jwt',
          ...(idpSecret === undefined ? {} : { secret: idpSecret }),
          ...(idpKeyFile === undefined ? {} : { publicKeyPem: readFileSync(idpKeyFile, 'utf8') }),
          ...(jwksUrl === undefined ? {} : { jwksUrl }),
          ...(issuer === undefined ? {} : { issuer }),
          ...(audience === undefined ? {} : { audience }),
        }
      : { mode: 'relay' },
  };
  return {
    help: false,
    options,
    logLevel: parseLogLevel(pick(values['log-level'], 'PARLEY_LOG_LEVEL') ?? 'info'),
    logFormat: parseLogFormat(pick(values['log-format'], 'PARLEY_LOG_FORMAT')),
    plainOptIn: tls.plainOptIn,
    mdns: parseMdns(values, env, databaseUrl !== undefined),
  };
}

/**
 * mDNS advertisement: on in host mode, off for a cluster node (`cluster` true), whose clients
 * reach it through a load balancer. `--mdns`/`--no-mdns` win over PARLEY_MDNS.
 */
function parseMdns(
  values: { mdns?: boolean; 'no-mdns'?: boolean },
  env: NodeJS.ProcessEnv,
  cluster: boolean,
): boolean {
  if (values.mdns === true && values['no-mdns'] === true) {
    throw new RelayOptionsError('mdns', '--mdns contradicts --no-mdns');
  }
  if (values.mdns === true) return true;
  if (values['no-mdns'] === true) return false;
  const text = env.PARLEY_MDNS?.trim().toLowerCase();
  if (text === undefined || text === '') return !cluster;
  if (['1', 'on', 'true'].includes(text)) return true;
  if (['0', 'off', 'false'].includes(text)) return false;
  throw new RelayOptionsError(
    'mdns',
    `PARLEY_MDNS must be 1/on or 0/off, got "${env.PARLEY_MDNS}"`,
  );
}

function parseLogLevel(text: string): string {
  if ((LOG_LEVELS as readonly string[]).includes(text)) return text;
  throw new RelayOptionsError('log-level', `expected ${LOG_LEVELS.join(', ')}; got "${text}"`);
}

function parseLogFormat(text: string | undefined): LogFormat {
  if (text === undefined || text === '') return 'auto';
  if (isLogFormat(text)) return text;
  throw new RelayOptionsError('log-format', `expected ${LOG_FORMATS.join(', ')}; got "${text}"`);
}

/** Every flag the usage text documents (`--port`, …), for "did you mean". */
const DOCUMENTED_FLAGS: readonly string[] = [...new Set(USAGE.match(/--[a-z][a-z-]*[a-z]/g))];

/**
 * The one line a usage error prints (the CLI adds "see parley-relay --help"): an unknown flag
 * with the documented one it most likely meant, parseArgs's other refusals (a missing value, a
 * value given to a switch, a stray argument) and out-of-range values in their own words.
 */
export function usageMessage(error: unknown, argv: readonly string[]): string {
  if (!(error instanceof Error)) return String(error);
  const code = 'code' in error ? error.code : undefined;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const unknown = argv
      .filter((arg) => arg.startsWith('-') && arg !== '--')
      .map((arg) => arg.split('=')[0] ?? arg)
      .find((flag) => flag !== '-h' && !DOCUMENTED_FLAGS.includes(flag));
    if (unknown !== undefined) {
      const guess = unknown.startsWith('--') ? didYouMean(unknown, DOCUMENTED_FLAGS) : null;
      return `unknown option ${unknown}${guess === null ? '' : ` (did you mean ${guess}?)`}`;
    }
  }
  const missing = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(error.message);
  if (missing !== null) return `option ${missing[1] ?? ''} needs a value`;
  const valued = /^Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(error.message);
  if (valued !== null) return `option ${valued[1] ?? ''} takes no value`;
  const stray = /^Unexpected argument '(.*)'\./s.exec(error.message);
  if (stray !== null) return `unexpected argument "${stray[1] ?? ''}" (every setting is an option)`;
  return error.message;
}

/**
 * Host mode defaults to `tls auto`; `--plain` opts out explicitly; `--tls-cert`/`--tls-key` give
 * the operator's certificate. A cluster node (`cluster` true) defaults to plain: TLS normally ends
 * at the load balancer.
 */
function parseTls(
  values: { 'tls-cert'?: string; 'tls-key'?: string; plain?: boolean },
  env: NodeJS.ProcessEnv,
  cluster: boolean,
): { tls: TlsOptions | null; plainOptIn: boolean } {
  const certFile = values['tls-cert'] ?? env.PARLEY_TLS_CERT;
  const keyFile = values['tls-key'] ?? env.PARLEY_TLS_KEY;
  const plainEnv = env.PARLEY_PLAIN;
  if (plainEnv !== undefined && !['', '0', '1', 'true', 'false'].includes(plainEnv)) {
    throw new RelayOptionsError('plain', `PARLEY_PLAIN must be 1 or 0, got "${plainEnv}"`);
  }
  const plain = values.plain === true || plainEnv === '1' || plainEnv === 'true';
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new RelayOptionsError('tls-cert', '--tls-cert and --tls-key go together');
  }
  if (certFile !== undefined && keyFile !== undefined) {
    if (plain) throw new RelayOptionsError('plain', '--plain contradicts --tls-cert/--tls-key');
    return {
      tls: { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') },
      plainOptIn: false,
    };
  }
  if (plain) return { tls: null, plainOptIn: !cluster };
  return { tls: cluster ? null : { mode: 'auto' }, plainOptIn: false };
}

/** `HOST:PORT` or `[IPv6]:PORT` (`--metrics-listen`); a usage error otherwise. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (match === null || host === undefined || port > 65_535) {
    throw new RelayOptionsError(
      'metrics-listen',
      `expected ADDR:PORT (e.g. 10.0.0.5:9464), got "${text}"`,
    );
  }
  return { host, port };
}
