/**
 * Retention: usage_logs rows older than N days are dropped by ClickHouse's TTL.
 * QUAYLOGS_RETENTION_DAYS is the default for every source; the QUAYLOGS_CONFIG file's
 * `retention_days` map overrides it per source (0 = keep that source forever). The daily
 * rollups are kept, so aggregates still answer for periods whose raw entries are gone.
 *
 * One TTL rule per distinct retention: `… + INTERVAL N DAY DELETE WHERE source IN (…)`, and
 * the default for every source not listed. With one rule for all sources whole parts are
 * dropped (`ttl_only_drop_parts`); rules per source delete rows in merges instead.
 */
import type { ClickHouseStore } from './store.ts';

/** Source names as the config accepts them; anything else never reaches DDL. */
const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export interface RetentionPolicy {
  /** Days for sources without an override (0 = keep forever). */
  defaultDays: number;
  /** source → days (0 = keep forever). */
  bySource: Record<string, number>;
}

/** Days a source's entries are kept, or null for forever. */
export function retentionFor(policy: RetentionPolicy, source: string): number | null {
  const days = policy.bySource[source] ?? policy.defaultDays;
  return days > 0 ? days : null;
}

function checkDays(days: number, what: string): void {
  if (!Number.isInteger(days) || days < 0) throw new Error(`retention days ${what} must be a whole number ≥ 0`);
}

/** The TTL clause for a policy, or null when nothing expires. Exported for tests and docs. */
export function retentionTtl(policy: RetentionPolicy): string | null {
  checkDays(policy.defaultDays, 'by default');
  const listed = Object.keys(policy.bySource).sort();
  for (const s of listed) {
    if (!SOURCE_NAME.test(s)) throw new Error(`retention: not a source name: ${JSON.stringify(s)}`);
    checkDays(policy.bySource[s]!, `of source ${s}`);
  }
  const quoted = (names: string[]) => names.map((n) => `'${n}'`).join(', ');
  if (listed.length === 0) {
    return policy.defaultDays > 0 ? `toDateTime(datetime) + INTERVAL ${policy.defaultDays} DAY` : null;
  }
  const byDays = new Map<number, string[]>();
  for (const s of listed) {
    const d = policy.bySource[s]!;
    if (d > 0) byDays.set(d, [...(byDays.get(d) ?? []), s]);
  }
  const rules = [...byDays.entries()].map(([d, names]) => `toDateTime(datetime) + INTERVAL ${d} DAY DELETE WHERE source IN (${quoted(names)})`);
  if (policy.defaultDays > 0) {
    rules.push(`toDateTime(datetime) + INTERVAL ${policy.defaultDays} DAY DELETE WHERE source NOT IN (${quoted(listed)})`);
  }
  return rules.length > 0 ? rules.join(', ') : null;
}

export async function applyRetention(store: ClickHouseStore, days: number, bySource: Record<string, number> = {}): Promise<void> {
  const ttl = retentionTtl({ defaultDays: days, bySource });
  // Whole-part drops only with one rule for every source: a part holds rows of several
  // sources, and with per-source rules rows must go one by one in merges, so a part's rows
  // of a source kept longer are never dropped with it.
  const perSource = ttl !== null && ttl.includes(' DELETE WHERE ');
  await store.command({
    name: 'retention.dropPartsSetting',
    sql: `ALTER TABLE usage_logs MODIFY SETTING ttl_only_drop_parts = ${perSource ? 0 : 1}`,
  });
  if (ttl === null) {
    const [t] = await store.query<{ ttl: string }>({
      name: 'retention.current',
      sql: "SELECT engine_full AS ttl FROM system.tables WHERE database = currentDatabase() AND name = 'usage_logs'",
    });
    if (t && / TTL /.test(t.ttl)) await store.command({ name: 'retention.remove', sql: 'ALTER TABLE usage_logs REMOVE TTL' });
    return;
  }
  // Validated integers and source names only: DDL cannot take query parameters.
  await store.command({ name: 'retention.set', sql: `ALTER TABLE usage_logs MODIFY TTL ${ttl}` });
}
