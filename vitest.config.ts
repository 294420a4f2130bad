import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'relay/**/*.test.ts',
      'renderer/**/*.test.ts',
      'electron/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration suites start real relays and child processes; two workers match the CI machine.
    maxWorkers: 2,
    reporters: ['verbose'],
  },
});
