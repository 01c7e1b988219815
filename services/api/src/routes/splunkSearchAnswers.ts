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
  type AggregateRow,
  aggregateUsageLogs,
  bucketsFromAggregates,
  type ClickHouseStore,
  type LogFilter,
  readSplunkEventsJson,
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

/** How long a job's (kind, day) counts are reused by later steps and jobs of the same search. */
export const COUNTS_TTL_MS = 10_000;
const COUNTS_CACHE_ENTRIES = 500;

export interface ResultsPage {
  fields: string[];
  /** Result rows; or, for long event reads, `json`: the rows' JSON array as UTF-8 bytes. */
  results: Record<string, string>[];
  json?: Buffer;
}

/** Event reads longer than this are rendered by ClickHouse (splunkEvents.ts). */
const ENGINE_RENDERS_ABOVE = 1_000;

/**
 * Answers jobs from the store. The (kind, day) counts of a search — from which its
 * result count, its aggregate rows and the day buckets of offset reads all derive — are
 * kept for COUNTS_TTL_MS per API process, keyed by source, filters and window: the status
 * and results steps of one job, and the successive batch jobs of one Quay export, then
 * cost one rollup query instead of one each. Like a Splunk job, an answer is a snapshot.
 */
export class SearchAnswers {
  private readonly counts = new Map<string, { at: number; rows: Promise<AggregateRow[]> }>();

  constructor(
    private readonly store: ClickHouseStore,
    private readonly now: () => Date,
  ) {}

  private aggregates(filter: LogFilter): Promise<AggregateRow[]> {
    const key = JSON.stringify([filter.source, filter.namespace, filter.performer, filter.repository, filter.excludeKinds, filter.start.getTime(), filter.end.getTime()]);
    const nowMs = Date.now();
    const hit = this.counts.get(key);
    if (hit && nowMs - hit.at < COUNTS_TTL_MS) return hit.rows;
    const rows = aggregateUsageLogs(this.store, filter);
    rows.catch(() => this.counts.delete(key));
    this.counts.delete(key);
    this.counts.set(key, { at: nowMs, rows });
    while (this.counts.size > COUNTS_CACHE_ENTRIES) this.counts.delete(this.counts.keys().next().value!);
    return rows;
  }

  private async statsRows(job: SearchJob): Promise<Record<string, string>[]> {
    const rows = await this.aggregates(jobFilter(job));
    if (job.query.command === 'count') return [{ count: String(rows.reduce((n, r) => n + r.count, 0)) }];
    return rows
      .map((r) => ({ kind: r.kind, log_date: r.day, count: String(r.count) }))
      .sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.log_date < b.log_date ? -1 : a.log_date > b.log_date ? 1 : 0));
  }

  /** The job's status counts: events matched, and result rows (the same for event searches). */
  async jobCounts(job: SearchJob): Promise<{ eventCount: number; resultCount: number }> {
    const rows = await this.aggregates(jobFilter(job));
    const events = rows.reduce((n, r) => n + r.count, 0);
    if (isEvents(job)) return { eventCount: events, resultCount: events };
    if (job.query.command === 'count') return { eventCount: events, resultCount: 1 };
    return { eventCount: events, resultCount: rows.length };
  }

  /** Result rows from `offset`: at most `count` (undefined: Splunk's default; 0: all). */
  async jobResults(job: SearchJob, offset: number, count: number | undefined): Promise<ResultsPage> {
    if (isEvents(job)) {
      const n = count === undefined ? DEFAULT_EVENT_ROWS : count === 0 ? MAX_EVENT_ROWS : Math.min(count, MAX_EVENT_ROWS);
      const filter = jobFilter(job);
      const days = bucketsFromAggregates(await this.aggregates(filter), filter);
      if (n > ENGINE_RENDERS_ABOVE) {
        return { fields: ['_raw', '_time'], results: [], json: await readSplunkEventsJson(this.store, filter, offset, n, days) };
      }
      const rows = await readUsageLogsAt(this.store, filter, offset, n, { days, now: this.now() });
      return { fields: ['_raw', '_time'], results: rows.map((r) => ({ _raw: quayHecEvent(r), _time: splunkTime(r.datetime) })) };
    }
    const rows = await this.statsRows(job);
    const end = count === undefined || count === 0 ? rows.length : offset + count;
    return { fields: job.query.command === 'count' ? ['count'] : ['kind', 'log_date', 'count'], results: rows.slice(offset, end) };
  }
}

/** `2024-01-15 10:30:00.123` (stored, UTC) ⇒ Splunk's `_time`, `2024-01-15T10:30:00.123+00:00`. */
export function splunkTime(chDateTime: string): string {
  return `${chDateTime.replace(' ', 'T')}+00:00`;
}

/** Epoch seconds of a stored time: an integer when it has no milliseconds, as Quay's producer sends. */
function epochSeconds(chDateTime: string): number {
  return Date.parse(`${chDateTime.replace(' ', 'T')}Z`) / 1000;
}

/** JSON text of a stored text column: null when empty (Quay sends null for a missing value). */
const text = (s: string) => (s === '' ? 'null' : JSON.stringify(s));

/**
 * The event object Quay's `splunk_hec` producer posts for this entry, as JSON text with
 * its keys sorted like Quay's `json.dumps(sort_keys=True)`: kind, account, performer,
 * repository, ip, metadata_json (an object: the stored metadata), datetime (epoch seconds,
 * a number) and the extended fields; empty values are null. Like Quay, the event carries
 * `performer_email: null` when extended logging was off (no request URL, no HTTP method).
 * Written out key by key: an export renders millions of these.
 */
export function quayHecEvent(r: UsageLogRow): string {
  // Stored metadata is always a JSON object's text (every ingest path writes it so).
  const metadata = r.metadata.startsWith('{') ? r.metadata : '{}';
  const extendedOff = r.request_url === '' && r.http_method === '';
  return (
    `{"account": ${text(r.namespace)}, "auth_type": ${text(r.auth_type)}, "datetime": ${epochSeconds(r.datetime)}, ` +
    `"http_method": ${text(r.http_method)}, "ip": ${text(r.ip)}, "kind": ${JSON.stringify(r.kind)}, "metadata_json": ${metadata}, ` +
    `"namespace_name": ${text(r.namespace)}, "performer": ${text(r.performer)}, ` +
    (extendedOff ? '"performer_email": null, ' : '') +
    `"performer_kind": ${text(r.performer_kind)}, "performer_username": ${text(r.performer)}, ` +
    `"repository": ${text(r.repository)}, "repository_name": ${text(r.repository)}, "request_id": ${text(r.request_id)}, ` +
    `"request_url": ${text(r.request_url)}, "user_agent": ${text(r.user_agent)}, "x_forwarded_for": ${text(r.x_forwarded_for)}}`
  );
}
