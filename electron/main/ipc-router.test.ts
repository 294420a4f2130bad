import { describe, expect, it } from 'vitest';
import { INVOKE, SEND } from '../shared/channels.js';
import { APP_ENTRY_URL, APP_ORIGIN } from './app-protocol.js';
import { INVOKE_SCHEMAS, validateArgs } from './ipc-schemas.js';
import {
  IpcRejectedError,
  isTrustedSender,
  registerIpc,
  type InvokeHandlers,
  type SendHandlers,
} from './ipc-router.js';
import { LoopbackIpc } from './testing/loopback-ipc.js';

const TOP = { url: APP_ENTRY_URL, parent: null };

function setup() {
  const ipc = new LoopbackIpc();
  const calls: unknown[][] = [];
  const invoke = new Proxy({} as InvokeHandlers, {
    get:
      (_target, channel) =>
      (...args: unknown[]) => {
        calls.push([channel, ...args]);
        return { ok: true, value: null };
      },
  });
  const send = new Proxy({} as SendHandlers, {
    get:
      (_target, channel) =>
      (...args: unknown[]) => {
        calls.push([channel, ...args]);
      },
  });
  const rejected: IpcRejectedError[] = [];
  const unregister = registerIpc({
    ipc,
    appOrigin: APP_ORIGIN,
    invoke,
    send,
    onRejected: (e) => rejected.push(e),
  });
  return { ipc, calls, rejected, unregister };
}

describe('registerIpc', () => {
  it('registers every declared channel once', () => {
    const { ipc, unregister } = setup();
    expect(ipc.channels.sort()).toEqual([...Object.values(INVOKE), ...Object.values(SEND)].sort());
    unregister();
    expect(ipc.channels).toEqual([]);
  });

  it('passes valid calls from the app frame to the handler', async () => {
    const { ipc, calls } = setup();
    await ipc.invoke(TOP, 'hosting:start', { port: 4000, displayName: 'Ana' });
    ipc.send(TOP, 'notifications:set-badge', 3);
    expect(calls).toEqual([
      ['hosting:start', { port: 4000, displayName: 'Ana' }],
      ['notifications:set-badge', 3],
    ]);
  });

  it('rejects calls from a remote page, an iframe or a vanished frame, before any handler runs', async () => {
    const { ipc, calls, rejected } = setup();
    await expect(
      ipc.invoke({ url: 'https://evil.example/', parent: null }, 'hosting:stop'),
    ).rejects.toThrow(/untrusted sender/);
    await expect(ipc.invoke({ url: APP_ENTRY_URL, parent: {} }, 'hosting:stop')).rejects.toThrow(
      IpcRejectedError,
    );
    await expect(ipc.invoke(null, 'hosting:stop')).rejects.toThrow(/untrusted/);
    ipc.send({ url: 'file:///x.html', parent: null }, 'notifications:flash');
    expect(calls).toEqual([]);
    expect(rejected.map((e) => e.code)).toEqual([
      'ERR_IPC_SENDER',
      'ERR_IPC_SENDER',
      'ERR_IPC_SENDER',
      'ERR_IPC_SENDER',
    ]);
  });

  it('rejects bad arguments, naming the first bad one, before any handler runs', async () => {
    const { ipc, calls } = setup();
    await expect(
      ipc.invoke(TOP, 'hosting:start', { port: -1, displayName: 'Ana' }),
    ).rejects.toThrow(/argument 0\.port/);
    await expect(
      ipc.invoke(TOP, 'hosting:start', { port: 1, displayName: 'Ana', extra: true }),
    ).rejects.toThrow(/ERR|argument/);
    await expect(ipc.invoke(TOP, 'hosting:stop', 'surprise')).rejects.toThrow(/arguments/);
    await expect(ipc.invoke(TOP, 'settings:set', 'colour', 'red')).rejects.toThrow(
      /unknown setting/,
    );
    await expect(ipc.invoke(TOP, 'cache:save-history', 's', '../x', [])).rejects.toThrow(
      /argument 1/,
    );
    ipc.send(TOP, 'notifications:set-badge', -5);
    ipc.send(TOP, 'notifications:set-badge', '3');
    expect(calls).toEqual([]);
  });
});

