/**
 * vitest setupFiles: points this test file at the redis-server of its worker slot (started by
 * redisServers.ts) before the file is loaded, through QUAYLOGS_TEST_REDIS, which every test
 * reads. Child processes a test starts inherit it.
 */
import { inject } from 'vitest';
import { REDIS_SLOTS } from './redisSlots.ts';

// A QUAYLOGS_TEST_REDIS given by the caller wins (redisServers.ts then starts nothing).
if (!process.env.QUAYLOGS_TEST_REDIS) {
  const slot = Number(process.env.VITEST_POOL_ID ?? '1');
  if (!Number.isInteger(slot) || slot < 1 || slot > REDIS_SLOTS) throw new Error(`unexpected VITEST_POOL_ID ${process.env.VITEST_POOL_ID}`);
  const port = inject('quaylogsRedisPorts')[slot - 1];
  if (port === undefined) throw new Error('the global setup started no redis-server (test/setup/redisServers.ts)');
  process.env.QUAYLOGS_TEST_REDIS = `redis://127.0.0.1:${port}`;
}
