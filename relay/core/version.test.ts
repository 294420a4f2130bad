import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RELAY_VERSION } from './version.js';

describe('RELAY_VERSION', () => {
  it('equals the version in package.json', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as {
      version: unknown;
    };
    expect(typeof pkg.version).toBe('string');
    expect(RELAY_VERSION).toBe(pkg.version);
  });
});