describe('hosting:invite and tls:pin-for arguments', () => {
  it('pass a well-formed call through unchanged', async () => {
    const { ipc, calls } = setup();
    await ipc.invoke(TOP, 'hosting:invite', {});
    await ipc.invoke(TOP, 'hosting:invite', { lanUrl: 'https://10.0.0.5:4000', room: 'general' });
    await ipc.invoke(TOP, 'hosting:invite', { lanUrl: null, room: null });
    await ipc.invoke(TOP, 'hosting:invite', { room: 'general', roomName: 'General & more' });
    await ipc.invoke(TOP, 'tls:pin-for', 'https://10.0.0.5:4000');
    expect(calls).toEqual([
      ['hosting:invite', {}],
      ['hosting:invite', { lanUrl: 'https://10.0.0.5:4000', room: 'general' }],
      ['hosting:invite', { lanUrl: null, room: null }],
      ['hosting:invite', { room: 'general', roomName: 'General & more' }],
      ['tls:pin-for', 'https://10.0.0.5:4000'],
    ]);
  });

  it('refuse malformed ones before any handler runs', async () => {
    const { ipc, calls, rejected } = setup();
    // A room id that could smuggle more query parameters into the link.
    await expect(
      ipc.invoke(TOP, 'hosting:invite', { room: 'general&fingerprint=00' }),
    ).rejects.toThrow(/argument 0\.room/);
    await expect(ipc.invoke(TOP, 'hosting:invite', { room: 'x'.repeat(65) })).rejects.toThrow(
      /argument 0\.room/,
    );
    await expect(
      ipc.invoke(TOP, 'hosting:invite', { room: 'r1', roomName: 'n'.repeat(81) }),
    ).rejects.toThrow(/argument 0\.roomName/);
    await expect(ipc.invoke(TOP, 'hosting:invite', { room: 'r1', roomName: 7 })).rejects.toThrow(
      /argument 0\.roomName/,
    );
    await expect(ipc.invoke(TOP, 'hosting:invite', { lanUrl: 'h'.repeat(2_049) })).rejects.toThrow(
      /argument 0\.lanUrl/,
    );
    await expect(ipc.invoke(TOP, 'hosting:invite', { lanUrl: 7 })).rejects.toThrow(
      /argument 0\.lanUrl/,
    );
    // The fingerprint and host come from the hosting status, never from the page.
    await expect(
      ipc.invoke(TOP, 'hosting:invite', { fingerprint: 'AB'.repeat(32) }),
    ).rejects.toThrow(/ERR|argument/);
    await expect(ipc.invoke(TOP, 'hosting:invite')).rejects.toThrow(/argument/);
    await expect(ipc.invoke(TOP, 'tls:pin-for')).rejects.toThrow(/argument/);
    await expect(ipc.invoke(TOP, 'tls:pin-for', '')).rejects.toThrow(/argument 0/);
    await expect(ipc.invoke(TOP, 'tls:pin-for', 'x'.repeat(2_049))).rejects.toThrow(/argument 0/);
    await expect(ipc.invoke(TOP, 'tls:pin-for', { url: 'https://a' })).rejects.toThrow(
      /argument 0/,
    );
    await expect(ipc.invoke(TOP, 'tls:pin-for', 'https://a', 'extra')).rejects.toThrow(/argument/);
    await expect(
      ipc.invoke({ url: 'https://evil.example/', parent: null }, 'tls:pin-for', 'https://a'),
    ).rejects.toThrow(/untrusted sender/);
    expect(calls).toEqual([]);
    expect(rejected).toHaveLength(14);
  });
});

describe('sender and argument checks', () => {
  it('trusts only the top frame of the app origin', () => {
    expect(isTrustedSender(TOP, APP_ORIGIN)).toBe(true);
    expect(isTrustedSender({ url: 'app://parley.evil/index.html', parent: null }, APP_ORIGIN)).toBe(
      false,
    );
    expect(isTrustedSender({ url: 'not a url', parent: null }, APP_ORIGIN)).toBe(false);
  });

  it('bounds strings and arrays', () => {
    expect(validateArgs(INVOKE_SCHEMAS['discovery:probe'], ['x'.repeat(3_000)]).ok).toBe(false);
    expect(
      validateArgs(INVOKE_SCHEMAS['cache:apply-storage'], [
        Array.from({ length: 1_001 }, () => ({ op: 'remove', key: 'k' })),
      ]).ok,
    ).toBe(false);
    expect(
      validateArgs(INVOKE_SCHEMAS['profiles:save'], [
        { label: 'A', urls: ['a'], auth: { kind: 'token', token: '' } },
      ]).ok,
    ).toBe(false);
  });
});
