import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each test file runs in its own process: the embedded ClickHouse binds one
    // data directory per process.
    pool: 'forks',
    isolate: true,
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // A private redis-server per worker slot: files running at once never share a Redis.
    globalSetup: ['test/setup/redisServers.ts'],
    setupFiles: ['test/setup/redisPerWorker.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: [
            'packages/*/test/**/*.test.ts',
            'services/*/test/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            'test/bench/**/*.test.ts',
            'test/fault/**/*.test.ts',
          ],
        },
      },
      {
        // The store-level tests again, on the server backend (@clickhouse/client over HTTP)
        // against the server lane: the real engine in a separate process (test/server-lane).
        extends: true,
        test: {
          name: 'server-lane',
          include: ['packages/clickhouse/test/**/*.test.ts'],
          // Every statement crosses a process and HTTP: the big-batch tests take about twice as long.
          testTimeout: 180_000,
          env: { QUAYLOGS_TEST_BACKEND: 'server' },
        },
      },
    ],
  },
});
