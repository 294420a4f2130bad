/** Where the built web client is, relative to this module (from source or from dist/). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function defaultWebDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  // relay/http/ from source (the repository root two up), dist/relay/http/ when built (dist/ two up).
  const candidates = [
    join(here, '..', '..', 'dist', 'renderer'),
    join(here, '..', '..', 'renderer'),
  ];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? null;
}
