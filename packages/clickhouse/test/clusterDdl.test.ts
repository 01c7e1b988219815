/**
 * The migrations render a single-node and a cluster variant from one source. The
 * single-node variant is what `migrate` applies (for real, here); every cluster statement
 * is parsed by the engine itself (formatQuery), and the cluster variant's CREATE statements
 * are executed by the engine on a one-node cluster with an in-memory test Keeper (without
 * their ON CLUSTER clause, which needs a server's distributed DDL queue). No real cluster
 * runs here.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseStore, loadMigrations, migrate } from '../src/index.ts';
import { REBUILD_TABLES, renderMigrationRecords, renderMigrations, renderStatement, REPLICATED_WORK_TABLES, SCHEMA_MIGRATIONS_DDL, SHARDED_TABLES } from '../src/clusterDdl.ts';
import { openTestStore, TEST_BACKEND } from '@quaylogs/testing';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterAll(async () => cleanup());

const CLUSTER = { kind: 'cluster', cluster: 'quaylogs' } as const;
const migrations = loadMigrations();
const source = migrations.flatMap((m) => m.statements);
const cluster = renderMigrations(migrations, CLUSTER).flatMap((m) => m.statements);
/** Statements quaylogs runs outside the migration files: the runner's record and retention. */
const RUNTIME = [
  `CREATE TABLE IF NOT EXISTS schema_migrations
          (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
          ENGINE = ReplacingMergeTree ORDER BY version`,
  'ALTER TABLE usage_logs MODIFY SETTING ttl_only_drop_parts = 1',
  'ALTER TABLE usage_logs MODIFY TTL toDateTime(datetime) + INTERVAL 30 DAY',
  'ALTER TABLE usage_logs REMOVE TTL',
];

async function format(sql: string): Promise<string> {
  const [r] = await store.query<{ f: string }>({ name: 'test.formatQuery', sql: 'SELECT formatQuery({q:String}) AS f', params: { q: sql } });
  return r!.f;
}

const created = (stmts: string[]) =>
  stmts.flatMap((s) => {
    const m = /^CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS\s+(\w+)/i.exec(s);
    return m ? [m[1]!] : [];
  });

