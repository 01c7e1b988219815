/**
 * The `usage_logs` table: its row schema, inserts and the paged listing.
 */
import type { UsageLogRow } from '@quaylogs/core';
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
export function chTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

const SELECT_COLUMNS = USAGE_LOG_COLUMNS.join(', ');

/**
 * One page of entries, newest first, after `cursor`. Fetches `limit + 1` rows so
 * the caller knows whether another page exists. The (datetime, event_key) keyset
 * never skips or repeats an entry, even when many share a timestamp.
 */
export async function listUsageLogs(
  store: ClickHouseStore,
  filter: LogFilter,
  cursor: LogCursor | null,
  limit: number,
): Promise<{ rows: UsageLogRow[]; hasMore: boolean }> {
  const where = whereFor(filter);
  let sql = `SELECT ${SELECT_COLUMNS} FROM usage_logs WHERE ${where.sql}`;
  const params: Params = { ...where.params, limit: limit + 1 };
  if (cursor) {
    sql += ` AND (datetime, event_key) < ({cursorTime:DateTime64(3, 'UTC')}, {cursorKey:UInt128})`;
    params.cursorTime = cursor.datetime;
    params.cursorKey = cursor.eventKey;
  }
  sql += ' ORDER BY datetime DESC, event_key DESC LIMIT {limit:UInt32}';
  const rows = await store.query<UsageLogRow>({ name: 'usageLogs.listPage', sql, params });
  const hasMore = rows.length > limit;
  return { rows: hasMore ? rows.slice(0, limit) : rows, hasMore };
}

/** Inserts one bounded batch of rows (the loader's and the demo's path). */
export async function insertUsageLogs(
  store: ClickHouseStore,
  rows: readonly UsageLogRow[],
  dedupToken?: string,
): Promise<void> {
  await store.insert({ table: 'usage_logs', rows, ...(dedupToken !== undefined ? { dedupToken } : {}) });
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
