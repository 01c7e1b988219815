/**
 * The layout migrations (0010: usage_logs namespace-first in small granules; 0011:
 * usage_daily_namespace namespace-first, unpartitioned) rebuild a store that already holds
 * entries. Everything a user can read must be the same before and after: every page of
 * walks over several filters, aggregates over odd windows (rollup body and raw edges),
 * offset reads, counts and the loader's duplicate check. Real embedded engine; the rows
 * come from the demo generator (two sources, entries sharing a millisecond), inserted in
 * several batches so the old table holds several parts.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageLogRow } from '@quaylogs/core';
import { demoRows } from '../../demo/src/index.ts';
import {
  aggregateUsageLogs,
  type ClickHouseStore,
  countUsageLogs,
  DEFAULT_MIGRATIONS_DIR,
  findStoredEventKeys,
  insertUsageLogs,
  listUsageLogs,
  type LogCursor,
  type LogFilter,
  migrate,
  openEmbeddedStore,
  readUsageLogsAt,
} from '../src/index.ts';

const NOW = new Date('2025-06-15T13:00:00Z');
const DAY = 86_400_000;
let store: ClickHouseStore;
let dir: string;
const rows: UsageLogRow[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quaylogs-layout-'));
  store = await openEmbeddedStore({ path: join(dir, 'clickhouse'), database: 'quaylogs' });
  // The schema as it was before the layout migrations.
  const before = join(dir, 'migrations');
  mkdirSync(before);
  for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR)) if (!/^001[01]_/.test(f)) copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(before, f));
  await migrate(store, { dir: before });
  let i = 0;
  for (const batch of demoRows({ rows: 24_000, seed: 7, now: NOW, days: 20 }, 4_000)) {
    // A second source for some namespaces, and runs of entries that share one millisecond.
    const out = batch.map((r) => ({ ...r, source: i++ % 5 === 0 ? 'quay-b' : r.source }));
    for (let k = 0; k < out.length; k += 97) for (let t = 1; t <= 2 && k + t < out.length; t++) out[k + t] = { ...out[k + t]!, datetime: out[k]!.datetime, namespace: out[k]!.namespace };
    rows.push(...out);
    await insertUsageLogs(store, out);
  }
}, 120_000);
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function busiest(key: (r: UsageLogRow) => string, where: (r: UsageLogRow) => boolean = () => true): string[] {
  const n = new Map<string, number>();
  for (const r of rows) if (where(r)) n.set(key(r), (n.get(key(r)) ?? 0) + 1);
  return [...n.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
}

async function walk(filter: LogFilter, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: LogCursor | null = null;
  for (let n = 0; n < 2_000; n++) {
    const page = await listUsageLogs(store, filter, cursor, limit, { now: NOW });
    pages.push(page.rows.map((r) => `${r.datetime} ${r.event_key} ${r.source} ${r.namespace} ${r.kind} ${r.performer} ${r.metadata}`));
    const last = page.rows.at(-1);
    if (!page.hasMore || !last) return pages;
    cursor = { datetime: last.datetime, eventKey: last.event_key };
  }
  throw new Error('walk did not end');
}

/** Everything the checks read, as plain data. */
async function snapshot() {
  const [top, , mid] = busiest((r) => r.namespace);
  const small = busiest((r) => r.namespace).at(-3)!;
  const performer = busiest((r) => r.performer, (r) => r.namespace === top)[0]!;
  const repository = busiest((r) => r.repository, (r) => r.namespace === top)[0]!;
  const window = { start: new Date(NOW.getTime() - 14 * DAY - 37 * 60_000), end: new Date(NOW.getTime() - 2 * DAY + 3_600_000) };
  const filters: [string, LogFilter, number][] = [
    ['small namespace, pages of 20', { ...window, namespace: small }, 20],
    ['mid namespace, pages of 20', { ...window, namespace: mid! }, 20],
    ['top namespace, pages of 100', { ...window, namespace: top! }, 100],
    ['top namespace, one source', { ...window, namespace: top!, source: 'quay-b' }, 50],
    ['top namespace, performer', { ...window, namespace: top!, performer }, 20],
    ['top namespace, repository, kinds', { ...window, namespace: top!, repository, kinds: ['pull_repo', 'push_repo'] }, 20],
    ['all namespaces, one day', { start: new Date(NOW.getTime() - 3 * DAY), end: new Date(NOW.getTime() - 2 * DAY), excludeKinds: ['pull_repo'] }, 100],
  ];
  const out: Record<string, unknown> = { count: await countUsageLogs(store) };
  for (const [name, f, limit] of filters) out[`walk: ${name}`] = await walk(f, limit);
  for (const [name, f] of filters) {
    out[`aggregate: ${name}`] = await aggregateUsageLogs(store, f);
    if (f.namespace) {
      out[`aggregate by performer: ${name}`] = await aggregateUsageLogs(store, f, 'performer');
      out[`aggregate by repository: ${name}`] = await aggregateUsageLogs(store, f, 'repository');
    }
  }
  out['aggregate: top namespace, whole days'] = await aggregateUsageLogs(store, { start: new Date(NOW.getTime() - 30 * DAY), end: NOW, namespace: top! });
  for (const offset of [0, 1_234, 5_000]) {
    out[`offset ${offset}`] = (await readUsageLogsAt(store, { ...window, namespace: top! }, offset, 30, { now: NOW })).map((r) => `${r.datetime} ${r.event_key}`);
  }
  const sample = rows.filter((_, i) => i % 50 === 0);
  out['stored keys found'] = (await findStoredEventKeys(store, sample)).size;
  return out;
}

