/**
 * Offset reads of usage_logs for Splunk-style paging (`count` rows from `offset`, newest
 * first), at a cost that does not grow with the offset.
 *
 * A plain `ORDER BY datetime DESC, event_key DESC LIMIT n OFFSET k` reads and sorts k + n
 * rows, so walking a million entries in batches of 5,000 would read ~100 million. Instead
 * the offset is first located in time buckets whose sizes are known cheaply:
 *
 * 1. Entries per UTC day of the window, from the daily rollups (`aggregateUsageLogs`: whole
 *    days from a rollup, partial edge days from usage_logs). Walking the days newest first
 *    finds the day holding entry number `offset` and the offset left inside that day.
 * 2. When that remainder is large, entries per minute of that one day (a scan of one day's
 *    sort-key range) narrow it to the minute holding the entry.
 * 3. The page is read from the end of that bucket down to the start of the first bucket
 *    that completes `remainder + count` entries, with `OFFSET remainder` (a short read
 *    through listUsageLogs, which probes the newest hour, day and week first).
 *
 * Buckets are half-open time ranges, so entries that share a timestamp are never split
 * between two buckets and the (datetime, event_key) order inside a bucket is the same as
 * in the whole window: the rows are exactly those of the plain query.
 */
import type { UsageLogRow } from '@quaylogs/core';
import type { ClickHouseStore } from '../store.ts';
import { type AggregateRow, aggregateUsageLogs } from './aggregates.ts';
import { listUsageLogs, type LogFilter, USAGE_LOG_COLUMNS, whereFor } from './usageLogs.ts';

/** A half-open time range [start, end) in epoch ms and how many matching entries it holds. */
export interface TimeBucket {
  start: number;
  end: number;
  count: number;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** A remainder inside a day beyond this is narrowed to the minute before reading. */
export const REFINE_ABOVE = 2_000;
/** Reads of at most this many rows from a range's newest end go through listUsageLogs' probes. */
const PROBE_AT_MOST = 1_000;

/** Matching entries per UTC day of the window, newest day first (days without entries left out). */
export async function dailyBuckets(store: ClickHouseStore, filter: LogFilter): Promise<TimeBucket[]> {
  return bucketsFromAggregates(await aggregateUsageLogs(store, filter), filter);
}

/** The daily buckets of a filter from its (kind, day) counts, as aggregateUsageLogs returns them. */
export function bucketsFromAggregates(rows: readonly AggregateRow[], filter: LogFilter): TimeBucket[] {
  const perDay = new Map<string, number>();
  for (const r of rows) perDay.set(r.day, (perDay.get(r.day) ?? 0) + r.count);
  const start = filter.start.getTime();
  const end = filter.end.getTime();
  return [...perDay.entries()]
    .map(([day, count]) => {
      const dayStart = Date.parse(`${day}T00:00:00Z`);
      return { start: Math.max(start, dayStart), end: Math.min(end, dayStart + DAY_MS), count };
    })
    .sort((a, b) => b.start - a.start);
}

/** How many entries match (the sum of the daily counts: rollups, not a scan). */
export async function countMatchingLogs(store: ClickHouseStore, filter: LogFilter): Promise<number> {
  let n = 0;
  for (const b of await dailyBuckets(store, filter)) n += b.count;
  return n;
}

/** Matching entries per minute inside one bucket, newest first. */
async function minuteBuckets(store: ClickHouseStore, filter: LogFilter, within: TimeBucket): Promise<TimeBucket[]> {
  const w = whereFor({ ...filter, start: new Date(within.start), end: new Date(within.end) });
  const rows = await store.query<{ m: number | string; n: string }>({
    name: 'usageLogOffsets.minutes',
    sql: `SELECT toUnixTimestamp(toStartOfMinute(datetime)) AS m, count() AS n
          FROM usage_logs WHERE ${w.sql} GROUP BY m ORDER BY m DESC`,
    params: w.params,
  });
  return rows.map((r) => {
    const m = Number(r.m) * 1000;
    return { start: Math.max(within.start, m), end: Math.min(within.end, m + MINUTE_MS), count: Number(r.n) };
  });
}

/**
 * Another select list for a raw page read (readUsageLogsAtRaw): a constant expression over
 * usage_logs' columns, never user text, its query name and the settings it needs.
 */
export interface SelectList {
  name: string;
  sql: string;
  settings?: Record<string, number | string>;
}

/** The bucket holding entry number `offset` (0-based, in bucket order) and the offset left inside it. */
function locate(buckets: readonly TimeBucket[], offset: number): { index: number; skip: number } | null {
  let before = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!.count;
    if (before + n > offset) return { index: i, skip: offset - before };
    before += n;
  }
  return null;
}

