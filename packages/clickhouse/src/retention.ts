/**
 * QUAYLOGS_RETENTION_DAYS: usage_logs rows older than N days are dropped by
 * ClickHouse's TTL, whole parts at a time (`ttl_only_drop_parts`). The daily
 * rollups are kept, so aggregates still answer for periods whose raw entries
 * are gone. 0 removes the TTL (keep forever).
 */
import type { ClickHouseStore } from './store.ts';

export async function applyRetention(store: ClickHouseStore, days: number): Promise<void> {
  if (!Number.isInteger(days) || days < 0) throw new Error('retention days must be a whole number ≥ 0');
  await store.command({
    name: 'retention.dropPartsSetting',
    sql: 'ALTER TABLE usage_logs MODIFY SETTING ttl_only_drop_parts = 1',
  });
  if (days === 0) {
    const [t] = await store.query<{ ttl: string }>({
      name: 'retention.current',
      sql: "SELECT engine_full AS ttl FROM system.tables WHERE database = currentDatabase() AND name = 'usage_logs'",
    });
    if (t && / TTL /.test(t.ttl)) await store.command({ name: 'retention.remove', sql: 'ALTER TABLE usage_logs REMOVE TTL' });
    return;
  }
  // `days` is a validated integer: DDL cannot take query parameters.
  await store.command({
    name: 'retention.set',
    sql: `ALTER TABLE usage_logs MODIFY TTL toDateTime(datetime) + INTERVAL ${days} DAY`,
  });
}
