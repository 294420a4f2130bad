/**
 * The settings registry: every desktop setting with its validator and default, typed read and
 * write, an error for an unknown key, persisted as JSON in the user-data folder.
 */
import { EventEmitter } from 'node:events';
import { z, type ZodType } from 'zod';
import type { DesktopSettings, SettingKey } from '../shared/bridge.js';
import { fail, ok, type Result } from '../shared/result.js';
import { readJsonFile, writeJsonFile } from './json-file.js';

type Registry = {
  [K in SettingKey]: { schema: ZodType<DesktopSettings[K]>; default: DesktopSettings[K] };
};

/** Every setting, its validator and its default. */
export const SETTINGS: Registry = {
  startMinimizedAtLogin: { schema: z.boolean(), default: false },
  doNotDisturb: { schema: z.boolean(), default: false },
  discoveryEnabled: { schema: z.boolean(), default: true },
  hostPort: { schema: z.number().int().min(0).max(65_535), default: 4000 },
  hostDisplayName: { schema: z.string().max(64), default: '' },
};

/** A programming error: code asked for a setting that does not exist. */
export class UnknownSettingError extends Error {
  readonly code = 'ERR_UNKNOWN_SETTING';
  constructor(readonly key: string) {
    super(`unknown setting "${key}"`);
    this.name = 'UnknownSettingError';
  }
}

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}

export function defaultSettings(): DesktopSettings {
  const entries = Object.entries(SETTINGS).map(([key, entry]) => [key, entry.default]);
  return Object.fromEntries(entries) as DesktopSettings;
}

export class Settings {
  readonly #path: string;
  #values: DesktopSettings;
  readonly #events = new EventEmitter();

  /** Loads `path`; unknown keys and invalid values in the file fall back to their defaults. */
  constructor(path: string, options: { onCorrupt?: (error: unknown) => void } = {}) {
    this.#path = path;
    const stored = readJsonFile(path, options.onCorrupt);
    const values = defaultSettings();
    if (typeof stored === 'object' && stored !== null) {
      for (const [key, value] of Object.entries(stored)) {
        if (!isSettingKey(key)) continue;
        const parsed = SETTINGS[key].schema.safeParse(value);
        if (parsed.success) (values as unknown as Record<string, unknown>)[key] = parsed.data;
      }
    }
    this.#values = values;
  }

  /** Throws UnknownSettingError for a key that is not in the registry. */
  get<K extends SettingKey>(key: K): DesktopSettings[K] {
    if (!isSettingKey(key)) throw new UnknownSettingError(key);
    return this.#values[key];
  }

  all(): DesktopSettings {
    return { ...this.#values };
  }

  /**
   * Validates and stores one setting. An unknown key throws (a programming error in main);
   * a bad value is an expected failure from the UI and comes back as a value.
   */
  set<K extends SettingKey>(key: K, value: unknown): Result<DesktopSettings> {
    if (!isSettingKey(key)) throw new UnknownSettingError(key);
    const parsed = SETTINGS[key].schema.safeParse(value);
    if (!parsed.success) {
      return fail('invalid_setting', `${key}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    }
    if (Object.is(this.#values[key], parsed.data)) return ok(this.all());
    this.#values = { ...this.#values, [key]: parsed.data };
    writeJsonFile(this.#path, this.#values);
    this.#events.emit('change', this.all());
    return ok(this.all());
  }

  onChange(listener: (settings: DesktopSettings) => void): () => void {
    this.#events.on('change', listener);
    return () => this.#events.off('change', listener);
  }
}
