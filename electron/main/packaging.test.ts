/**
 * Packaging cannot run on machines without internet (electron-builder downloads Electron), so
 * this keeps its configuration honest: electron-builder's own schema validation, the files the
 * configuration names, and the package.json entries packaging relies on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
  validateConfiguration(
    config: unknown,
    debugLogger: { add(key: string, value: unknown): void },
  ): Promise<void>;
};

const config = yaml.load(readFileSync(`${root}electron-builder.yml`, 'utf8')) as Record<
  string,
  unknown
>;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as Record<string, unknown>;

describe('electron-builder configuration', () => {
  it("passes electron-builder's schema validation", async () => {
    await expect(validateConfiguration(config, { add: () => undefined })).resolves.toBeUndefined();
  });

  it('builds AppImage and deb, dmg, and nsis, with the icons that exist in build/', () => {
    expect(config).toMatchObject({
      appId: 'org.parley.desktop',
      linux: { target: ['AppImage', 'deb'] },
      mac: { target: 'dmg' },
      win: { target: 'nsis' },
      npmRebuild: false,
    });
    expect(existsSync(`${root}build/icon.png`)).toBe(true);
    expect(existsSync(`${root}build/icons/512x512.png`)).toBe(true);
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining(['node_modules/better-sqlite3/**', 'native/electron/**']),
    );
  });

  it('points package.json at the bundled main process and provides the scripts', () => {
    expect(pkg.main).toBe('dist/electron/main.js');
    expect(pkg.scripts).toMatchObject({
      dist: expect.stringContaining('electron-builder'),
      desktop: expect.any(String),
      'start:desktop': expect.any(String),
      'native:electron': expect.any(String),
    });
    const deps = pkg.dependencies as Record<string, string>;
    // Packaged apps get `dependencies` only: everything main.js imports at run time must be there.
    for (const name of ['better-sqlite3', 'bonjour-service', 'pino', 'ws', 'zod'])
      expect(deps[name]).toBeDefined();
    expect((pkg.devDependencies as Record<string, string>).electron).toBe('41.7.1');
  });
});
