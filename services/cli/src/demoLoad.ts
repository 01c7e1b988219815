/**
 * Fills the store with generated demo logs (the same generator the benchmark
 * suite uses), streaming JSONEachRow batches so memory stays flat.
 */
import { type ClickHouseStore, countUsageLogs, insertPayload, upsertAccounts, USAGE_LOG_COLUMNS } from '@quaylogs/clickhouse';
import { demoRows, demoWorld, type DemoOptions } from '@quaylogs/demo';

export async function loadDemo(
  store: ClickHouseStore,
  opts: DemoOptions,
  onProgress?: (rows: number) => void,
): Promise<{ rows: number; accounts: number }> {
  const world = demoWorld(opts);
  await upsertAccounts(store, opts.source ?? 'demo', world.accounts);
  async function* lines() {
    for (const batch of demoRows(opts, 20_000)) {
      yield insertPayload(batch, USAGE_LOG_COLUMNS);
    }
  }
  const res = await store.insertStream({
    table: 'usage_logs',
    source: lines(),
    columns: USAGE_LOG_COLUMNS,
    batchBytes: 32 * 1024 * 1024,
    onProgress: (p) => onProgress?.(p.rows),
  });
  return { rows: res.rows, accounts: world.accounts.length };
}

/** True when the store holds no usage logs yet (demo data only fills an empty store). */
export async function storeIsEmpty(store: ClickHouseStore): Promise<boolean> {
  return (await countUsageLogs(store)) === 0;
}
