/**
 * Test fixture: a real embedded ClickHouse in a fresh temporary directory, migrated
 * once per test file (each file runs in its own process), reset cheaply per test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseStore, migrate, openEmbeddedStore, openServerStore } from '../src/index.ts';

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

/**
 * Which backend the store-level tests run on: `embedded` (default), or `server` — the
 * server backend (@clickhouse/client over HTTP) against the server lane, the real engine
 * in a separate process (QUAYLOGS_TEST_BACKEND=server, the `server-lane` vitest project).
 */
export const TEST_BACKEND: 'embedded' | 'server' = process.env.QUAYLOGS_TEST_BACKEND === 'server' ? 'server' : 'embedded';

export async function openTestStore(): Promise<{ store: ClickHouseStore; dir: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'quaylogs-test-'));
  if (TEST_BACKEND === 'server') {
    const { startServerLane } = await import('../../../test/server-lane/serverLane.ts');
    const lane = await startServerLane();
    const store = await openServerStore({ url: lane.clickhouseUrl, database: 'quaylogs' });
    await migrate(store);
    return {
      store,
      dir,
      cleanup: async () => {
        await store.close();
        await lane.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
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