/**
 * The time range whose newest `skip + count` entries end with the page at `offset`, and the
 * `skip` to drop inside it (null: the window holds no entry at that position).
 */
async function pageRange(
  store: ClickHouseStore,
  filter: LogFilter,
  offset: number,
  count: number,
  days: readonly TimeBucket[] | undefined,
): Promise<{ range: LogFilter; skip: number } | null> {
  if (count <= 0 || filter.end <= filter.start) return null;
  let buckets = [...(days ?? (await dailyBuckets(store, filter)))];
  let at = locate(buckets, offset);
  if (!at) return null;
  if (at.skip > REFINE_ABOVE) {
    const minutes = await minuteBuckets(store, filter, buckets[at.index]!);
    buckets = [...buckets.slice(0, at.index), ...minutes, ...buckets.slice(at.index + 1)];
    at = locate(buckets, offset);
    if (!at) return null;
  }
  // Extend the range to older buckets until it holds skip + count entries (or the window ends).
  let last = at.index;
  let held = buckets[last]!.count;
  while (held < at.skip + count && last + 1 < buckets.length) held += buckets[++last]!.count;
  return { range: { ...filter, start: new Date(buckets[last]!.start), end: new Date(buckets[at.index]!.end) }, skip: at.skip };
}

/** The page's statement over its range: `select` (or the stored row), newest first, `count` from `skip`. */
function pageStatement(range: LogFilter, skip: number, count: number, select?: SelectList) {
  const w = whereFor(range);
  return {
    name: select?.name ?? 'usageLogOffsets.page',
    sql: `SELECT ${select?.sql ?? USAGE_LOG_COLUMNS.join(', ')} FROM usage_logs WHERE ${w.sql}
          ORDER BY datetime DESC, event_key DESC LIMIT {limit:UInt32} OFFSET {skip:UInt64}`,
    params: { ...w.params, limit: count, skip },
    ...(select?.settings ? { settings: select.settings } : {}),
  };
}

/**
 * `count` entries from position `offset` of the window, newest first (ties by event_key,
 * descending): the rows of `ORDER BY datetime DESC, event_key DESC LIMIT count OFFSET offset`.
 * `opts.days` may be passed when the caller already holds this filter's daily buckets;
 * `opts.now` is the clock short reads probe back from (see listUsageLogs).
 */
export async function readUsageLogsAt(
  store: ClickHouseStore,
  filter: LogFilter,
  offset: number,
  count: number,
  opts: { days?: readonly TimeBucket[]; now?: Date } = {},
): Promise<UsageLogRow[]> {
  const at = await pageRange(store, filter, offset, count, opts.days);
  if (!at) return [];
  if (at.skip + count <= PROBE_AT_MOST) {
    // A short read from the range's newest end (Quay's UI pages): listUsageLogs probes the
    // last hour, day and week of the range before reading all of it.
    const page = await listUsageLogs(store, at.range, null, at.skip + count, opts.now ? { now: opts.now } : {});
    return page.rows.slice(at.skip);
  }
  return store.query<UsageLogRow>(pageStatement(at.range, at.skip, count));
}

/**
 * The same page as readUsageLogsAt, as the bytes of `select`'s one String column, the rows'
 * values concatenated (RawBLOB): for text the engine renders whole, which Node then only copies.
 */
export async function readUsageLogsAtRaw(
  store: ClickHouseStore,
  filter: LogFilter,
  offset: number,
  count: number,
  opts: { days?: readonly TimeBucket[]; select: SelectList },
): Promise<Buffer> {
  const at = await pageRange(store, filter, offset, count, opts.days);
  if (!at) return Buffer.alloc(0);
  return store.queryRaw(pageStatement(at.range, at.skip, count, opts.select));
}
