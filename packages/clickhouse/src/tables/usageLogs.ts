/**
 * The `usage_logs` table: its row schema, inserts and the paged listing.
 */
import { toChDateTime, type UsageLogRow } from '@quaylogs/core';
import type { ClickHouseStore, Params } from '../store.ts';

export const USAGE_LOG_COLUMNS = [
  'source',
  'namespace',
  'repository',
  'kind',
  'performer',
  'ip',
  'datetime',
  'metadata',
  'event_key',
  'request_url',
  'http_method',
  'user_agent',
  'request_id',
  'auth_type',
  'performer_kind',
  'x_forwarded_for',
] as const satisfies readonly (keyof UsageLogRow)[];

/** Which entries a query covers. `start` inclusive, `end` exclusive (Quay's half-open window). */
export interface LogFilter {
  start: Date;
  end: Date;
  /** Only this namespace; undefined = every namespace (superuser routes). */
  namespace?: string;
  /** Only this repository of `namespace`. */
  repository?: string;
  performer?: string;
  /** Only these kinds. */
  kinds?: readonly string[];
  /** Never these kinds (Quay's service-level kinds on the user routes). */
  excludeKinds?: readonly string[];
  /** Only this source (registry). */
  source?: string;
}

/** The position after the last entry of a page: entries strictly older come next. */
export interface LogCursor {
  datetime: string;
  eventKey: string;
}

/** Builds the WHERE clause and its typed parameters for a filter. */
export function whereFor(f: LogFilter, timeColumn = 'datetime'): { sql: string; params: Params } {
  const parts = [`${timeColumn} >= {start:DateTime64(3, 'UTC')}`, `${timeColumn} < {end:DateTime64(3, 'UTC')}`];
  const params: Params = { start: chTime(f.start), end: chTime(f.end) };
  if (f.source !== undefined) {
    parts.push('source = {source:String}');
    params.source = f.source;
  }
  if (f.namespace !== undefined) {
    parts.push('namespace = {namespace:String}');
    params.namespace = f.namespace;
  }
  if (f.repository !== undefined) {
    parts.push('repository = {repository:String}');
    params.repository = f.repository;
  }
  if (f.performer !== undefined) {
    parts.push('performer = {performer:String}');
    params.performer = f.performer;
  }
  if (f.kinds !== undefined) {
    parts.push('kind IN {kinds:Array(String)}');
    params.kinds = [...f.kinds];
  }
  if (f.excludeKinds !== undefined && f.excludeKinds.length > 0) {
    parts.push('kind NOT IN {excludeKinds:Array(String)}');
    params.excludeKinds = [...f.excludeKinds];
  }
  return { sql: parts.join(' AND '), params };
}

/** `2024-06-18 18:59:13.123`: DateTime64(3) parameter text, UTC. */
export const chTime: (d: Date) => string = toChDateTime;

/**
 * Spans probed, newest first, before reading the whole window. A page needs only its
 * 21 newest entries; for a busy namespace the last hour holds them, and reading one hour
 * of the sort key's (namespace, datetime) range is far cheaper than sorting months.
 */
const PROBE_SPANS_MS = [3_600_000, 86_400_000, 7 * 86_400_000];

/**
 * The columns a Quay logs page shows (kind, metadata, ip, datetime, performer, namespace)
 * plus its cursor (datetime, event_key) and the source its next_page token names: Quay's
 * own entry fields, none of the extended-logging ones (its /logs answer has none of them).
 * Every column costs the page statement a granule to read and decompress (~0.3 ms each on
 * the bench machine), so /logs reads these 8, not all 16.
 */
export const LOG_PAGE_COLUMNS = ['source', 'namespace', 'kind', 'performer', 'ip', 'datetime', 'metadata', 'event_key'] as const satisfies readonly (keyof UsageLogRow)[];

/** An entry as a logs page holds it (LOG_PAGE_COLUMNS). */
export type LogPageRow = Pick<UsageLogRow, (typeof LOG_PAGE_COLUMNS)[number]>;

/**
 * One page of entries, newest first, after `cursor`, every column. Fetches `limit + 1` rows
 * so the caller knows whether another page exists. The (datetime, event_key) keyset never
 * skips or repeats an entry, even when many share a timestamp.
 *
 * The page is read from a growing slice of the window that ends at the cursor (page 1:
 * at the window's end) and reaches back an hour, a day, a week, then all of it. A slice
 * that yields `limit + 1` rows holds the newest ones of the whole window (everything
 * older lies before the slice), so the answer is the same as one query over the window;
 * sparse namespaces pay a few cheap probes. The spans are measured back from `now` when
 * the slice's end lies beyond it: Quay's windows end at the next midnight, and the hour
 * before that holds nothing yet, so a first probe counted from the window's end would
 * be wasted and the second would read the whole day so far.
 */
export function listUsageLogs(...args: ListArgs): Promise<{ rows: UsageLogRow[]; hasMore: boolean }> {
  return listEntries<UsageLogRow>({ name: 'usageLogs.listRows', columns: USAGE_LOG_COLUMNS }, ...args);
}

/** The same page as listUsageLogs, only LOG_PAGE_COLUMNS: what Quay's /logs reads. */
export function listLogPage(...args: ListArgs): Promise<{ rows: LogPageRow[]; hasMore: boolean }> {
  return listEntries<LogPageRow>({ name: 'usageLogs.listPage', columns: LOG_PAGE_COLUMNS }, ...args);
}

type ListArgs = [store: ClickHouseStore, filter: LogFilter, cursor: LogCursor | null, limit: number, opts?: { now?: Date }];

type Select = { name: string; columns: readonly string[] };

