import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'test/e2e/**/*.test.ts',
      'test/bench/**/*.test.ts',
      'test/fault/**/*.test.ts',
    ],
    // Each test file runs in its own process: the embedded ClickHouse binds one
    // data directory per process.
    pool: 'forks',
    isolate: true,
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
