/**
 * Answer checks: both sides must have answered the same question the same way.
 * - aggregates: the count of every (kind, day) equal;
 * - pages: the same entries. Neither side orders entries of equal datetime the
 *   same way (Quay has no tie-breaker at all), so entries whose datetime is the
 *   page's first or last are compared by datetime only; every other entry must
 *   match exactly (datetime, kind, performer, ip, metadata).
 */
import type { AggregateRow } from '@quaylogs/clickhouse';
import type { UsageLogRow } from '@quaylogs/core';
import type { PgAggregateRow, PgLogRow } from './pg/quayQueries.ts';
import type { AnswerCheck } from './types.ts';

const fmt = (n: number) => n.toLocaleString('en-US');

export function compareAggregates(pg: readonly PgAggregateRow[], ql: readonly AggregateRow[], kindName: ReadonlyMap<number, string>): AnswerCheck {
  const a = new Map<string, number>();
  let total = 0;
  for (const r of pg) {
    const key = `${kindName.get(r.kind_id) ?? `#${r.kind_id}`} ${r.day}`;
    a.set(key, (a.get(key) ?? 0) + Number(r.count));
    total += Number(r.count);
  }
  const b = new Map<string, number>();
  for (const r of ql) b.set(`${r.kind} ${r.day}`, (b.get(`${r.kind} ${r.day}`) ?? 0) + r.count);
  const diffs: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if ((a.get(k) ?? 0) !== (b.get(k) ?? 0)) diffs.push(`${k}: PostgreSQL ${a.get(k) ?? 0}, quaylogs ${b.get(k) ?? 0}`);
  }
  if (diffs.length) return { equal: false, detail: `${diffs.length} (kind, day) counts differ, e.g. ${diffs.slice(0, 3).join('; ')}` };
  if (a.size === 0) return { equal: false, detail: 'both sides returned no counts: the question selects nothing' };
  return { equal: true, detail: `${fmt(a.size)} (kind, day) counts over ${fmt(total)} entries` };
}

export interface Entry {
  /** `YYYY-MM-DD HH:MM:SS.mmm` (or seconds only for HTTP bodies) */
  datetime: string;
  kind: string;
  performer: string;
  ip: string;
  metadata: string;
}

/** PostgreSQL prints `2024-06-18 18:59:13.12`; make it `…13.120`. */
export function pgMillis(dt: string): string {
  const dot = dt.indexOf('.');
  if (dot === -1) return `${dt}.000`;
  return (dt + '000').slice(0, dot + 4);
}

function canonicalJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

export function pgEntry(r: PgLogRow, kindName: ReadonlyMap<number, string>): Entry {
  return {
    datetime: pgMillis(r.datetime),
    kind: kindName.get(r.kind_id) ?? `#${r.kind_id}`,
    performer: r.p_username ?? '',
    ip: r.ip ?? '',
    metadata: canonicalJson(r.metadata_json),
  };
}

export function qlEntry(r: Pick<UsageLogRow, 'datetime' | 'kind' | 'performer' | 'ip' | 'metadata'>): Entry {
  return { datetime: r.datetime, kind: r.kind, performer: r.performer, ip: r.ip, metadata: canonicalJson(r.metadata) };
}

/** An entry of Quay's logs JSON (datetime to the second). */
export function httpEntry(e: { kind: string; datetime: string; ip: string | null; performer?: { name: string }; metadata: unknown }): Entry {
  const d = new Date(e.datetime);
  return {
    datetime: d.toISOString().slice(0, 19).replace('T', ' '),
    kind: e.kind,
    performer: e.performer?.name ?? '',
    ip: e.ip ?? '',
    metadata: JSON.stringify(e.metadata),
  };
}

export function toSeconds(e: Entry): Entry {
  return { ...e, datetime: e.datetime.slice(0, 19) };
}

const key = (e: Entry) => `${e.datetime}\u0000${e.kind}\u0000${e.performer}\u0000${e.ip}\u0000${e.metadata}`;

function multiset(xs: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

function sameMultiset(a: Map<string, number>, b: Map<string, number>): string | null {
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if ((a.get(k) ?? 0) !== (b.get(k) ?? 0)) return k;
  }
  return null;
}

export function comparePages(pg: readonly Entry[], ql: readonly Entry[], what: string): AnswerCheck {
  if (pg.length !== ql.length) return { equal: false, detail: `${what}: PostgreSQL ${pg.length} entries, quaylogs ${ql.length}` };
  if (pg.length === 0) return { equal: false, detail: `${what}: both sides returned no entries: the question selects nothing` };
  const d = sameMultiset(multiset(pg.map((e) => e.datetime)), multiset(ql.map((e) => e.datetime)));
  if (d !== null) return { equal: false, detail: `${what}: datetimes differ (e.g. ${d})` };
  const times = pg.map((e) => e.datetime).sort();
  const lo = times[0]!;
  const hi = times[times.length - 1]!;
  const inner = (xs: readonly Entry[]) => multiset(xs.filter((e) => e.datetime !== lo && e.datetime !== hi).map(key));
  const k = sameMultiset(inner(pg), inner(ql));
  if (k !== null) return { equal: false, detail: `${what}: entries differ (e.g. ${k.split('\u0000').slice(0, 3).join(' ')})` };
  const edge = pg.filter((e) => e.datetime === lo || e.datetime === hi).length;
  return { equal: true, detail: `${what}: ${pg.length} entries equal (${edge} at the page's edge datetimes compared by datetime), ${lo} … ${hi}` };
}
