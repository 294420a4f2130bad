/**
 * `npm run test:hostile`: the tests that attack the relay and the app (SECURITY.md lists them).
 * Same settings as vitest.config.ts, only the `*.hostile.test.ts` files, but for the timed ones
 * (TIMED_HOSTILE_TESTS), which vitest.alone.config.ts runs afterwards, one at a time.
 */
import { configDefaults, defineConfig } from 'vitest/config';
import { HOSTILE_TESTS, SHARED, TEST_ROOTS, TIMED_HOSTILE_TESTS } from './vitest.config.js';

export default defineConfig({
  test: {
    ...SHARED,
    include: TEST_ROOTS.map((root) => `${root}/${HOSTILE_TESTS}`),
    exclude: [...configDefaults.exclude, ...TIMED_HOSTILE_TESTS],
  },
});
