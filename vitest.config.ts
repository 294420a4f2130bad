import { configDefaults, defineConfig } from 'vitest/config';

/** Folders holding `*.test.ts` files beside their sources. */
export const TEST_ROOTS = ['relay', 'renderer', 'electron', 'bench'];
/** The attack suite (`npm run test:hostile`, vitest.hostile.config.ts) is kept out of test:unit. */
export const HOSTILE_TESTS = '**/*.hostile.test.ts';
/**
 * Attack tests that assert a latency bound on a canary (the "p99 under 50 ms while one
 * user attacks"): run after the others, one file at a time, so that what they measure is the
 * attack and not another suite's kill -9 loop sharing the two cores (vitest.alone.config.ts).
 */
export const TIMED_HOSTILE_TESTS = ['relay/tests/search-stall.hostile.test.ts'];

/** Settings both suites share. */
export const SHARED = {
  testTimeout: 30_000,
  hookTimeout: 30_000,
  // Integration suites start real relays and child processes; two workers match the CI machine.
  maxWorkers: 2,
  reporters: ['verbose'],
};

export default defineConfig({
  test: {
    ...SHARED,
    include: TEST_ROOTS.map((root) => `${root}/**/*.test.ts`),
    exclude: [...configDefaults.exclude, HOSTILE_TESTS],
  },
});
