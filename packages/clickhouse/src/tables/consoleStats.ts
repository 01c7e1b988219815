/**
 * The console's "who and what is busiest" and "when" questions, for a range of whole
 * UTC days: top namespaces, repositories or performers from the daily rollups (never a
 * scan of usage_logs), and the day-of-week × hour heat map (one grouped read of
 * usage_logs: the rollups have no hours).
 */
import type { ClickHouseStore, Params } from '../store.ts';
import { type LogFilter, whereFor } from './usageLogs.ts';

export type TopBy = 'namespace' | 'repository' | 'performer' | 'source';

export interface TopQuery {
  by: TopBy;
  /** First day included, `YYYY-MM-DD`. */
  dayFrom: string;
  /** First day excluded, `YYYY-MM-DD`. */
  dayTo: string;
  namespace?: string;
  repository?: string;
  /** Only entries of this source (registry). */
  source?: string;
  limit: number;
}

export interface TopRow {
  /** The namespace, `namespace/repository`, or performer. */
  name: string;
  count: number;
}

/** The busiest names (or sources) in the window, most entries first. */
export async function topUsage(store: ClickHouseStore, q: TopQuery): Promise<TopRow[]> {
  const where = ['day >= {dayFrom:Date}', 'day < {dayTo:Date}'];
  const params: Params = { dayFrom: q.dayFrom, dayTo: q.dayTo, limit: q.limit };
  if (q.namespace !== undefined) {
    where.push('namespace = {namespace:String}');
    params.namespace = q.namespace;
  }
  if (q.source !== undefined) {
    where.push('source = {source:String}');
    params.source = q.source;
  }
  let table: string;
  let name: string;
  if (q.by === 'source') {
    name = 'source';
    table = q.repository !== undefined ? 'usage_daily_repo' : q.namespace !== undefined ? 'usage_daily_namespace' : 'usage_daily_kind';
    if (q.repository !== undefined) {
      where.push('repository = {repository:String}');
      params.repository = q.repository;
    }
  } else if (q.by === 'namespace') {
    table = 'usage_daily_namespace';
    name = 'namespace';
  } else if (q.by === 'repository') {
    table = 'usage_daily_repo';
    name = q.namespace === undefined ? "concat(namespace, '/', repository)" : 'repository';
    where.push("repository != ''");
    if (q.repository !== undefined) {
      where.push('repository = {repository:String}');
      params.repository = q.repository;
    }
  } else {
    table = 'usage_daily_performer';
    name = 'performer';
    where.push("performer != ''");
    if (q.repository !== undefined) {
      // No rollup has repository × performer: count that repository's entries directly.
      table = 'usage_logs';
      where[0] = 'datetime >= toDateTime64({dayFrom:Date}, 3, \'UTC\')';
      where[1] = 'datetime < toDateTime64({dayTo:Date}, 3, \'UTC\')';
      where.push('repository = {repository:String}');
      params.repository = q.repository;
    }
  }
  const agg = table === 'usage_logs' ? 'count()' : 'sum(count)';
  const rows = await store.query<{ name: string; count: string | number }>({
    name: `consoleStats.top.${q.by}`,
    sql: `SELECT ${name} AS name, ${agg} AS count FROM ${table}
          WHERE ${where.join(' AND ')}
          GROUP BY name ORDER BY count DESC, name LIMIT {limit:UInt32}`,
    params,
  });
  return rows.map((r) => ({ name: r.name, count: Number(r.count) }));
}

export interface HeatCell {
  /** ISO day of week: 1 = Monday … 7 = Sunday (UTC). */
  dow: number;
  /** Hour of day, 0–23 (UTC). */
  hour: number;
  count: number;
}

/** Entries per (day of week, hour) in UTC over the filter's window. */
export async function usageHeatmap(store: ClickHouseStore, filter: LogFilter): Promise<HeatCell[]> {
  const w = whereFor(filter);
  const rows = await store.query<{ dow: number | string; hour: number | string; count: number | string }>({
    name: 'consoleStats.heatmap',
    sql: `SELECT toDayOfWeek(datetime, 0, 'UTC') AS dow, toHour(datetime, 'UTC') AS hour, count() AS count
          FROM usage_logs WHERE ${w.sql} GROUP BY dow, hour ORDER BY dow, hour`,
    params: w.params,
  });
  return rows.map((r) => ({ dow: Number(r.dow), hour: Number(r.hour), count: Number(r.count) }));
}

/** Entries per source and UTC day from the smallest rollup (the pipeline page's sparklines). */
export async function dailyBySource(store: ClickHouseStore, dayFrom: string, dayTo: string): Promise<{ source: string; day: string; count: number }[]> {
  // The text alias must not be named `day`: it would shadow the column in WHERE.
  const rows = await store.query<{ source: string; d: string; n: string | number }>({
    name: 'consoleStats.dailyBySource',
    sql: `SELECT source, toString(day) AS d, sum(count) AS n FROM usage_daily_kind
          WHERE day >= {dayFrom:Date} AND day < {dayTo:Date} GROUP BY source, day ORDER BY source, day`,
    params: { dayFrom, dayTo },
  });
  return rows.map((r) => ({ source: r.source, day: r.d, count: Number(r.n) }));
}
