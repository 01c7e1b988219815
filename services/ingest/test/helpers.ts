/**
 * Ingest test helpers over @quaylogs/testing's Redis and rows: appending rows to the ingest
 * stream as the poller does, and what the store and the stream hold afterwards.
 */
import type { UsageLogRow } from '@quaylogs/core';
import { appendIngestBatch, ingestBacklog, type IngestBatch, type Redis } from '@quaylogs/queue';
import { quayRows, testRedisBase } from '@quaylogs/testing';
import { pendingEntries } from '../src/status.ts';
import type { ClickHouseStore } from '@quaylogs/clickhouse';

/** This worker's redis-server, for multiLoader.test.ts until it takes testRedisUrl from @quaylogs/testing. */
export const REDIS_BASE = testRedisBase();
export { quayRows };

export function batchOf(rows: UsageLogRow[], extra: Partial<IngestBatch> = {}): IngestBatch {
  return { v: 1, origin: 'poll', source: rows[0]?.source ?? 'quay-test', rows, ...extra };
}

/** Appends `rows` as entries of `perEntry` rows each; returns the entry ids. */
export async function appendRows(redis: Redis, rows: UsageLogRow[], perEntry: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < rows.length; i += perEntry) ids.push(...(await appendIngestBatch(redis, batchOf(rows.slice(i, i + perEntry)))));
  return ids;
}

export async function storedCounts(store: ClickHouseStore): Promise<{ rows: number; keys: number; rollup: number }> {
  const [r] = await store.query<{ rows: string; keys: string }>({
    name: 'test.counts',
    sql: 'SELECT count() AS rows, uniqExact(event_key) AS keys FROM usage_logs',
  });
  const [k] = await store.query<{ n: string }>({ name: 'test.rollup', sql: 'SELECT sum(count) AS n FROM usage_daily_kind' });
  return { rows: Number(r!.rows), keys: Number(r!.keys), rollup: Number(k!.n) };
}

/** Entries not yet stored over every ingest stream, and entries in an insert in flight. */
export async function streamState(redis: Redis): Promise<{ length: number; pending: number }> {
  return { length: await ingestBacklog(redis), pending: await pendingEntries(redis) };
}
