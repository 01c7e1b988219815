/**
 * Retention per source on the real embedded engine: QUAYLOGS_RETENTION_DAYS as the default,
 * per-source overrides (0 = keep forever) from the QUAYLOGS_CONFIG file; expired rows go,
 * the daily rollups stay.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UsageLogRow } from '@quaylogs/core';
import { applyRetention, type ClickHouseStore, insertUsageLogs, retentionFor, retentionTtl } from '../src/index.ts';
import { openTestStore, resetStore } from '@quaylogs/testing';
import { row as baseRow } from '@quaylogs/testing';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterAll(async () => {
  await applyRetention(store, 0);
  await cleanup();
});
beforeEach(async () => {
  await applyRetention(store, 0); // no policy left over to expire the next test's rows early
  await resetStore(store);
});

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().replace('T', ' ').replace('Z', '');
let key = 100;
function row(source: string, age: number): UsageLogRow {
  return baseRow({ source, namespace: 'acme', repository: 'web', kind: 'pull_repo', performer: 'alice', ip: '10.0.0.1', datetime: daysAgo(age), event_key: String(key++) });
}

async function expire(): Promise<void> {
  await store.command({ name: 'test.materialize', sql: 'ALTER TABLE usage_logs MATERIALIZE TTL SETTINGS mutations_sync = 2' });
  await store.command({ name: 'test.optimize', sql: 'OPTIMIZE TABLE usage_logs FINAL' });
}

async function perSource(table: 'usage_logs' | 'usage_daily_kind'): Promise<Record<string, number>> {
  const rows = await store.query<{ source: string; n: string }>({
    name: 'test.perSource',
    sql: `SELECT source, toString(${table === 'usage_logs' ? 'count()' : 'sum(count)'}) AS n FROM ${table} GROUP BY source ORDER BY source`,
  });
  return Object.fromEntries(rows.map((r) => [r.source, Number(r.n)]));
}

describe('retention per source', () => {
  it('the default applies to unlisted sources; an override shortens or lengthens it; 0 keeps a source forever; rollups stay', async () => {
    await applyRetention(store, 30, { prod: 10, archive: 0 });
    await insertUsageLogs(store, [
      row('prod', 5), row('prod', 15), row('prod', 45), // prod: 10 days
      row('archive', 45), row('archive', 400), //          archive: forever
      row('other', 5), row('other', 45), //                 default: 30 days
    ]);
    await expire();
    expect(await perSource('usage_logs')).toEqual({ prod: 1, archive: 2, other: 1 });
    expect(await perSource('usage_daily_kind')).toEqual({ prod: 3, archive: 2, other: 2 });
  });

  it('without a default, only the listed sources expire; all 0 removes the TTL', async () => {
    await applyRetention(store, 0, { prod: 30 });
    await insertUsageLogs(store, [row('prod', 45), row('other', 45)]);
    await expire();
    expect(await perSource('usage_logs')).toEqual({ other: 1 });
    await applyRetention(store, 0, { prod: 0 });
    await insertUsageLogs(store, [row('prod', 45)]);
    await store.command({ name: 'test.optimize', sql: 'OPTIMIZE TABLE usage_logs FINAL' }); // no TTL left to materialize
    expect(await perSource('usage_logs')).toEqual({ other: 1, prod: 1 });
  });

  it('what status shows per source, and names that never reach DDL', () => {
    const policy = { defaultDays: 30, bySource: { prod: 10, archive: 0 } };
    expect(retentionFor(policy, 'prod')).toBe(10);
    expect(retentionFor(policy, 'archive')).toBeNull();
    expect(retentionFor(policy, 'other')).toBe(30);
    expect(retentionTtl({ defaultDays: 0, bySource: {} })).toBeNull();
    expect(() => retentionTtl({ defaultDays: 0, bySource: { "x') OR 1=1 --": 5 } })).toThrow(/not a source name/);
    expect(() => retentionTtl({ defaultDays: -1, bySource: {} })).toThrow(/whole number/);
  });
});
