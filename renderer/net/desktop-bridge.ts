/**
 * The optional desktop bridge. In the Electron app the preload exposes `window.parleyDesktop`
 * (interface: electron/shared/bridge.ts); in a plain browser it is absent and the web client
 * works without it. Types only come from electron/shared: nothing of Electron reaches here.
 */
import type {
  HostingStatus,
  ParleyDesktopBridge,
  StorageOp,
} from '../../electron/shared/bridge.js';
import type { KeyValueStorage } from './storage.js';

export type { ParleyDesktopBridge } from '../../electron/shared/bridge.js';

/** The desktop bridge, or null in a browser. */
export function getDesktopBridge(): ParleyDesktopBridge | null {
  const candidate = (globalThis as { parleyDesktop?: unknown }).parleyDesktop;
  return typeof candidate === 'object' && candidate !== null
    ? (candidate as ParleyDesktopBridge)
    : null;
}

/**
 * Follows this computer's hosting status: the current one (asked once), then every change pushed
 * by the main process. A change that arrives before the answer to the first question wins (the
 * answer is older). Returns the unsubscribe.
 */
export function watchHosting(
  hosting: Pick<ParleyDesktopBridge['hosting'], 'status' | 'onStatusChanged'>,
  listener: (status: HostingStatus) => void,
  onError: (error: unknown) => void = () => undefined,
): () => void {
  let live = true;
  let pushed = false;
  const unsubscribe = hosting.onStatusChanged((status) => {
    pushed = true;
    if (live) listener(status);
  });
  hosting.status().then((status) => {
    if (live && !pushed) listener(status);
  }, onError);
  return () => {
    live = false;
    unsubscribe();
  };
}

export interface DesktopStorage extends KeyValueStorage {
  /** Resolves once every write made so far is committed to the offline cache. */
  flushed(): Promise<void>;
}

/**
 * A KeyValueStorage backed by the desktop offline cache (SQLite in the user-data folder), for
 * ParleyClient's session, device id and outbox. Reads are served from a copy loaded once at
 * start; writes update the copy at once and reach the cache in order, batched per microtask,
 * one transaction per batch.
 */
export async function createDesktopStorage(
  cache: Pick<ParleyDesktopBridge['offlineCache'], 'loadStorage' | 'applyStorage'>,
  onError: (message: string) => void = () => undefined,
): Promise<DesktopStorage> {
  const values = new Map(Object.entries(await cache.loadStorage()));
  let batch: StorageOp[] = [];
  let last: Promise<void> = Promise.resolve();
  const queue = (op: StorageOp): void => {
    batch.push(op);
    if (batch.length > 1) return;
    queueMicrotask(() => {
      const ops = batch;
      batch = [];
      last = last.then(async () => {
        const result = await cache.applyStorage(ops);
        if (!result.ok) onError(`${result.code}: ${result.message}`);
      });
    });
  };
  return {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => {
      values.set(key, value);
      queue({ op: 'set', key, value });
    },
    remove: (key) => {
      values.delete(key);
      queue({ op: 'remove', key });
    },
    flushed: async () => {
      // Let a batch started in this tick be queued first.
      await Promise.resolve();
      await last;
    },
  };
}
