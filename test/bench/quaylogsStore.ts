/**
 * The quaylogs side's store: the embedded ClickHouse engine in a scratch
 * directory, migrated with quaylogs' own migrations; helpers to let background
 * merges settle, to read storage sizes, and to profile the statements a
 * quaylogs function issues (rows and bytes the engine read, index use).
 */
import { join } from 'node:path';
import { type ClickHouseStore, migrate, openEmbeddedStore, type QuerySpec, selectSql } from '@quaylogs/clickhouse';

export const CH_DATABASE = 'quaylogs';
export const USAGE_TABLES = ['usage_logs', 'usage_daily_repo', 'usage_daily_performer', 'usage_daily_kind'] as const;

export async function openBenchStore(scratch: string): Promise<{ store: ClickHouseStore; path: string }> {
  const path = join(scratch, 'clickhouse');
  const store = await openEmbeddedStore({ path, database: CH_DATABASE, readers: 2 });
  await migrate(store);
  return { store, path };
}

/** Opens an already migrated bench store again (after another process used its directory). */
export async function reopenBenchStore(path: string): Promise<ClickHouseStore> {
  return openEmbeddedStore({ path, database: CH_DATABASE, readers: 2 });
}

export async function engineVersion(store: ClickHouseStore): Promise<string> {
  const [r] = await store.query<{ v: string }>({ name: 'bench.version', sql: 'SELECT version() AS v' });
  return r?.v ?? 'unknown';
}

/** Waits until no merge runs in the database (or the deadline passes). Returns parts left and seconds waited. */
export async function settleMerges(store: ClickHouseStore, maxSeconds: number): Promise<{ seconds: number; parts: number; settled: boolean }> {
  const t0 = performance.now();
  let quiet = 0;
  for (;;) {
    const [m] = await store.query<{ n: string }>({
      name: 'bench.merges',
      sql: 'SELECT count() AS n FROM system.merges WHERE database = currentDatabase()',
    });
    quiet = Number(m?.n ?? 0) === 0 ? quiet + 1 : 0;
    const waited = (performance.now() - t0) / 1000;
    if (quiet >= 3 || waited >= maxSeconds) {
      const [p] = await store.query<{ n: string }>({
        name: 'bench.parts',
        sql: "SELECT count() AS n FROM system.parts WHERE database = currentDatabase() AND table = 'usage_logs' AND active",
      });
      return { seconds: waited, parts: Number(p?.n ?? 0), settled: quiet >= 3 };
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface TableSize {
  table: string;
  rows: number;
  bytesOnDisk: number;
  parts: number;
}

export async function tableSizes(store: ClickHouseStore): Promise<TableSize[]> {
  const rows = await store.query<{ table: string; rows: string; bytes: string; parts: string }>({
    name: 'bench.sizes',
    sql: `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes, count() AS parts
          FROM system.parts WHERE database = currentDatabase() AND active AND table IN {tables:Array(String)}
          GROUP BY table ORDER BY table`,
    params: { tables: [...USAGE_TABLES] },
  });
  return rows.map((r) => ({ table: r.table, rows: Number(r.rows), bytesOnDisk: Number(r.bytes), parts: Number(r.parts) }));
}

/**
 * A store that records every read statement passed through it, so a figure can
 * profile exactly what a quaylogs function issued.
 */
export function recordingStore(store: ClickHouseStore): { store: ClickHouseStore; specs: QuerySpec[] } {
  const specs: QuerySpec[] = [];
  const wrapped: ClickHouseStore = {
    ...store,
    backend: store.backend,
    database: store.database,
    query: (spec) => {
      specs.push(spec);
      return store.query(spec);
    },
    stream: (spec) => {
      specs.push(spec);
      return store.stream(spec);
    },
    queryRaw: (spec) => {
      specs.push(spec);
      return store.queryRaw(spec);
    },
  };
  return { store: wrapped, specs };
}

type ChdbSession = { queryBindAsync(q: string, p: object, o?: { format?: string }): Promise<{ elapsed: number; text(): string }>; queryAsync(q: string, o?: { format?: string }): Promise<{ text(): string }>; close(): void };

/**
 * Replays recorded statements on a separate chDB session over the same data and
 * reports, per statement, the rows and bytes the engine read and the index
 * analysis (`EXPLAIN indexes = 1`, parts and granules kept per index).
 */
export async function profileStatements(storePath: string, specs: readonly QuerySpec[]): Promise<string[]> {
  const chdb = (await import('chdb')) as unknown as { Session: new (path: string) => ChdbSession };
  const session = new chdb.Session(storePath);
  const out: string[] = [];
  try {
    await session.queryAsync(`USE ${CH_DATABASE}`);
    for (const spec of specs) {
      const sql = selectSql(spec);
      const r = await session.queryBindAsync(sql, spec.params ?? {}, { format: 'JSON' });
      const stats = (JSON.parse(r.text()) as { statistics?: { rows_read?: number; bytes_read?: number; elapsed?: number } }).statistics ?? {};
      out.push(
        `${spec.name}: read ${(stats.rows_read ?? 0).toLocaleString('en-US')} rows, ${((stats.bytes_read ?? 0) / 1e6).toFixed(1)} MB, ` +
          `engine ${((stats.elapsed ?? r.elapsed) * 1000).toFixed(1)} ms`,
      );
      try {
        const plan = await session.queryBindAsync(`EXPLAIN indexes = 1 ${spec.sql}`, spec.params ?? {}, { format: 'TSVRaw' });
        const lines = plan.text().split('\n').map((l) => l.trimEnd()).filter((l) => /Parts:|Granules:|Type:|Keys:|Condition:|ReadFromMergeTree|Name:/.test(l));
        for (const l of lines) out.push(`  ${l.trim()}`);
      } catch (err) {
        out.push(`  (EXPLAIN failed: ${(err as Error).message.split('\n')[0]})`);
      }
    }
  } finally {
    session.close();
  }
  return out;
}
