/**
 * Bundles the desktop shell with esbuild:
 * - electron/main/main.ts → dist/electron/main.js (ESM; npm packages stay external and are
 *   loaded from node_modules, better-sqlite3 with the binding chosen at run time);
 * - electron/preload/preload.ts → dist/electron/preload.cjs (one CommonJS file: a sandboxed
 *   preload can require nothing but `electron`).
 * The renderer is built separately by `npm run build:web` (vite) into dist/renderer.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/electron`;

await build({
  entryPoints: [`${root}electron/main/main.ts`],
  outfile: `${out}/main.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'info',
});

await build({
  entryPoints: [`${root}electron/preload/preload.ts`],
  outfile: `${out}/preload.cjs`,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'chrome130',
  external: ['electron'],
  sourcemap: 'inline',
  logLevel: 'info',
});

// A sandboxed preload that required anything else would fail at run time: check here instead.
const preload = readFileSync(`${out}/preload.cjs`, 'utf8');
const required = [...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
const unexpected = required.filter((name) => name !== 'electron');
if (unexpected.length > 0) {
  throw new Error(`the preload must only require electron, found: ${unexpected.join(', ')}`);
}
