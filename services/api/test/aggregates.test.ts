/**
 * /aggregatelogs equals counts computed independently from the generated rows,
 * over 30 and 90 days, for namespaces, repositories, performers and everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRows, demoWorld } from '@quaylogs/demo';
import type { UsageLogRow } from '@quaylogs/core';
import { type ApiFixture, call, mdy, seed, startApi } from './fixtures.ts';

const NOW = new Date('2024-09-30T15:20:00Z');
const OPTS = { rows: 60_000, seed: 7, now: NOW, days: 90 };
let f: ApiFixture;
let rows: UsageLogRow[];

beforeAll(async () => {
  f = await startApi();
  rows = [...demoRows(OPTS)].flat();
  await seed(f, rows, demoWorld(OPTS).accounts);
});
afterAll(async () => f.close());

const DAY = 86_400_000;

/** Counts per kind|day(|group) straight from the generated rows. */
function expected(filter: (r: UsageLogRow) => boolean, start: Date, end: Date, group?: (r: UsageLogRow) => string) {
  const out = new Map<string, number>();
  for (const r of rows) {
    const t = Date.parse(r.datetime.replace(' ', 'T') + 'Z');
    if (t < start.getTime() || t >= end.getTime() || !filter(r)) continue;
    const day = new Date(Math.floor(t / DAY) * DAY).toUTCString().replace('GMT', '-0000');
    const key = `${r.kind}|${day}${group ? `|${group(r)}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

function actual(body: any, groupKey?: string) {
  const out = new Map<string, number>();
  for (const a of body.aggregated) {
    const key = `${a.kind}|${a.datetime}${groupKey ? `|${a[groupKey]}` : ''}`;
    expect(out.has(key)).toBe(false);
    out.set(key, a.count);
  }
  return out;
}

function largestNamespace(): string {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.namespace, (counts.get(r.namespace) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
}

describe('aggregatelogs over any range', () => {
  it('an organization over the last 30 days and over all 90 days (beyond Quay\'s one-month cap)', async () => {
    const ns = largestNamespace();
    for (const days of [30, 90]) {
      const start = new Date(Math.floor((NOW.getTime() - days * DAY) / DAY) * DAY);
      const end = new Date(Math.floor(NOW.getTime() / DAY) * DAY + DAY);
      const res = await call(f, 'GET', `/api/v1/organization/${ns}/aggregatelogs?starttime=${mdy(start)}&endtime=${mdy(NOW)}`);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['aggregated']);
      const want = expected((r) => r.namespace === ns, start, end);
      expect(want.size).toBeGreaterThan(100);
      expect(actual(res.body)).toEqual(want);
    }
  });

  it('every namespace (superuser) over 90 days, and a repository', async () => {
    const start = new Date(NOW.getTime() - 95 * DAY);
    const end = new Date(Math.floor(NOW.getTime() / DAY) * DAY + DAY);
    const all = await call(f, 'GET', `/api/v1/superuser/aggregatelogs?starttime=${mdy(start)}&endtime=${mdy(NOW)}`);
    const s = new Date(Math.floor(start.getTime() / DAY) * DAY);
    expect(actual(all.body)).toEqual(expected(() => true, s, end));
    const total = all.body.aggregated.reduce((n: number, a: any) => n + a.count, 0);
    expect(total).toBe(rows.length);

    const r0 = rows.find((r) => r.repository !== '')!;
    const repo = await call(f, 'GET', `/api/v1/repository/${r0.namespace}/${r0.repository}/aggregatelogs?starttime=${mdy(s)}&endtime=${mdy(NOW)}`);
    expect(actual(repo.body)).toEqual(expected((r) => r.namespace === r0.namespace && r.repository === r0.repository, s, end));
  });

  it('group_by=performer and group_by=repository add that field and stay exact', async () => {
    const ns = largestNamespace();
    const s = new Date(Math.floor((NOW.getTime() - 30 * DAY) / DAY) * DAY);
    const end = new Date(Math.floor(NOW.getTime() / DAY) * DAY + DAY);
    const byPerformer = await call(f, 'GET', `/api/v1/organization/${ns}/aggregatelogs?starttime=${mdy(s)}&endtime=${mdy(NOW)}&group_by=performer`);
    expect(Object.keys(byPerformer.body.aggregated[0])).toEqual(['kind', 'count', 'datetime', 'performer']);
    expect(actual(byPerformer.body, 'performer')).toEqual(expected((r) => r.namespace === ns, s, end, (r) => r.performer));
    const byRepo = await call(f, 'GET', `/api/v1/organization/${ns}/aggregatelogs?starttime=${mdy(s)}&endtime=${mdy(NOW)}&group_by=repository`);
    expect(actual(byRepo.body, 'repository')).toEqual(expected((r) => r.namespace === ns, s, end, (r) => r.repository));
    const bad = await call(f, 'GET', `/api/v1/organization/${ns}/aggregatelogs?group_by=color`);
    expect(bad.status).toBe(400);
    expect(bad.body.error_type).toBe('invalid_request');
  });

  it('windows that start and end inside a day are exact (rollups for whole days, raw rows at the edges)', async () => {
    const ns = largestNamespace();
    const start = new Date(NOW.getTime() - 20 * DAY - 5 * 3_600_000 - 37 * 60_000);
    const end = new Date(NOW.getTime() - 2 * DAY + 3 * 3_600_000 + 11_000);
    const path = `/api/v1/organization/${ns}/aggregatelogs?starttime=${start.toISOString()}&endtime=${end.toISOString()}`;
    const res = await call(f, 'GET', path);
    expect(actual(res.body)).toEqual(expected((r) => r.namespace === ns, start, end));
    const perf = rows.find((r) => r.namespace === ns && r.performer !== '')!.performer;
    const byOne = await call(f, 'GET', `${path}&performer=${encodeURIComponent(perf)}`);
    expect(actual(byOne.body)).toEqual(expected((r) => r.namespace === ns && r.performer === perf, start, end));
  });
});
