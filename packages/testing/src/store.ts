/**
 * Store fixtures: a real ClickHouse in a fresh temporary directory, migrated once per test
 * file (each file runs in its own process), reset cheaply per test. The backend is the
 * embedded engine unless QUAYLOGS_TEST_BACKEND=server (the `server-lane` vitest project):
 * then the server backend (@clickhouse/client over HTTP) against the server lane.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseStore, migrate, openEmbeddedStore, openServerStore } from '@quaylogs/clickhouse';
import { startServerLane } from './serverLane.ts';

/** Which backend the store-level tests run on. */
export const TEST_BACKEND: 'embedded' | 'server' = process.env.QUAYLOGS_TEST_BACKEND === 'server' ? 'server' : 'embedded';

export interface TestStore {
  store: ClickHouseStore;
  /** The test's data directory (the embedded engine lives in its `clickhouse/`). */
  dir: string;
  cleanup(): Promise<void>;
}

/** A fresh store, migrated, in a new temporary directory. */
export async function openTestStore(): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'quaylogs-test-'));
  const lane = TEST_BACKEND === 'server' ? await startServerLane() : null;
  const store = lane
    ? await openServerStore({ url: lane.clickhouseUrl, database: 'quaylogs' })
    : await openEmbeddedStore({ path: join(dir, 'clickhouse'), database: 'quaylogs' });
  await migrate(store);
  return {
    store,
    dir,
    cleanup: async () => {
      await store.close();
      await lane?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The tables a reset empties, read from the engine: every table of the store's database
 * except the migration ledger and the views (a materialized view writes into a table that
 * is itself on the list). A table a migration adds is reset without anyone listing it.
 */
export async function dataTables(store: ClickHouseStore): Promise<string[]> {
  const rows = await store.query<{ name: string }>({
    name: 'test.dataTables',
    sql: `SELECT name FROM system.tables
          WHERE database = currentDatabase() AND name != {ledger:String} AND engine NOT IN ({views:Array(String)})
          ORDER BY name`,
    params: { ledger: 'schema_migrations', views: ['View', 'MaterializedView', 'LiveView', 'WindowView'] },
  });
  return rows.map((r) => r.name);
}

/** Empties every data table (see dataTables); the schema and its ledger stay. */
export async function resetStore(store: ClickHouseStore): Promise<void> {
  for (const table of await dataTables(store)) {
    await store.command({ name: 'test.truncate', sql: 'TRUNCATE TABLE {table:Identifier}', params: { table } });
  }
}
