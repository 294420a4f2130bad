import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCli, usageMessage, USAGE } from './cli-args.js';
import { RelayOptionsError, resolveOptions, type RelayOptionsInput } from '../core/options.js';
import { defaultWebDir } from '../http/web-dir.js';

/** Parses and expects options (not --help). */
function options(argv: string[], env: NodeJS.ProcessEnv = {}): RelayOptionsInput {
  const result = parseCli(argv, env);
  if (result.help) throw new Error('unexpected --help result');
  return result.options;
}

function logLevel(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  const result = parseCli(argv, env);
  if (result.help) throw new Error('unexpected --help result');
  return result.logLevel;
}

function cliError(argv: string[], env: NodeJS.ProcessEnv = {}): RelayOptionsError {
  try {
    parseCli(argv, env);
  } catch (error) {
    if (error instanceof RelayOptionsError) return error;
    throw error;
  }
  throw new Error(`parseCli accepted ${argv.join(' ')}`);
}

describe('parseCli', () => {
  it('uses the standalone defaults with no flags and no environment', () => {
    expect(parseCli([], {})).toEqual({
      help: false,
      logLevel: 'info',
      logFormat: 'auto',
      options: {
        port: 4000,
        host: '0.0.0.0',
        dataDir: './data',
        mainRoomName: 'general',
        passcode: null,
        jwtSecret: null,
        durability: 'full',
        webDir: defaultWebDir(),
        limits: {},
        auth: { mode: 'relay' },
        tls: { mode: 'auto' },
      },
      plainOptIn: false,
      mdns: true,
    });
  });

  it('answers --version without reading anything else', () => {
    expect(parseCli(['--version'], {})).toEqual({ help: true, version: true });
    expect(parseCli(['--port', 'x', '--version'], {})).toEqual({ help: true, version: true });
    expect(USAGE).toMatch(/^ {2}--version +print the version and exit$/m);
  });

  it('reads --log-format and PARLEY_LOG_FORMAT (default auto) and refuses others', () => {
    const format = (argv: string[], env: NodeJS.ProcessEnv = {}): unknown => {
      const result = parseCli(argv, env);
      return result.help ? null : result.logFormat;
    };
    expect(format([])).toBe('auto');
    expect(format(['--log-format', 'json'])).toBe('json');
    expect(format([], { PARLEY_LOG_FORMAT: 'pretty' })).toBe('pretty');
    expect(format(['--log-format=json'], { PARLEY_LOG_FORMAT: 'pretty' })).toBe('json');
    for (const bad of ['JSON', 'text', 'yes']) {
      const error = cliError(['--log-format', bad]);
      expect(error.option).toBe('log-format');
      expect(error.message).toContain(`got "${bad}"`);
      expect(cliError([], { PARLEY_LOG_FORMAT: bad }).option).toBe('log-format');
    }
    expect(cliError(['--log-level', 'loud']).message).toMatch(/trace, debug, info.*got "loud"/);
  });

  it('words usage errors in one line: unknown flags with a guess, missing values, strays', () => {
    const message = (argv: string[]): string => {
      try {
        parseCli(argv, {});
      } catch (error) {
        return usageMessage(error, argv);
      }
      throw new Error(`parseCli accepted ${argv.join(' ')}`);
    };
    expect(message(['--prot', '4000'])).toBe('unknown option --prot (did you mean --port?)');
    expect(message(['--port', '1', '--verison'])).toBe(
      'unknown option --verison (did you mean --version?)',
    );
    expect(message(['--plian'])).toBe('unknown option --plian (did you mean --plain?)');
    expect(message(['--memory', '--bogus=1'])).toBe('unknown option --bogus');
    expect(message(['-x'])).toBe('unknown option -x');
    expect(message(['--port'])).toBe('option --port needs a value');
    expect(message(['--memory=yes'])).toBe('option --memory takes no value');
    expect(message(['4000'])).toBe('unexpected argument "4000" (every setting is an option)');
    expect(message(['--port', 'abc'])).toBe(
      'invalid relay option port: expected a number, got "abc"',
    );
    for (const text of ['--prot', '--port', '--memory=yes', '4000'].map((arg) => message([arg]))) {
      expect(text).not.toContain('\n');
    }
  });

  it('answers --help and -h', () => {
    expect(parseCli(['--help'], {})).toEqual({ help: true });
    expect(parseCli(['-h', '--port', 'x'], {})).toEqual({ help: true });
    expect(USAGE).toContain('--limit NAME=VALUE');
  });

  it('reads every flag', () => {
    const argv = [
      '--port=0',
      '--host',
      '127.0.0.1',
      '--data',
      '/srv/parley',
      '--main-room',
      'lobby',
      '--passcode',
      'letmein',
      '--jwt-secret',
      'j'.repeat(32),
      '--durability',
      'normal',
      '--log-level',
      'debug',
      '--web',
      '/srv/web',
    ];
    expect(options(argv)).toEqual({
      port: 0,
      host: '127.0.0.1',
      dataDir: '/srv/parley',
      mainRoomName: 'lobby',
      passcode: 'letmein',
      jwtSecret: 'j'.repeat(32),
      durability: 'normal',
      webDir: '/srv/web',
      limits: {},
      auth: { mode: 'relay' },
      tls: { mode: 'auto' },
    });
    expect(logLevel(argv)).toBe('debug');
  });

  it('falls back to PARLEY_* environment variables', () => {
    const env = {
      PARLEY_PORT: '5000',
      PARLEY_HOST: '::1',
      PARLEY_DATA_DIR: '/env/data',
      PARLEY_MAIN_ROOM: 'env-room',
      PARLEY_PASSCODE: 'env-pass',
      PARLEY_JWT_SECRET: 'e'.repeat(32),
      PARLEY_DURABILITY: 'normal',
      PARLEY_LOG_LEVEL: 'warn',
    };
    expect(options([], env)).toMatchObject({
      port: 5000,
      host: '::1',
      dataDir: '/env/data',
      mainRoomName: 'env-room',
      passcode: 'env-pass',
      jwtSecret: 'e'.repeat(32),
      durability: 'normal',
    });
    expect(logLevel([], env)).toBe('warn');
  });

  it('lets flags beat the environment', () => {
    const env = { PARLEY_PORT: '5000', PARLEY_HOST: '::1', PARLEY_LOG_LEVEL: 'warn' };
    expect(options(['--port', '6000', '--host', '10.0.0.1'], env)).toMatchObject({
      port: 6000,
      host: '10.0.0.1',
    });
    expect(logLevel(['--log-level', 'error'], env)).toBe('error');
  });

  it('--memory keeps everything in memory, whatever --data or PARLEY_DATA_DIR say', () => {
    expect(options(['--memory'])).toMatchObject({ dataDir: null });
    expect(options(['--memory', '--data', '/x'], { PARLEY_DATA_DIR: '/y' })).toMatchObject({
      dataDir: null,
    });
  });

  it('rejects a port that is not a number', () => {
    for (const port of ['abc', '-1', '4000x', '', '1e3']) {
      const error = cliError([`--port=${port}`]);
      expect(error.option).toBe('port');
      expect(error.code).toBe('ERR_RELAY_OPTION');
    }
    expect(cliError([], { PARLEY_PORT: 'eighty' }).option).toBe('port');
  });

  it('leaves out-of-range ports to resolveOptions', () => {
    const error = (() => {
      try {
        resolveOptions(options(['--port', '70000']));
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(RelayOptionsError);
    expect((error as RelayOptionsError).option).toBe('port');
  });

  it('rejects an unknown durability', () => {
    expect(cliError(['--durability', 'paranoid']).option).toBe('durability');
    expect(cliError([], { PARLEY_DURABILITY: 'FULL' }).option).toBe('durability');
  });

  it('parses repeated --limit NAME=VALUE', () => {
    expect(
      options(['--limit', 'maxMessageChars=4000', '--limit', 'joinHistory=20']).limits,
    ).toEqual({ maxMessageChars: 4000, joinHistory: 20 });
    expect(options(['--limit', 'joinHistory=20', '--limit', 'joinHistory=30']).limits).toEqual({
      joinHistory: 30,
    });
  });

  it('rejects a malformed --limit, naming it and listing the valid names', () => {
    for (const entry of [
      'maxMessageChars',
      'maxMessageChars=',
      '=4000',
      'maxMessageChars=abc',
      'maxMessageChars=-1',
      'maxMessageChars=4.5',
      'maxMessageChars=40=00',
      'maxMessageSize=4000',
      'toString=5',
      '__proto__=5',
    ]) {
      const error = cliError(['--limit', entry]);
      expect(error.option, entry).toBe(`limit ${entry}`);
      expect(error.message).toContain('maxMessageChars');
    }
  });

  it('rejects unknown flags', () => {
    expect(() => parseCli(['--prot', '80'], {})).toThrow(/--prot/);
  });

  it('stays in relay mode without an identity-provider key, ignoring issuer/audience', () => {
    expect(options([], { PARLEY_IDP_ISSUER: 'idp', PARLEY_IDP_AUDIENCE: 'parley' }).auth).toEqual({
      mode: 'relay',
    });
  });

  it('switches to jwt mode with an HS256 secret, from a flag or the environment', () => {
    expect(options(['--idp-secret', 's3cret', '--idp-issuer', 'https://idp']).auth).toEqual({
      mode: 'jwt',
      secret: 's3cret',
      issuer: 'https://idp',
    });
    expect(options([], { PARLEY_IDP_SECRET: 'env', PARLEY_IDP_AUDIENCE: 'parley' }).auth).toEqual({
      mode: 'jwt',
      secret: 'env',
      audience: 'parley',
    });
  });

  it('switches to jwt mode with a JWKS URL', () => {
    expect(options(['--jwks-url', 'https://idp/jwks']).auth).toEqual({
      mode: 'jwt',
      jwksUrl: 'https://idp/jwks',
    });
  });

  it('reads the PEM public key from the given file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
    try {
      const file = join(dir, 'idp.pem');
      const pem = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n';
      writeFileSync(file, pem);
      expect(options([], { PARLEY_IDP_PUBLIC_KEY: file }).auth).toEqual({
        mode: 'jwt',
        publicKeyPem: pem,
      });
      expect(() => options(['--idp-public-key', join(dir, 'missing.pem')])).toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes two key sources through, for resolveOptions to refuse', () => {
    const input = options(['--idp-secret', 's', '--jwks-url', 'https://idp/jwks']);
    expect(() => resolveOptions(input)).toThrow(RelayOptionsError);
    expect(() => resolveOptions(input)).toThrow(/exactly one of/);
  });

  it('serves TLS in host mode by default; --plain or PARLEY_PLAIN=1 opt out, and say so', () => {
    const plainOptIn = (argv: string[], env: NodeJS.ProcessEnv = {}): boolean => {
      const result = parseCli(argv, env);
      if (result.help) throw new Error('unexpected --help result');
      return result.plainOptIn;
    };
    expect(options([]).tls).toEqual({ mode: 'auto' });
    expect(options(['--memory']).tls).toEqual({ mode: 'auto' });
    expect(options(['--plain']).tls).toBeNull();
    expect(plainOptIn(['--plain'])).toBe(true);
    expect(options([], { PARLEY_PLAIN: '1' }).tls).toBeNull();
    expect(options([], { PARLEY_PLAIN: '0' }).tls).toEqual({ mode: 'auto' });
    expect(plainOptIn([])).toBe(false);
    expect(cliError([], { PARLEY_PLAIN: 'yes please' }).option).toBe('plain');
  });

  it('advertises by mDNS in host mode unless --no-mdns or PARLEY_MDNS=0/off; a cluster node only with --mdns', () => {
    const mdns = (argv: string[], env: NodeJS.ProcessEnv = {}): boolean => {
      const result = parseCli(argv, env);
      if (result.help) throw new Error('unexpected --help result');
      return result.mdns;
    };
    expect(mdns([])).toBe(true);
    expect(mdns(['--memory'])).toBe(true);
    expect(mdns(['--no-mdns'])).toBe(false);
    for (const off of ['0', 'off', 'OFF', 'false'])
      expect(mdns([], { PARLEY_MDNS: off })).toBe(false);
    expect(mdns([], { PARLEY_MDNS: '' })).toBe(true);
    // The flag wins over the environment, both ways.
    expect(mdns(['--mdns'], { PARLEY_MDNS: 'off' })).toBe(true);
    expect(mdns(['--no-mdns'], { PARLEY_MDNS: 'on' })).toBe(false);

    const cluster = ['--database-url', 'postgres://db/parley'];
    expect(mdns(cluster)).toBe(false);
    expect(mdns([], { PARLEY_DATABASE_URL: 'postgres://db/parley' })).toBe(false);
    expect(mdns([...cluster, '--mdns'])).toBe(true);
    for (const on of ['1', 'on', 'true']) expect(mdns(cluster, { PARLEY_MDNS: on })).toBe(true);

    expect(cliError([], { PARLEY_MDNS: 'maybe' }).message).toMatch(
      /PARLEY_MDNS must be 1\/on or 0\/off/,
    );
    expect(cliError(['--mdns', '--no-mdns']).option).toBe('mdns');
    expect(USAGE).toMatch(/--no-mdns +PARLEY_MDNS=0\|off/);
  });

  it('keeps cluster nodes plain by default (TLS ends at the load balancer)', () => {
    const url = ['--database-url', 'postgres://u@db/parley'];
    expect(options(url).tls).toBeNull();
    const result = parseCli([...url, '--plain'], {});
    expect(result.help === false && result.plainOptIn).toBe(false);
  });

  it("reads the operator's certificate and key, from flags or the environment", () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
    try {
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      writeFileSync(cert, 'CERT');
      writeFileSync(key, 'KEY');
      expect(options(['--tls-cert', cert, '--tls-key', key]).tls).toEqual({
        certPem: 'CERT',
        keyPem: 'KEY',
      });
      expect(
        options(['--database-url', 'postgres://u@db/p'], {
          PARLEY_TLS_CERT: cert,
          PARLEY_TLS_KEY: key,
        }).tls,
      ).toEqual({ certPem: 'CERT', keyPem: 'KEY' });
      expect(cliError(['--tls-cert', cert]).option).toBe('tls-cert');
      expect(cliError(['--tls-key', key]).option).toBe('tls-cert');
      expect(cliError(['--tls-cert', cert, '--tls-key', key, '--plain']).option).toBe('plain');
      expect(() => options(['--tls-cert', join(dir, 'missing'), '--tls-key', key])).toThrow(
        /ENOENT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('trusts no proxy by default; --trust-proxy / PARLEY_TRUST_PROXY name them', () => {
    expect(resolveOptions(options([])).trustProxy).toBeNull();
    expect(resolveOptions(options([], { PARLEY_TRUST_PROXY: '0' })).trustProxy).toBeNull();
    expect(options([], { PARLEY_TRUST_PROXY: '1' }).trustProxy).toBe('loopback');
    expect(options(['--trust-proxy', 'loopback']).trustProxy).toBe('loopback');
    expect(options(['--trust-proxy', '10.0.0.5, fd00::7']).trustProxy).toEqual([
      '10.0.0.5',
      'fd00::7',
    ]);
    expect(() => resolveOptions(options(['--trust-proxy', 'proxy.internal']))).toThrow(
      /trustProxy.*not an IP address: proxy\.internal/,
    );
  });

  it('produces options resolveOptions accepts', () => {
    const resolved = resolveOptions(
      options(['--port', '0', '--memory', '--limit', 'maxMessageChars=4000']),
    );
    expect(resolved).toMatchObject({ port: 0, dataDir: null });
    expect(resolved.limits.maxMessageChars).toBe(4000);
  });
});