describe('layout migrations on a store that holds entries', () => {
  it('every page of every walk, every aggregate, offset reads and counts are the same after the rebuilds', async () => {
    const before = await snapshot();
    expect(before.count).toBe(24_000);
    expect((before['walk: top namespace, pages of 100'] as string[][]).length).toBeGreaterThan(5);
    expect((before['walk: mid namespace, pages of 20'] as string[][]).length).toBeGreaterThan(3);

    const res = await migrate(store);
    expect(res.applied).toEqual(['0010_rebuild_usage_logs', '0011_rebuild_usage_daily_namespace']);
    const keys = await store.query<{ name: string; sorting_key: string }>({
      name: 'test.keys',
      sql: "SELECT name, sorting_key FROM system.tables WHERE database = currentDatabase() AND name LIKE 'usage_%' ORDER BY name",
    });
    expect(Object.fromEntries(keys.map((k) => [k.name, k.sorting_key]))).toMatchObject({
      usage_logs: 'namespace, datetime, event_key',
      usage_daily_namespace: 'namespace, day, kind, source',
    });
    expect(keys.map((k) => k.name)).not.toContain('usage_logs_rebuild');

    const after = await snapshot();
    for (const k of Object.keys(before)) expect(after[k], k).toEqual(before[k]);

    // The views feed the rebuilt tables: a new entry is counted, in the namespace rollup too.
    const fresh = { ...rows[0]!, event_key: '42424242', datetime: '2025-06-14 10:00:00.000' };
    await insertUsageLogs(store, [fresh]);
    const [c] = await store.query<{ n: string }>({
      name: 'test.rollup',
      sql: "SELECT sum(count) AS n FROM usage_daily_namespace WHERE namespace = {ns:String} AND source = {src:String} AND day = '2025-06-14' AND kind = {kind:String}",
      params: { ns: fresh.namespace, src: fresh.source, kind: fresh.kind },
    });
    const expected = rows.filter((r) => r.namespace === fresh.namespace && r.source === fresh.source && r.kind === fresh.kind && r.datetime.startsWith('2025-06-14')).length + 1;
    expect(Number(c!.n)).toBe(expected);
    expect(await countUsageLogs(store)).toBe(24_001);
  }, 300_000);
});
