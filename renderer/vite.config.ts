/**
 * Builds the web client (the renderer) into dist/renderer, which the relay serves at `/` and the
 * desktop shell loads from disk (hence relative asset URLs, `base: './'`).
 *
 * `npm run dev:web` serves it with hot reload and proxies the API and socket to a relay
 * (PARLEY_RELAY, default http://127.0.0.1:4000), so the page's own origin works as the server
 * address just as it does when the relay serves the build.
 */
// This file runs in Node at build time, not in the browser: node:url is fine here.
// eslint-disable-next-line no-restricted-imports
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const relay = process.env.PARLEY_RELAY ?? 'http://127.0.0.1:4000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    proxy: {
      '/api': relay,
      '/socket': { target: relay, ws: true },
    },
  },
});
