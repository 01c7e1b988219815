/**
 * The /logs first-page cache over real Redis (database 6), the real loader and the real
 * embedded engine: a refreshed first page is served from memory while its namespace is
 * unchanged, and never hides an entry the loader stored before the request.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore, QuerySpec } from '@quaylogs/clickhouse';
import { LOG_GENERATIONS_KEY, quitRedis, type Redis, redisForWorkers } from '@quaylogs/queue';
import { LogPageCache } from '../src/index.ts';
import { type ApiFixture, call, logRow, startApi } from './fixtures.ts';
import { ingestThroughLoader } from './ingestThroughLoader.ts';
import { testRedisUrl } from '@quaylogs/testing';

const REDIS_URL = testRedisUrl();

let f: ApiFixture;
let redis: Redis;
let clock = Date.parse('2026-01-01T00:00:00Z');
let cache: LogPageCache;
/** Statements the API's store ran, by name. */
const statements: string[] = [];

beforeAll(async () => {
  redis = redisForWorkers(REDIS_URL);
  cache = new LogPageCache({ redis, maxEntries: 3, maxAgeMs: 60_000, now: () => clock });
  f = await startApi({}, { logPageCache: cache });
  const query = f.store.query.bind(f.store);
  (f.ctx as { store: ClickHouseStore }).store = { ...f.store, query: (spec: QuerySpec) => (statements.push(spec.name), query(spec)) } as ClickHouseStore;
});
afterAll(async () => {
  await f.close();
  await quitRedis(redis);
});

/** A namespace no other test touches (the Redis database is shared by nothing else, but be sure). */
const freshNamespace = () => `cache-${randomBytes(4).toString('hex')}`;

/** Stores rows the way production does: through the ingest stream and the loader. */
const ingest = (rows: ReturnType<typeof logRow>[]) => ingestThroughLoader(redis, f.store, rows, 'cache-test');

async function firstPage(ns: string, query = '?starttime=06/01/2024&endtime=06/30/2024') {
  const before = statements.filter((s) => s === 'usageLogs.listPage').length;
  const res = await call(f, 'GET', `/api/v1/organization/${ns}/logs${query}`);
  expect(res.status).toBe(200);
  const queried = statements.filter((s) => s === 'usageLogs.listPage').length > before;
  return { tags: res.body.logs.map((l: any) => l.metadata.tag), queried, nextPage: res.body.next_page as string | undefined };
}

const at = (minute: number) => `2024-06-18 10:${String(minute).padStart(2, '0')}:00.000`;

describe('first /logs page cache', () => {
  it('serves a repeated first page without querying, until the loader stores an entry of that namespace', async () => {
    const ns = freshNamespace();
    const other = freshNamespace();
    await ingest([logRow({ namespace: ns, datetime: at(1), metadata: '{"tag":"a"}' }), logRow({ namespace: other, datetime: at(1), metadata: '{"tag":"x"}' })]);

    expect(await firstPage(ns)).toMatchObject({ tags: ['a'], queried: true });
    expect(await firstPage(ns)).toMatchObject({ tags: ['a'], queried: false });

    // Another namespace's entries leave this page cached.
    await ingest([logRow({ namespace: other, datetime: at(2), metadata: '{"tag":"y"}' })]);
    expect(await firstPage(ns)).toMatchObject({ tags: ['a'], queried: false });

    // This namespace's entry is on the very next request.
    await ingest([logRow({ namespace: ns, datetime: at(3), metadata: '{"tag":"b"}' })]);
    expect(await firstPage(ns)).toMatchObject({ tags: ['b', 'a'], queried: true });
    expect(await firstPage(ns)).toMatchObject({ tags: ['b', 'a'], queried: false });
    // A different window is a different page.
    expect(await firstPage(ns, '?starttime=06/18/2024&endtime=06/18/2024')).toMatchObject({ tags: ['b', 'a'], queried: true });
  });

  it('a re-delivered batch (its rows already stored) still invalidates, and pages expire after maxAgeMs', async () => {
    const ns = freshNamespace();
    const row = logRow({ namespace: ns, datetime: at(5), metadata: '{"tag":"c"}' });
    await ingest([row]);
    expect(await firstPage(ns)).toMatchObject({ tags: ['c'], queried: true });
    // The loader drops the duplicate but still tells caches the namespace may have changed
    // (an earlier attempt may have inserted it and died before acknowledging).
    await ingest([row]);
    expect(await firstPage(ns)).toMatchObject({ tags: ['c'], queried: true });
    expect(await firstPage(ns)).toMatchObject({ queried: false });
    clock += 60_001;
    expect(await firstPage(ns)).toMatchObject({ tags: ['c'], queried: true });
  });

  it('a next page is cached too (read ahead: see readAhead.test.ts), at most maxEntries pages are kept, and without Redis the store answers', async () => {
    const ns = freshNamespace();
    await ingest(Array.from({ length: 25 }, (_, i) => logRow({ namespace: ns, datetime: at(10 + i), metadata: `{"tag":"t${i}"}` })));
    const first = await firstPage(ns);
    expect(first.tags).toHaveLength(20);
    // Quay's clients repeat the query with next_page (the token is bound to it).
    const next = `/api/v1/organization/${ns}/logs?starttime=06/01/2024&endtime=06/30/2024&next_page=${encodeURIComponent(first.nextPage!)}`;
    const before = statements.length;
    expect((await call(f, 'GET', next)).body.logs).toHaveLength(5);
    const queried = statements.length;
    expect(queried).toBeGreaterThan(before);
    expect((await call(f, 'GET', next)).body.logs).toHaveLength(5);
    expect(statements.slice(queried).filter((s) => s === 'usageLogs.listPage')).toEqual([]);

    // LRU: four more windows push the first one out of a three-page cache.
    for (const day of ['06/18/2024', '06/17/2024', '06/16/2024']) await firstPage(ns, `?starttime=${day}&endtime=06/30/2024`);
    expect(await firstPage(ns)).toMatchObject({ queried: true });

    // Redis gone: every request reads the store, answers stay right.
    const gone = redisForWorkers('redis://127.0.0.1:1/0', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    gone.on('error', () => undefined);
    const offline = new LogPageCache({ redis: gone });
    const page = await offline.firstPage(f.store, { start: new Date('2024-06-01'), end: new Date('2024-07-01'), namespace: ns }, 20);
    expect(page).toMatchObject({ cached: false, hasMore: true });
    expect((await offline.firstPage(f.store, { start: new Date('2024-06-01'), end: new Date('2024-07-01'), namespace: ns }, 20)).cached).toBe(false);
    gone.disconnect();
  });

  it('pages over all namespaces are invalidated by any stored batch', async () => {
    const ns = freshNamespace();
    await ingest([logRow({ namespace: ns, datetime: at(40), metadata: '{"tag":"s1"}' })]);
    const su = async () => {
      const before = statements.length;
      const res = await call(f, 'GET', '/api/v1/superuser/logs?starttime=06/18/2024&endtime=06/18/2024');
      return { n: res.body.logs.length as number, queried: statements.slice(before).includes('usageLogs.listPage') };
    };
    const a = await su();
    await ingest([logRow({ namespace: freshNamespace(), datetime: at(41), metadata: '{"tag":"s2"}' })]);
    const b = await su();
    expect(b.queried).toBe(true);
    expect(b.n).toBe(Math.min(20, a.n + 1));
    expect(await redis.hexists(LOG_GENERATIONS_KEY, '*')).toBe(1);
  });
});
