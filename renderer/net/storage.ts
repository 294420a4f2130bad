/** Small string storage for the session and the outbox: localStorage in a browser. */
export interface KeyValueStorage {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

export class MemoryStorage implements KeyValueStorage {
  readonly #map = new Map<string, string>();
  get(key: string): string | null {
    return this.#map.get(key) ?? null;
  }
  set(key: string, value: string): void {
    this.#map.set(key, value);
  }
  remove(key: string): void {
    this.#map.delete(key);
  }
}

/** localStorage, or memory when it is unavailable (private mode, sandboxed frames). */
export function browserStorage(): KeyValueStorage {
  return webStorage(() => globalThis.localStorage);
}

/** sessionStorage (kept across reloads of this page, not across restarts), or memory. */
export function pageSessionStorage(): KeyValueStorage {
  return webStorage(() => globalThis.sessionStorage);
}

function webStorage(open: () => Storage): KeyValueStorage {
  try {
    const ls = open();
    ls.setItem('parley.probe', '1');
    ls.removeItem('parley.probe');
    return {
      get: (key) => ls.getItem(key),
      set: (key, value) => ls.setItem(key, value),
      remove: (key) => ls.removeItem(key),
    };
  } catch {
    // Storage is blocked: the session lasts as long as the page.
    return new MemoryStorage();
  }
}

/** Parses stored JSON, returning null for anything missing or corrupt. */
export function readJson<T>(
  storage: KeyValueStorage,
  key: string,
  valid: (value: unknown) => value is T,
): T | null {
  const text = storage.get(key);
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return valid(value) ? value : null;
  } catch {
    return null;
  }
}
