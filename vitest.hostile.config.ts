/**
 * `npm run test:hostile`: the tests that attack the relay and the app (SECURITY.md lists them).
 * Same settings as vitest.config.ts, only the `*.hostile.test.ts` files.
 */
import { defineConfig } from 'vitest/config';
import { HOSTILE_TESTS, SHARED, TEST_ROOTS } from './vitest.config.js';

export default defineConfig({
  test: { ...SHARED, include: TEST_ROOTS.map((root) => `${root}/${HOSTILE_TESTS}`) },
});