describe('cluster DDL from one source', () => {
  it('the single-node variant is the migrations as written, and migrate applied it for real', async () => {
    expect(renderMigrations(migrations, { kind: 'single' })).toEqual(migrations);
    const tables = await store.query<{ name: string }>({ name: 'test.tables', sql: 'SELECT name FROM system.tables WHERE database = currentDatabase()' });
    const names = new Set(tables.map((t) => t.name));
    for (const t of created(source)) {
      if (REBUILD_TABLES.has(t)) expect(names, t).not.toContain(t);
      else expect(names, t).toContain(t);
    }
  });

  it.each([...cluster, ...RUNTIME.flatMap((s) => renderStatement(s, CLUSTER))].map((s) => [s.split('\n')[0]!.slice(0, 90), s]))(
    'the engine parses the cluster statement %s',
    async (_head, sql) => {
      const formatted = await format(sql);
      if (!/^INSERT/i.test(sql)) expect(formatted).toContain('ON CLUSTER quaylogs');
    },
  );

  it('facts and rollups are sharded: a Replicated local table per shard and a Distributed table under the original name', () => {
    const sharded = Object.keys(SHARDED_TABLES);
    for (const t of sharded) {
      if (REBUILD_TABLES.has(t)) continue;
      const localDdl = cluster.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${t}_local ON CLUSTER quaylogs`));
      expect(localDdl, t).toMatch(/ENGINE = Replicated(Summing)?MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'/);
      expect(localDdl).not.toContain('non_replicated_deduplication_window');
      expect(localDdl).toContain('replicated_deduplication_window = 10000');
      const dist = cluster.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${t} ON CLUSTER quaylogs AS ${t}_local`));
      expect(dist, t).toContain(`ENGINE = Distributed('quaylogs', currentDatabase(), '${t}_local', ${SHARDED_TABLES[t]})`);
    }
    // Views run on each shard, from its usage_logs_local into its rollups' local tables.
    const views = cluster.filter((s) => s.startsWith('CREATE MATERIALIZED VIEW'));
    expect(views.length).toBe(4);
    for (const v of views) expect(v).toMatch(/ TO usage_daily_\w+_local AS [\s\S]*FROM usage_logs_local\b/);
    // The backfill truncates every shard's local rollup and refills it through the Distributed tables.
    expect(cluster).toContain('TRUNCATE TABLE IF EXISTS usage_daily_namespace_local ON CLUSTER quaylogs');
    expect(cluster.find((s) => s.startsWith('INSERT INTO usage_daily_namespace'))).toMatch(/FROM usage_logs\b/);
  });

  it('a rebuild copies through the Distributed tables in the foreground, swaps the local tables and drops both copies', () => {
    for (const [t, rebuild] of [
      ['usage_logs', 'usage_logs_rebuild'],
      ['usage_daily_namespace', 'usage_daily_namespace_rebuild'],
    ] as const) {
      expect(cluster.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${rebuild}_local ON CLUSTER quaylogs`)), t).toMatch(/ReplicatedSumming|ReplicatedMergeTree/);
      const copy = cluster.find((s) => s.startsWith(`INSERT INTO ${rebuild} `));
      expect(copy, t).toContain('distributed_foreground_insert = 1');
      expect(copy, t).toMatch(new RegExp(`FROM ${t}\\b`));
      expect(cluster, t).toContain(`EXCHANGE TABLES ${t}_local AND ${rebuild}_local ON CLUSTER quaylogs`);
      expect(cluster, t).toContain(`DROP TABLE IF EXISTS ${rebuild} ON CLUSTER quaylogs SYNC`);
      expect(cluster, t).toContain(`DROP TABLE IF EXISTS ${rebuild}_local ON CLUSTER quaylogs SYNC`);
      // The original table is never dropped.
      expect(cluster.some((s) => s.startsWith(`DROP TABLE IF EXISTS ${t} `) || s.startsWith(`DROP TABLE IF EXISTS ${t}_local `)), t).toBe(false);
    }
  });

  it('control-plane tables are one replica set across every node, with their version columns kept', () => {
    const users = cluster.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS users ON CLUSTER quaylogs'));
    expect(users).toContain("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}', version, is_deleted)");
    for (const s of cluster.filter((x) => /ReplacingMergeTree/.test(x))) expect(s).not.toContain('{shard}');
    const [record] = renderStatement(RUNTIME[0]!, CLUSTER);
    expect(record).toContain("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}')");
  });

  it('every fact or rollup table is sharded, and every sharded table exists (a new table must choose)', () => {
    const factTables = source
      .filter((s) => /ENGINE\s*=\s*(Summing|Aggregating)?MergeTree\b/.test(s))
      .flatMap((s) => created([s]))
      .filter((t) => !REPLICATED_WORK_TABLES.has(t));
    expect(factTables.sort()).toEqual(Object.keys(SHARDED_TABLES).sort());
  });

  // The engine runs in-process either way; once is enough.
  it.skipIf(TEST_BACKEND === 'server')('the engine executes the cluster variant on a one-node cluster with a test Keeper: Replicated, Distributed and views', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'clusterDdlChild.ts')], { encoding: 'utf8', timeout: 120_000 });
    // It reports, then ends itself with SIGKILL (the engine's exit waits on the test Keeper).
    expect(child.signal, child.stderr).toBe('SIGKILL');
    const report = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
      dir: string;
      ran: string[];
      skipped: { statement: string }[];
      tables: { name: string; engine: string; engine_full: string }[];
      reads: Record<string, string>;
    };
    rmSync(report.dir, { recursive: true, force: true });
    // Everything but the writes (0008's backfill, the rebuilds' copies) was executed.
    expect(report.skipped.map((x) => x.statement.split(' ')[0])).toEqual(['TRUNCATE', 'INSERT', 'INSERT', 'INSERT']);
    expect(report.ran.length + report.skipped.length).toBe(cluster.length);
    const engines = Object.fromEntries(report.tables.map((t) => [t.name, t]));
    for (const t of REBUILD_TABLES) {
      expect(engines[t], t).toBeUndefined();
      expect(engines[`${t}_local`], t).toBeUndefined();
    }
    // The rebuilt tables are in place, in their new order, under their Keeper path as copies.
    expect(engines.usage_logs_local?.engine_full).toContain('ORDER BY (namespace, datetime, event_key)');
    expect(engines.usage_daily_namespace_local?.engine_full).toContain('ORDER BY (namespace, day, kind, source)');
    for (const t of Object.keys(SHARDED_TABLES)) {
      if (REBUILD_TABLES.has(t)) continue;
      const zkName = `${t}_rebuild` in SHARDED_TABLES ? `${t}_rebuild_local` : `${t}_local`;
      expect(engines[`${t}_local`]?.engine, t).toMatch(/^Replicated(Summing)?MergeTree$/);
      expect(engines[`${t}_local`]?.engine_full, t).toContain(`'/clickhouse/tables/{shard}/quaylogs/${zkName}', '{replica}'`);
      expect(engines[t]?.engine, t).toBe('Distributed');
      expect(report.reads[t], t).toBe('0');
    }
    for (const t of ['users', 'grants', 'app_tokens', 'exports', 'export_deliveries', 'poll_checkpoints', 'import_checkpoints']) {
      expect(engines[t]?.engine, t).toBe('ReplicatedReplacingMergeTree');
    }
    expect(report.tables.filter((t) => t.engine === 'MaterializedView')).toHaveLength(4);
  });

  it('a script applied by hand records its migrations the way the runner does, so migrate applies nothing again', async () => {
    // The record table the script creates has the columns of the table the runner created.
    const columns = (t: string) =>
      store.query<{ name: string; type: string; default_expression: string }>({
        name: 'test.columns',
        sql: 'SELECT name, type, default_expression FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position',
        params: { t },
      });
    await store.command({ name: 'test.probe', sql: SCHEMA_MIGRATIONS_DDL.replace('schema_migrations', 'schema_migrations_probe') });
    expect(await columns('schema_migrations_probe')).toEqual(await columns('schema_migrations'));
    await store.command({ name: 'test.dropProbe', sql: 'DROP TABLE schema_migrations_probe' });
    const [create, insert] = renderMigrationRecords(migrations, CLUSTER);
    expect(create).toContain("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}')");
    await format(create!);
    // The record INSERT, run here, leaves the runner nothing to do.
    await store.command({ name: 'test.forgetAll', sql: 'TRUNCATE TABLE schema_migrations' });
    await store.command({ name: 'test.record', sql: renderMigrationRecords(migrations, { kind: 'single' })[1]! });
    expect(insert).toBe(renderMigrationRecords(migrations, { kind: 'single' })[1]);
    const again = await migrate(store);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toEqual(migrations.map((m) => m.name));
  });

  it('refuses a statement it has no cluster shape for, instead of running it on one node', () => {
    expect(() => renderStatement('DROP TABLE usage_logs', CLUSTER)).toThrow(/no cluster shape/);
    expect(() => renderStatement('CREATE TABLE IF NOT EXISTS m (x UInt8) ENGINE = Memory', CLUSTER)).toThrow(/no MergeTree-family engine/);
    expect(() => renderStatement('SELECT 1', { kind: 'cluster', cluster: 'a; DROP' })).toThrow(/invalid cluster name/);
  });
});
