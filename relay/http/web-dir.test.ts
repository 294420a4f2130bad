import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultWebDir } from './web-dir.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('defaultWebDir', () => {
  it('finds the built web client at the repository root, from relay/http/', () => {
    // A relay moved one folder down once served no web app from `npm start`: this pins the path.
    const built = join(REPO_ROOT, 'dist', 'renderer');
    expect(defaultWebDir()).toBe(existsSync(join(built, 'index.html')) ? built : null);
  });
});
