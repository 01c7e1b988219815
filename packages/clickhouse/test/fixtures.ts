/**
 * Test fixture: a real embedded ClickHouse in a fresh temporary directory, migrated
 * once per test file (each file runs in its own process), reset cheaply per test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseStore, migrate, openEmbeddedStore } from '../src/index.ts';

export const MUTABLE_TABLES = [
  'usage_logs',
  'usage_daily_repo',
  'usage_daily_performer',
  'usage_daily_kind',
  'usage_daily_namespace',
  'users',
  'grants',
  'app_tokens',
  'app_token_access',
  'accounts',
  'poll_checkpoints',
  'import_checkpoints',
  'exports',
  'export_deliveries',
  'export_schedules',
  'export_schedule_runs',
];

export async function openTestStore(): Promise<{ store: ClickHouseStore; dir: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'quaylogs-test-'));
  const store = await openEmbeddedStore({ path: join(dir, 'clickhouse'), database: 'quaylogs' });
  await migrate(store);
  return {
    store,
    dir,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function resetStore(store: ClickHouseStore): Promise<void> {
  for (const t of MUTABLE_TABLES) await store.command({ name: 'test.truncate', sql: `TRUNCATE TABLE IF EXISTS ${t}` });
}
