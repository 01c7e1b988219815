/**
 * A test file's store and Redis, set up by vitest hooks: opened once before the file's
 * tests, closed after them, and (when asked) emptied before each test. Call at the top of
 * the file; read the fields inside tests and hooks (they are filled in by beforeAll).
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { quitRedis, type Redis } from '@quaylogs/queue';
import { testRedis } from './redis.ts';
import { openTestStore, resetStore } from './store.ts';

export interface FileStore {
  store: ClickHouseStore;
  /** The data directory (the embedded engine lives in its `clickhouse/`). */
  dir: string;
}

/** A migrated store for this file (kept across its tests). */
export function useTestStore(): FileStore {
  const f = {} as FileStore;
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ store: f.store, dir: f.dir, cleanup } = await openTestStore());
  }, 120_000);
  afterAll(async () => cleanup?.());
  return f;
}

export interface FileStoreAndRedis extends FileStore {
  /** This file's Redis database (testRedis()), with the settings the workers use. */
  redis: Redis;
}

/** A store and this file's Redis database, both emptied before every test. */
export function useStoreAndRedis(): FileStoreAndRedis {
  const f = useTestStore() as FileStoreAndRedis;
  beforeAll(() => {
    f.redis = testRedis();
  });
  afterAll(async () => {
    if (f.redis) await quitRedis(f.redis);
  });
  beforeEach(async () => {
    await f.redis.flushdb();
    await resetStore(f.store);
  });
  return f;
}
