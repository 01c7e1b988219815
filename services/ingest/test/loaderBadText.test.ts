/**
 * One entry whose text ClickHouse cannot take (a lone UTF-16 surrogate, as HEC once
 * acknowledged) is dead-lettered at once with its reason: the entries around it are
 * stored without waiting out retries (with a 60 s retry base, a retried insert would
 * outlast this test's timeout).
 * An event key the store cannot hold (above UInt128) is refused the same way.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { appendIngestBatch, quitRedis, type Redis, redisForWorkers } from '@quaylogs/queue';
import { openTestStore, testRedisUrl } from '@quaylogs/testing';
import { listDeadLetters, loadOnce } from '../src/index.ts';
import { appendRows, batchOf, quayRows, storedCounts, streamState } from './helpers.ts';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
let redis: Redis;
beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  redis = redisForWorkers(testRedisUrl());
  await redis.flushdb();
});
afterAll(async () => {
  await quitRedis(redis);
  await cleanup();
});

it('an entry with a lone surrogate is dead-lettered without retries; the good entries around it are stored', async () => {
  const rows = quayRows(40);
  await appendRows(redis, rows.slice(0, 20), 10);
  const [bad] = quayRows(1, { tag: 'bad' });
  await appendIngestBatch(redis, batchOf([{ ...bad!, performer: '\ud800' }]));
  await appendRows(redis, rows.slice(20), 10);
  const stats = await loadOnce({ redis, store, consumer: 'loader-a', retryBaseMs: 60_000, maxAttempts: 3 });
  expect(stats).toMatchObject({ inserted: 40, deadLettered: 1 });
  expect(await storedCounts(store)).toEqual({ rows: 40, keys: 40, rollup: 40 });
  expect(await streamState(redis)).toEqual({ length: 0, pending: 0 });
  const [dead, ...more] = await listDeadLetters(redis);
  expect(more).toHaveLength(0);
  expect(dead!.reason).toBe('rows[0].performer is not valid Unicode');
}, 20_000);

it('an entry ClickHouse refuses as data is isolated at once, without waiting out retries', async () => {
  await redis.flushdb();
  const before = (await storedCounts(store)).rows;
  const rows = quayRows(30, { tag: 'second' });
  await appendRows(redis, rows.slice(0, 10), 10);
  const [bad] = quayRows(1, { tag: 'bad-date' });
  // Shaped like a time, so it passes the stream's schema; no such month, so ClickHouse refuses the row.
  await appendIngestBatch(redis, batchOf([{ ...bad!, datetime: '2024-13-45 99:99:99.000' }]));
  await appendRows(redis, rows.slice(10), 10);
  const stats = await loadOnce({ redis, store, consumer: 'loader-b', retryBaseMs: 60_000, maxAttempts: 3 });
  expect(stats).toMatchObject({ inserted: 30, deadLettered: 1 });
  expect((await storedCounts(store)).rows).toBe(before + 30);
  const [dead] = await listDeadLetters(redis);
  expect(dead!.reason).toMatch(/^insert failed 3 times: Cannot read DateTime/);
}, 20_000);

it('an event key above UInt128 is dead-lettered at once; the largest UInt128 key and keys with leading zeros are stored', async () => {
  await redis.flushdb();
  const before = (await storedCounts(store)).rows;
  const [max, padded, over] = quayRows(3, { tag: 'key-edges' });
  await appendIngestBatch(redis, batchOf([{ ...max!, event_key: '340282366920938463463374607431768211455' }]));
  await appendIngestBatch(redis, batchOf([{ ...padded!, event_key: '000000000000000000000000000000000000042' }]));
  await appendIngestBatch(redis, batchOf([{ ...over!, event_key: '340282366920938463463374607431768211456' }]));
  const stats = await loadOnce({ redis, store, consumer: 'loader-c', retryBaseMs: 60_000, maxAttempts: 3 });
  expect(stats).toMatchObject({ inserted: 2, deadLettered: 1 });
  expect((await storedCounts(store)).rows).toBe(before + 2);
  const [dead, ...more] = await listDeadLetters(redis);
  expect(more).toHaveLength(0);
  expect(dead!.reason).toBe('event_key 340282366920938463463374607431768211456 is larger than UInt128');
}, 20_000);
