/**
 * Builds better-sqlite3 for Electron's ABI into native/electron/, leaving node's build in
 * node_modules untouched (the tests and the standalone relay keep using it). Needs internet:
 * @electron/rebuild downloads Electron's headers. Run with `npm run native:electron`, in either
 * order with `npm ci` / `npm test`.
 *
 * How: copy node_modules/better-sqlite3 (without its build/) into a scratch project, let
 * @electron/rebuild build it there for the installed Electron version, then copy the one
 * better_sqlite3.node out with a manifest naming the Electron version it was built for
 * (electron/main/native-binding.ts refuses a mismatch with a clear message).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const electronVersion = (
  JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')) as {
    version: string;
  }
).version;
const sqliteVersion = (
  JSON.parse(readFileSync(join(root, 'node_modules/better-sqlite3/package.json'), 'utf8')) as {
    version: string;
  }
).version;

const scratch = mkdtempSync(join(tmpdir(), 'parley-electron-sqlite-'));
try {
  const moduleDir = join(scratch, 'node_modules', 'better-sqlite3');
  cpSync(join(root, 'node_modules/better-sqlite3'), moduleDir, {
    recursive: true,
    filter: (source) => !source.includes(`${join('better-sqlite3', 'build')}`),
  });
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({
      name: 'scratch',
      private: true,
      dependencies: { 'better-sqlite3': sqliteVersion },
    }),
  );
  // An npm `nodedir` setting (these machines have one) would make node-gyp build against
  // node's headers instead of Electron's: drop it for this build.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => key.toLowerCase() !== 'npm_config_nodedir'),
  );
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/@electron/rebuild/lib/cli.js'),
      '--version',
      electronVersion,
      '--module-dir',
      scratch,
      '--only',
      'better-sqlite3',
      '--force',
    ],
    { stdio: 'inherit', env },
  );
  if (result.status !== 0) {
    throw new Error(
      `@electron/rebuild failed (exit ${String(result.status)}): it needs internet access for Electron's headers`,
    );
  }
  const target = join(root, 'native/electron');
  mkdirSync(target, { recursive: true });
  cpSync(join(moduleDir, 'build/Release/better_sqlite3.node'), join(target, 'better_sqlite3.node'));
  writeFileSync(
    join(target, 'manifest.json'),
    `${JSON.stringify({ electronVersion, betterSqlite3: sqliteVersion, platform: process.platform, arch: process.arch }, null, 2)}\n`,
  );
  process.stdout.write(
    `native/electron/better_sqlite3.node built for Electron ${electronVersion}\n`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
