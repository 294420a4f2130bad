import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  DEFAULT_OPTIONS,
  RelayOptionsError,
  resolveOptions,
  type RelayOptionsInput,
} from './options.js';

/** Runs resolveOptions and returns the RelayOptionsError it must throw. */
function optionError(input: RelayOptionsInput): RelayOptionsError {
  try {
    resolveOptions(input);
  } catch (error) {
    if (error instanceof RelayOptionsError) return error;
    throw error;
  }
  throw new Error(`resolveOptions accepted ${JSON.stringify(input)}`);
}

function expectRejected(input: RelayOptionsInput, option: string): void {
  const error = optionError(input);
  expect(error.code).toBe('ERR_RELAY_OPTION');
  expect(error.name).toBe('RelayOptionsError');
  expect(error.option).toBe(option);
  expect(error.message).toContain(`invalid relay option ${option}: `);
}

describe('resolveOptions', () => {
  it('fills in every default', () => {
    expect(resolveOptions()).toEqual({ ...DEFAULT_OPTIONS, limits: DEFAULT_LIMITS });
    expect(resolveOptions({})).toEqual(resolveOptions());
  });

  it('documents sensible defaults', () => {
    const options = resolveOptions();
    expect(options).toMatchObject({
      port: 4000,
      host: '0.0.0.0',
      dataDir: null,
      mainRoomName: 'general',
      passcode: null,
      auth: { mode: 'relay' },
      jwtSecret: null,
      durability: 'full',
    });
    expect(options.limits.maxPayloadBytes).toBe(64 * 1024);
    expect(options.limits.messageBurst).toBeGreaterThanOrEqual(options.limits.messagesPerSecond);
  });

  it('returns fresh limits, so changing them never changes the defaults', () => {
    const options = resolveOptions();
    options.limits.maxMessageChars = 1;
    expect(DEFAULT_LIMITS.maxMessageChars).toBe(8_000);
    expect(resolveOptions().limits.maxMessageChars).toBe(8_000);
  });

  it('takes given options and limits, and ignores undefined ones', () => {
    const options = resolveOptions({
      port: 0,
      host: '127.0.0.1',
      dataDir: '/var/lib/parley',
      passcode: 'letmein',
      jwtSecret: 's'.repeat(32),
      durability: 'normal',
      mainRoomName: undefined,
      limits: { maxMessageChars: 4_000, joinHistory: undefined },
    });
    expect(options).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      dataDir: '/var/lib/parley',
      passcode: 'letmein',
      durability: 'normal',
      mainRoomName: 'general',
    });
    expect(options.limits.maxMessageChars).toBe(4_000);
    expect(options.limits.joinHistory).toBe(DEFAULT_LIMITS.joinHistory);
  });

  it('accepts jwt mode with exactly one key source', () => {
    for (const auth of [
      { mode: 'jwt', secret: 'idp-secret' },
      { mode: 'jwt', publicKeyPem: '-----BEGIN PUBLIC KEY-----' },
      { mode: 'jwt', jwksUrl: 'https://idp.example/jwks', issuer: 'idp', audience: 'parley' },
    ] as const) {
      expect(resolveOptions({ auth }).auth).toEqual(auth);
    }
  });

  it.each<[string, RelayOptionsInput]>([
    ['port', { port: -1 }],
    ['port', { port: 65_536 }],
    ['port', { port: 80.5 }],
    ['port', { port: Number.NaN }],
    ['host', { host: '' }],
    ['mainRoomName', { mainRoomName: '   ' }],
    ['mainRoomName', { mainRoomName: 'r'.repeat(81) }],
    ['passcode', { passcode: '' }],
    ['jwtSecret', { jwtSecret: 'short' }],
    ['jwtSecret', { jwtSecret: 's'.repeat(31) }],
    ['auth', { auth: { mode: 'jwt' } }],
    ['auth', { auth: { mode: 'jwt', secret: 'a', jwksUrl: 'https://idp.example/jwks' } }],
    ['durability', { durability: 'fast' as 'full' }],
    ['tokenTtlS', { tokenTtlS: 0 }],
    ['tokenTtlS', { tokenTtlS: 1.5 }],
    ['sweepIntervalMs', { sweepIntervalMs: -1 }],
    ['limits.maxPayloadBytes', { limits: { maxPayloadBytes: 0 } }],
    ['limits.joinHistory', { limits: { joinHistory: -5 } }],
    ['limits.typingTtlMs', { limits: { typingTtlMs: 0.5 } }],
    ['limits.maxConnections', { limits: { maxConnections: Number.POSITIVE_INFINITY } }],
    ['limits.messageBurst', { limits: { messagesPerSecond: 100 } }],
    ['limits.messageBurst', { limits: { messagesPerSecond: 10, messageBurst: 5 } }],
    ['limits.maxMessageChars', { limits: { maxMessageChars: 100_001 } }],
  ])('rejects a bad %s: %j', (option, input) => {
    expectRejected(input, option);
  });

  it('rejects an unknown limit by name, including names inherited from Object', () => {
    for (const name of ['maxMessageSize', 'toString', 'constructor', '__proto__']) {
      const limits = JSON.parse(`{"${name}": 5}`) as RelayOptionsInput['limits'];
      expectRejected({ limits }, `limits.${name}`);
    }
  });

  it('accepts the edge values', () => {
    expect(resolveOptions({ port: 65_535 }).port).toBe(65_535);
    expect(resolveOptions({ mainRoomName: 'r'.repeat(80) }).mainRoomName).toHaveLength(80);
    expect(resolveOptions({ jwtSecret: 's'.repeat(32) }).jwtSecret).toHaveLength(32);
    expect(resolveOptions({ limits: { maxMessageChars: 100_000 } }).limits.maxMessageChars).toBe(
      100_000,
    );
  });
});
