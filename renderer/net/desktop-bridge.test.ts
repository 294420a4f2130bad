import { afterEach, describe, expect, it } from 'vitest';
import type { Result, StorageOp } from '../../electron/shared/bridge.js';
import { createDesktopStorage, getDesktopBridge } from './desktop-bridge.js';

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
