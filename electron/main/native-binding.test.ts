import { describe, expect, it } from 'vitest';
import { resolveSqliteBinding, type BindingContext } from './native-binding.js';

const base: BindingContext = {
  electronVersion: undefined,
  appRoot: '/repo',
  resourcesPath: null,
  override: undefined,
  exists: () => false,
  readManifest: () => null,
};

describe('resolveSqliteBinding', () => {
  it("uses better-sqlite3's own (node) build under plain node", () => {
    expect(resolveSqliteBinding(base)).toEqual({ ok: true, value: undefined });
  });

  it('uses the Electron build from the checkout in development', () => {
    const files = new Set(['/repo/native/electron/better_sqlite3.node']);
    expect(
      resolveSqliteBinding({
        ...base,
        electronVersion: '41.7.1',
        exists: (p) => files.has(p),
        readManifest: () => ({ electronVersion: '41.7.1' }),
      }),
    ).toEqual({ ok: true, value: '/repo/native/electron/better_sqlite3.node' });
  });

  it('prefers the unpacked copy inside a packaged app', () => {
    const files = new Set([
      '/opt/Parley/resources/app.asar.unpacked/native/electron/better_sqlite3.node',
      '/repo/native/electron/better_sqlite3.node',
    ]);
    expect(
      resolveSqliteBinding({
        ...base,
        electronVersion: '41.7.1',
        resourcesPath: '/opt/Parley/resources',
        exists: (p) => files.has(p),
      }),
    ).toEqual({
      ok: true,
      value: '/opt/Parley/resources/app.asar.unpacked/native/electron/better_sqlite3.node',
    });
  });

  it('says how to fix a missing or mismatched build', () => {
    const missing = resolveSqliteBinding({ ...base, electronVersion: '41.7.1' });
    expect(missing).toMatchObject({ ok: false, code: 'native_module_missing' });
    if (!missing.ok) expect(missing.message).toContain('npm run native:electron');
    expect(
      resolveSqliteBinding({
        ...base,
        electronVersion: '41.7.1',
        exists: () => true,
        readManifest: () => ({ electronVersion: '40.0.0' }),
      }),
    ).toMatchObject({ ok: false, code: 'native_module_mismatch' });
  });

  it('honours an explicit override, and checks it exists', () => {
    expect(resolveSqliteBinding({ ...base, override: '/x.node', exists: () => true })).toEqual({
      ok: true,
      value: '/x.node',
    });
    expect(resolveSqliteBinding({ ...base, override: '/x.node' })).toMatchObject({ ok: false });
  });
});
