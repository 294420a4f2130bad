/**
 * Which better_sqlite3.node to load. better-sqlite3 is a native module: one build cannot serve
 * both node (tests, the standalone relay) and Electron (a different ABI). So the checkout keeps
 * two builds side by side:
 *
 * - node's, in node_modules/better-sqlite3/build/Release (made by `npm ci`), loaded by default;
 * - Electron's, in native/electron/better_sqlite3.node (made by `npm run native:electron`,
 *   build/build-electron-sqlite.ts), passed to better-sqlite3 as its `nativeBinding` option.
 *
 * Both the relay (`sqliteNativeBinding`) and the offline cache take the resolved path.
 */
import { fail, ok, type Result } from '../shared/result.js';

export const ELECTRON_SQLITE_FILE = 'native/electron/better_sqlite3.node';
export const ELECTRON_SQLITE_MANIFEST = 'native/electron/manifest.json';

export interface BindingContext {
  /** process.versions.electron, or undefined under plain node. */
  electronVersion: string | undefined;
  /** The app's root folder (the repository in development, app.asar when packaged). */
  appRoot: string;
  /** process.resourcesPath when packaged, else null. */
  resourcesPath: string | null;
  /** PARLEY_SQLITE_BINDING: an explicit path wins. */
  override: string | undefined;
  exists(path: string): boolean;
  /** Reads native/electron/manifest.json next to a candidate; null when absent. */
  readManifest(path: string): { electronVersion?: unknown } | null;
}

/** The binding for this runtime: undefined means "better-sqlite3's default" (node's build). */
export function resolveSqliteBinding(context: BindingContext): Result<string | undefined> {
  if (context.override !== undefined && context.override !== '') {
    return context.exists(context.override)
      ? ok(context.override)
      : fail(
          'native_module_missing',
          `PARLEY_SQLITE_BINDING points at a missing file: ${context.override}`,
        );
  }
  if (context.electronVersion === undefined) return ok(undefined);
  const roots = [
    ...(context.resourcesPath === null ? [] : [`${context.resourcesPath}/app.asar.unpacked`]),
    context.appRoot,
  ];
  for (const root of roots) {
    const binding = `${root}/${ELECTRON_SQLITE_FILE}`;
    if (!context.exists(binding)) continue;
    const manifest = context.readManifest(`${root}/${ELECTRON_SQLITE_MANIFEST}`);
    if (manifest !== null && manifest.electronVersion !== context.electronVersion) {
      return fail(
        'native_module_mismatch',
        `${binding} was built for Electron ${String(manifest.electronVersion)}, this is ${context.electronVersion}: run npm run native:electron`,
      );
    }
    return ok(binding);
  }
  return fail(
    'native_module_missing',
    `no better-sqlite3 build for Electron ${context.electronVersion} (looked in ${roots.join(', ')}): run npm run native:electron`,
  );
}
