/**
 * Writes the placeholder app icons into build/ (electron-builder's buildResources): icon.png
 * (1024 px: macOS and Windows icons are converted from it) and icons/NxN.png for Linux. The
 * icon is drawn in code (electron/main/png.ts), so no image tool is needed. Run with
 * `npm run icons`; the outputs are committed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { iconPng } from '../electron/main/png.js';

const here = fileURLToPath(new URL('.', import.meta.url));
mkdirSync(`${here}icons`, { recursive: true });
writeFileSync(`${here}icon.png`, iconPng(1024));
for (const size of [16, 32, 48, 64, 128, 256, 512]) {
  writeFileSync(`${here}icons/${size}x${size}.png`, iconPng(size));
}
process.stdout.write('wrote build/icon.png and build/icons/*.png\n');
