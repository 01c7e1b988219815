/**
 * /logs read-ahead over real Redis, the real loader and the real embedded engine: a page
 * after a cursor is read with the pages after it in one statement and kept under the
 * cursors their next_page tokens carry. Two API processes share one store and one secret
 * (so every token is valid on both): one with the page cache, one without; every page of a
 * walk must be the same on both, including after the loader stores an entry in the middle
 * of a walk, and the cached one must query only once per read-ahead.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore, QuerySpec } from '@quaylogs/clickhouse';
import { loadConfig } from '@quaylogs/config';
import { quitRedis, type Redis, redisForWorkers } from '@quaylogs/queue';
import { buildApp, LogPageCache } from '../src/index.ts';
import { ADMIN_TOKEN, type ApiFixture, call, logRow, SECRET, startApi } from './fixtures.ts';
import { ingestThroughLoader } from './ingestThroughLoader.ts';

const REDIS_URL = `${process.env.QUAYLOGS_TEST_REDIS ?? 'redis://127.0.0.1:6379'}/4`;
const READ_AHEAD = 4;

let cached: ApiFixture;
let plain: { url: string; close(): Promise<void> };
let redis: Redis;
/** listPage statements the cached API ran. */
let listPages = 0;

beforeAll(async () => {
  redis = redisForWorkers(REDIS_URL);
  await redis.flushdb();
  const cache = new LogPageCache({ redis, maxEntries: 100, readAheadPages: READ_AHEAD });
  cached = await startApi({}, { logPageCache: cache });
  const query = cached.store.query.bind(cached.store);
  (cached.ctx as { store: ClickHouseStore }).store = {
    ...cached.store,
    query: (spec: QuerySpec) => {
      if (spec.name === 'usageLogs.listPage') listPages++;
      return query(spec);
    },
  } as ClickHouseStore;
  // The same store behind a second API without any page cache.
  const config = loadConfig({ QUAYLOGS_BOOTSTRAP_TOKEN: ADMIN_TOKEN, QUAYLOGS_SECRET: SECRET });
  const { app } = await buildApp({ store: cached.store, config, secret: SECRET });
  await app.listen({ host: '127.0.0.1', port: 0 });
  plain = { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
});
afterAll(async () => {
  await plain.close();
  await cached.close();
  await redis.flushdb();
  await quitRedis(redis);
});

const ingest = (rows: ReturnType<typeof logRow>[]) => ingestThroughLoader(redis, cached.store, rows, 'read-ahead-test');

/** Entries at 10:00–10:19 of one day, three per second for some seconds (ties broken by event_key). */
function entries(ns: string, n: number): ReturnType<typeof logRow>[] {
  return Array.from({ length: n }, (_, i) => {
    const second = Math.floor(i / 3) * 3 + (i % 3 === 2 ? 1 : 0);
    const hh = `10:${String(Math.floor(second / 60) % 60).padStart(2, '0')}:${String(second % 60).padStart(2, '0')}`;
    return logRow({ namespace: ns, performer: `user${i % 7}`, datetime: `2024-06-18 ${hh}.${String(i % 2).padStart(3, '0')}`, metadata: `{"tag":"e${i}"}` });
  });
}

type Page = { logs: { metadata: { tag: string }; datetime: string }[]; next_page?: string };

async function get(url: string, ns: string, token: string | undefined): Promise<Page> {
  const path = `/api/v1/organization/${ns}/logs?starttime=06/01/2024&endtime=06/30/2024${token ? `&next_page=${encodeURIComponent(token)}` : ''}`;
  const res = url === cached.url ? await call(cached, 'GET', path) : await call({ ...cached, url }, 'GET', path);
  expect(res.status, path).toBe(200);
  return res.body as Page;
}

/** Walks with the cached API, asking the uncached one the same token at every step. */
async function walk(ns: string, between?: (page: number) => Promise<void>) {
  const pages: string[][] = [];
  const queried: number[] = [];
  let token: string | undefined;
  for (let n = 1; n < 100; n++) {
    await between?.(n);
    const before = listPages;
    const a = await get(cached.url, ns, token);
    if (listPages > before) queried.push(n);
    const b = await get(plain.url, ns, token);
    expect(a.logs, `page ${n}`).toEqual(b.logs);
    expect(a.next_page === undefined, `page ${n} has a next page`).toBe(b.next_page === undefined);
    pages.push(a.logs.map((l) => l.metadata.tag));
    if (!a.next_page) break;
    token = a.next_page;
  }
  return { pages, queried };
}

describe('/logs read-ahead', () => {
  it('a walk across read-ahead pages equals a walk without the cache, with one query per read-ahead', async () => {
    const ns = `ra-${randomBytes(4).toString('hex')}`;
    await ingest(entries(ns, 230));
    const { pages, queried } = await walk(ns);
    expect(pages.map((p) => p.length)).toEqual([20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 10]);
    // Every entry exactly once, newest first.
    expect(new Set(pages.flat()).size).toBe(230);
    // Page 1 alone; then pages 2–5, 6–9 and 10–12 each from one read.
    expect(queried).toEqual([1, 2, 6, 10]);
  });

  it('an entry the loader stores in the middle of a walk is on the pages read after it', async () => {
    const ns = `ra-${randomBytes(4).toString('hex')}`;
    const rows = entries(ns, 120);
    await ingest(rows);
    // After page 3 (pages 2–5 were read ahead) an entry lands among page 4's entries.
    const late = logRow({ namespace: ns, datetime: rows[55]!.datetime, metadata: '{"tag":"late"}' });
    const { pages, queried } = await walk(ns, async (n) => {
      if (n === 4) await ingest([late]);
    });
    expect(pages.flat()).toContain('late');
    expect(new Set(pages.flat()).size).toBe(121);
    expect(queried).toEqual([1, 2, 4]);
  });
});
