import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SettingKey } from '../shared/bridge.js';
import { defaultSettings, Settings, UnknownSettingError } from './settings.js';

const dirs: string[] = [];
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-settings-'));
  dirs.push(dir);
  return join(dir, 'settings.json');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('Settings', () => {
  it('starts from the defaults: start minimised at login is off', () => {
    const settings = new Settings(tempFile());
    expect(settings.all()).toEqual(defaultSettings());
    expect(settings.get('startMinimizedAtLogin')).toBe(false);
    expect(settings.get('discoveryEnabled')).toBe(true);
  });

  it('persists a valid write and reads it back in a new instance', () => {
    const path = tempFile();
    const settings = new Settings(path);
    const result = settings.set('hostPort', 4100);
    expect(result).toMatchObject({ ok: true, value: { hostPort: 4100 } });
    expect(new Settings(path).get('hostPort')).toBe(4100);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ hostPort: 4100 });
  });

  it('refuses a value of the wrong type as a value, and changes nothing', () => {
    const path = tempFile();
    const settings = new Settings(path);
    expect(settings.set('hostPort', 70_000)).toMatchObject({ ok: false, code: 'invalid_setting' });
    expect(settings.set('doNotDisturb', 'yes')).toMatchObject({ ok: false });
    expect(settings.all()).toEqual(defaultSettings());
    expect(() => readFileSync(path)).toThrow();
  });

  it('throws UnknownSettingError for a key outside the registry', () => {
    const settings = new Settings(tempFile());
    expect(() => settings.get('colour' as SettingKey)).toThrow(UnknownSettingError);
    expect(() => settings.set('toString' as SettingKey, 1)).toThrow(/unknown setting "toString"/);
  });

  it('falls back to defaults for a corrupt file, unknown keys and invalid stored values', () => {
    const corrupt = tempFile();
    writeFileSync(corrupt, '{not json');
    let reported = false;
    expect(new Settings(corrupt, { onCorrupt: () => (reported = true) }).all()).toEqual(
      defaultSettings(),
    );
    expect(reported).toBe(true);
    const odd = tempFile();
    writeFileSync(odd, JSON.stringify({ hostPort: 'x', doNotDisturb: true, extra: 1 }));
    expect(new Settings(odd).all()).toEqual({ ...defaultSettings(), doNotDisturb: true });
  });

  it('tells listeners about changes and stops after unsubscribe', () => {
    const settings = new Settings(tempFile());
    const seen: boolean[] = [];
    const off = settings.onChange((s) => seen.push(s.doNotDisturb));
    settings.set('doNotDisturb', true);
    settings.set('doNotDisturb', true); // unchanged: no event
    off();
    settings.set('doNotDisturb', false);
    expect(seen).toEqual([true]);
  });
});
