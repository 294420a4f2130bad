import { afterEach, describe, expect, it } from 'vitest';
import type { HostingStatus, Result, StorageOp } from '../../electron/shared/bridge.js';
import { createDesktopStorage, getDesktopBridge, watchHosting } from './desktop-bridge.js';

afterEach(() => {
  delete (globalThis as { parleyDesktop?: unknown }).parleyDesktop;
});

function fakeCache(
  initial: Record<string, string> = {},
  answer: Result<null> = { ok: true, value: null },
) {
  const batches: StorageOp[][] = [];
  return {
    batches,
    loadStorage: async () => ({ ...initial }),
    applyStorage: async (ops: StorageOp[]) => {
      batches.push(ops);
      return answer;
    },
  };
}

describe('getDesktopBridge', () => {
  it('is null in a browser and the preload object in the desktop app', () => {
    expect(getDesktopBridge()).toBeNull();
    const bridge = { hosting: {} };
    (globalThis as { parleyDesktop?: unknown }).parleyDesktop = bridge;
    expect(getDesktopBridge()).toBe(bridge);
  });
});

describe('createDesktopStorage', () => {
  it('reads the loaded copy and writes through in order, one batch per tick', async () => {
    const cache = fakeCache({ 'parley.device': 'd1' });
    const storage = await createDesktopStorage(cache);
    expect(storage.get('parley.device')).toBe('d1');
    storage.set('a', '1');
    storage.set('a', '2');
    storage.remove('parley.device');
    expect(storage.get('a')).toBe('2');
    expect(storage.get('parley.device')).toBeNull();
    await storage.flushed();
    storage.set('b', '3');
    await storage.flushed();
    expect(cache.batches).toEqual([
      [
        { op: 'set', key: 'a', value: '1' },
        { op: 'set', key: 'a', value: '2' },
        { op: 'remove', key: 'parley.device' },
      ],
      [{ op: 'set', key: 'b', value: '3' }],
    ]);
  });

  it('reports a refused write', async () => {
    const errors: string[] = [];
    const storage = await createDesktopStorage(
      fakeCache({}, { ok: false, code: 'storage_full', message: 'at most 1000 keys' }),
      (message) => errors.push(message),
    );
    storage.set('x', 'y');
    await storage.flushed();
    expect(errors).toEqual(['storage_full: at most 1000 keys']);
  });
});

function status(state: HostingStatus['state']): HostingStatus {
  return {
    state,
    url: null,
    lanUrls: [],
    port: null,
    displayName: null,
    relayId: '0'.repeat(32),
    passcodeRequired: false,
    advertised: false,
    tlsFingerprint: null,
    error: null,
  };
}

/** The hosting half of a bridge, whose first answer the test releases when it wants. */
function fakeHosting(first: HostingStatus) {
  let answer: (s: HostingStatus) => void = () => undefined;
  const listeners = new Set<(s: HostingStatus) => void>();
  return {
    push: (s: HostingStatus) => listeners.forEach((l) => l(s)),
    answer: () => answer(first),
    get listeners() {
      return listeners.size;
    },
    status: () => new Promise<HostingStatus>((resolve) => (answer = resolve)),
    onStatusChanged: (listener: (s: HostingStatus) => void) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

describe('watchHosting', () => {
  it('reports the current status, then every change', async () => {
    const hosting = fakeHosting(status('stopped'));
    const seen: string[] = [];
    watchHosting(hosting, (s) => seen.push(s.state));
    hosting.answer();
    await Promise.resolve();
    hosting.push(status('starting'));
    hosting.push(status('running'));
    expect(seen).toEqual(['stopped', 'starting', 'running']);
  });

  it('drops a first answer that arrives after a newer change', async () => {
    const hosting = fakeHosting(status('stopped'));
    const seen: string[] = [];
    watchHosting(hosting, (s) => seen.push(s.state));
    hosting.push(status('running'));
    hosting.answer();
    await Promise.resolve();
    expect(seen).toEqual(['running']);
  });

  it('stops listening when unsubscribed', async () => {
    const hosting = fakeHosting(status('running'));
    const seen: string[] = [];
    const off = watchHosting(hosting, (s) => seen.push(s.state));
    off();
    hosting.answer();
    await Promise.resolve();
    hosting.push(status('stopped'));
    expect(seen).toEqual([]);
    expect(hosting.listeners).toBe(0);
  });
});
