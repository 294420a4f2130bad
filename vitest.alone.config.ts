/**
 * The second half of `npm run test:hostile`: attack tests that assert a canary's latency, one
 * file at a time with nothing else running (see TIMED_HOSTILE_TESTS in vitest.config.ts).
 */
import { defineConfig } from 'vitest/config';
import { SHARED, TIMED_HOSTILE_TESTS } from './vitest.config.js';

export default defineConfig({
  test: { ...SHARED, include: TIMED_HOSTILE_TESTS, maxWorkers: 1, fileParallelism: false },
});
