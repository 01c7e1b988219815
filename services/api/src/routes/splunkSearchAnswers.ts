/**
 * What a search job answers, from ClickHouse: its result count and its result rows.
 *
 * - events (`…` and `… | sort -_time`): newest first, ties by event_key (one order for
 *   both: Splunk too returns events newest first when not told otherwise), read at any
 *   offset without cost growing with it (usageLogOffsets.ts). `_raw` is the event as
 *   Quay's HEC producer sends it, rebuilt from the stored columns.
 * - `stats count`: one row, always.
 * - `stats count by kind, log_date`: the rows of /aggregatelogs (aggregateUsageLogs),
 *   UTC days, every row.
 */
import {
  aggregateUsageLogs,
  type ClickHouseStore,
  countMatchingLogs,
  dailyBuckets,
  type LogFilter,
  readUsageLogsAt,
} from '@quaylogs/clickhouse';
import type { UsageLogRow } from '@quaylogs/core';
import type { SearchJob } from './splunkSearchJobs.ts';

/** Most event rows one results request returns (Splunk's maxresultrows). */
export const MAX_EVENT_ROWS = 50_000;
/** Event rows returned when the request names no count (Splunk's default). */
export const DEFAULT_EVENT_ROWS = 100;

export function jobFilter(job: SearchJob): LogFilter {
  const q = job.query;
  return {
    source: job.source,
    start: new Date(job.earliest),
    end: new Date(Math.max(job.earliest, job.latest)),
    ...(q.account !== undefined ? { namespace: q.account } : {}),
    ...(q.performer !== undefined ? { performer: q.performer } : {}),
    ...(q.repository !== undefined ? { repository: q.repository } : {}),
    ...(q.excludeKinds.length > 0 ? { excludeKinds: q.excludeKinds } : {}),
  };
}

const isEvents = (job: SearchJob) => job.query.command === 'events' || job.query.command === 'sorted';

async function statsRows(store: ClickHouseStore, job: SearchJob): Promise<Record<string, string>[]> {
  const filter = jobFilter(job);
  if (job.query.command === 'count') return [{ count: String(await countMatchingLogs(store, filter)) }];
  const rows = await aggregateUsageLogs(store, filter);
  return rows
    .map((r) => ({ kind: r.kind, log_date: r.day, count: String(r.count) }))
    .sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.log_date < b.log_date ? -1 : a.log_date > b.log_date ? 1 : 0));
}

/** The job's status counts: events matched, and result rows (the same for event searches). */
export async function jobCounts(store: ClickHouseStore, job: SearchJob): Promise<{ eventCount: number; resultCount: number }> {
  if (isEvents(job)) {
    const n = await countMatchingLogs(store, jobFilter(job));
    return { eventCount: n, resultCount: n };
  }
  if (job.query.command === 'count') {
    const [row] = await statsRows(store, job);
    return { eventCount: Number(row!.count), resultCount: 1 };
  }
  const rows = await statsRows(store, job);
  return { eventCount: rows.reduce((n, r) => n + Number(r.count), 0), resultCount: rows.length };
}

export interface ResultsPage {
  fields: string[];
  results: Record<string, string>[];
}

/** Result rows from `offset`: at most `count` (undefined: Splunk's default; 0: all). */
export async function jobResults(store: ClickHouseStore, job: SearchJob, offset: number, count: number | undefined): Promise<ResultsPage> {
  if (isEvents(job)) {
    const n = count === undefined ? DEFAULT_EVENT_ROWS : count === 0 ? MAX_EVENT_ROWS : Math.min(count, MAX_EVENT_ROWS);
    const filter = jobFilter(job);
    const rows = await readUsageLogsAt(store, filter, offset, n, await dailyBuckets(store, filter));
    return { fields: ['_raw', '_time'], results: rows.map((r) => ({ _raw: quayHecEvent(r), _time: splunkTime(r.datetime) })) };
  }
  const rows = await statsRows(store, job);
  const end = count === undefined || count === 0 ? rows.length : offset + count;
  return { fields: job.query.command === 'count' ? ['count'] : ['kind', 'log_date', 'count'], results: rows.slice(offset, end) };
}

/** `2024-01-15 10:30:00.123` (stored, UTC) ⇒ Splunk's `_time`, `2024-01-15T10:30:00.123+00:00`. */
export function splunkTime(chDateTime: string): string {
  return `${chDateTime.replace(' ', 'T')}+00:00`;
}

/** Epoch seconds of a stored time: an integer when it has no milliseconds, as Quay's producer sends. */
function epochSeconds(chDateTime: string): number {
  return Date.parse(`${chDateTime.replace(' ', 'T')}Z`) / 1000;
}

/** Python's json.dumps(value, sort_keys=True, ensure_ascii=False): the text Quay's HEC producer sends. */
export function pythonJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(pythonJson).join(', ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}: ${pythonJson(o[k])}`)
      .join(', ')}}`;
  }
  return JSON.stringify(v);
}

function metadataObject(text: string): unknown {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

/**
 * The event object Quay's `splunk_hec` producer posts for this entry, as JSON text:
 * kind, account, performer, repository, ip, metadata_json (an object), datetime (epoch
 * seconds, a number) and the extended fields; empty values are null. Like Quay, the
 * event carries `performer_email: null` when extended logging was off (no request URL
 * and no HTTP method).
 */
export function quayHecEvent(r: UsageLogRow): string {
  const orNull = (s: string) => (s === '' ? null : s);
  const event: Record<string, unknown> = {
    kind: r.kind,
    account: orNull(r.namespace),
    performer: orNull(r.performer),
    repository: orNull(r.repository),
    ip: orNull(r.ip),
    metadata_json: metadataObject(r.metadata),
    datetime: epochSeconds(r.datetime),
    request_url: orNull(r.request_url),
    http_method: orNull(r.http_method),
    performer_username: orNull(r.performer),
    performer_kind: orNull(r.performer_kind),
    auth_type: orNull(r.auth_type),
    user_agent: orNull(r.user_agent),
    namespace_name: orNull(r.namespace),
    repository_name: orNull(r.repository),
    request_id: orNull(r.request_id),
    x_forwarded_for: orNull(r.x_forwarded_for),
  };
  if (r.request_url === '' && r.http_method === '') event.performer_email = null;
  return pythonJson(event);
}
