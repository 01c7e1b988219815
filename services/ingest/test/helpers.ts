/**
 * Test helpers: a real Redis on a test database index (each test file owns one of 1–4
 * and flushes it per test) and rows that look like Quay's.
 */
import { assignContentKeys, NO_EXTENDED_FIELDS, type UsageLogRow } from '@quaylogs/core';
import { appendIngestBatch, ingestBacklog, type IngestBatch, type Redis, redisForWorkers } from '@quaylogs/queue';
import { pendingEntries } from '../src/status.ts';
import type { ClickHouseStore } from '@quaylogs/clickhouse';

export const REDIS_BASE = process.env.QUAYLOGS_TEST_REDIS ?? 'redis://127.0.0.1:6379';

export function testRedis(db: 1 | 2 | 3 | 4): Redis {
  return redisForWorkers(`${REDIS_BASE}/${db}`);
}

/** `n` distinct polled-looking rows (content keys), `stepMs` (default 1 s) apart from `start`. */
export function quayRows(n: number, opts: { source?: string; namespace?: string; start?: Date; tag?: string; stepMs?: number } = {}): UsageLogRow[] {
  const start = opts.start ?? new Date(Date.now() - 3_600_000);
  const rows = Array.from({ length: n }, (_, i) => ({
    source: opts.source ?? 'quay-test',
    namespace: opts.namespace ?? `org${i % 3}`,
    repository: `repo${i % 7}`,
    kind: i % 5 === 0 ? 'push_repo' : 'pull_repo',
    performer: i % 4 === 0 ? `org${i % 3}+bot` : 'alice',
    ip: `10.0.${i % 250}.${i % 7}`,
    datetime: new Date(start.getTime() + i * (opts.stepMs ?? 1000)).toISOString().replace('T', ' ').replace('Z', ''),
    metadata: JSON.stringify({ tag: opts.tag ?? 'latest', n: i }),
    ...NO_EXTENDED_FIELDS,
  }));
  return assignContentKeys(rows);
}

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