async function listEntries<T>(
  select: Select,
  store: ClickHouseStore,
  filter: LogFilter,
  cursor: LogCursor | null,
  limit: number,
  opts: { now?: Date } = {},
): Promise<{ rows: T[]; hasMore: boolean }> {
  const start = filter.start.getTime();
  // Entries at the cursor's own millisecond may still follow it (ties broken by event_key).
  const top = cursor ? Math.min(filter.end.getTime(), Date.parse(`${cursor.datetime.replace(' ', 'T')}Z`) + 1) : filter.end.getTime();
  const anchor = Math.min(top, (opts.now ?? new Date()).getTime());
  let rows: T[] = [];
  for (const span of [...PROBE_SPANS_MS, Infinity]) {
    const from = span === Infinity ? start : Math.max(start, anchor - span);
    rows = await pageQuery<T>(store, select, { ...filter, start: new Date(from), end: new Date(Math.max(top, from)) }, cursor, limit + 1);
    if (rows.length > limit || from <= start) break;
  }
  const hasMore = rows.length > limit;
  return { rows: hasMore ? rows.slice(0, limit) : rows, hasMore };
}

async function pageQuery<T>(store: ClickHouseStore, select: Select, filter: LogFilter, cursor: LogCursor | null, n: number): Promise<T[]> {
  const where = whereFor(filter);
  let sql = `SELECT ${select.columns.join(', ')} FROM usage_logs WHERE ${where.sql}`;
  const params: Params = { ...where.params, limit: n };
  if (cursor) {
    sql += ` AND (datetime, event_key) < ({cursorTime:DateTime64(3, 'UTC')}, {cursorKey:UInt128})`;
    params.cursorTime = cursor.datetime;
    params.cursorKey = cursor.eventKey;
  }
  sql += ' ORDER BY datetime DESC, event_key DESC LIMIT {limit:UInt32}';
  return store.query<T>({ name: select.name, sql, params });
}

/** Inserts one bounded batch of rows (the loader's and the demo's path). */
export async function insertUsageLogs(
  store: ClickHouseStore,
  rows: readonly UsageLogRow[],
  dedupToken?: string,
): Promise<void> {
  await store.insert({ table: 'usage_logs', rows, columns: USAGE_LOG_COLUMNS, ...(dedupToken !== undefined ? { dedupToken } : {}) });
}

/** How many entries the store holds (all sources). */
export async function countUsageLogs(store: ClickHouseStore): Promise<number> {
  const [r] = await store.query<{ n: string }>({ name: 'usageLogs.count', sql: 'SELECT count() AS n FROM usage_logs' });
  return Number(r?.n ?? 0);
}

/** Whether quaylogs holds any entry of this repository (the API's 404 for unknown repositories). */
export async function repositoryExists(store: ClickHouseStore, namespace: string, repository: string): Promise<boolean> {
  const rows = await store.query<{ ok: number }>({
    name: 'usageLogs.repositoryExists',
    sql: `SELECT 1 AS ok FROM usage_daily_repo
          WHERE namespace = {namespace:String} AND repository = {repository:String} LIMIT 1`,
    params: { namespace, repository },
  });
  return rows.length > 0;
}

/** Rows per existence query: keeps each query's parameters well under any URL or packet limit. */
const EXISTING_KEYS_CHUNK = 10_000;

/**
 * Which of these rows' event_keys `usage_logs` already holds (the loader's duplicate check).
 * Never a full scan: each query is bounded by the sort-key prefix of its chunk — source IN,
 * namespace IN, datetime BETWEEN the chunk's min and max — and then event_key IN. Rows are
 * sorted by (source, namespace, datetime) first, so every chunk covers a narrow range.
 */
export async function findStoredEventKeys(
  store: ClickHouseStore,
  rows: readonly Pick<UsageLogRow, 'source' | 'namespace' | 'datetime' | 'event_key'>[],
): Promise<Set<string>> {
  const found = new Set<string>();
  const sorted = [...rows].sort(
    (a, b) =>
      (a.source < b.source ? -1 : a.source > b.source ? 1 : 0) ||
      (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0) ||
      (a.datetime < b.datetime ? -1 : a.datetime > b.datetime ? 1 : 0),
  );
  for (let i = 0; i < sorted.length; i += EXISTING_KEYS_CHUNK) {
    const chunk = sorted.slice(i, i + EXISTING_KEYS_CHUNK);
    let min = chunk[0]!.datetime;
    let max = min;
    const sources = new Set<string>();
    const namespaces = new Set<string>();
    for (const r of chunk) {
      if (r.datetime < min) min = r.datetime;
      if (r.datetime > max) max = r.datetime;
      sources.add(r.source);
      namespaces.add(r.namespace);
    }
    const keys = await store.query<{ k: string }>({
      name: 'usageLogs.storedEventKeys',
      sql: `SELECT toString(event_key) AS k FROM usage_logs
            WHERE source IN {sources:Array(String)} AND namespace IN {namespaces:Array(String)}
              AND datetime BETWEEN {min:DateTime64(3, 'UTC')} AND {max:DateTime64(3, 'UTC')}
              AND event_key IN {keys:Array(UInt128)}`,
      // UInt128 array parameters must be bare integers: quoted decimal strings do not parse.
      // Content keys identify an entry to the second (a path with seconds-only times, such as
      // Quay's API, and one with milliseconds, such as its database, key it alike): search the
      // whole seconds the chunk spans.
      params: {
        sources: [...sources],
        namespaces: [...namespaces],
        min: `${min.slice(0, 19)}.000`,
        max: `${max.slice(0, 19)}.999`,
        keys: chunk.map((r) => BigInt(r.event_key)),
      },
    });
    for (const { k } of keys) found.add(k);
  }
  return found;
}
