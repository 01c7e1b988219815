/**
 * One schema, two shapes: the migrations in infra/clickhouse/migrations/ are written once,
 * for a single node, and rendered here for a cluster.
 *
 * Single node: every statement as written.
 * Cluster (`ON CLUSTER <name>`, Keeper and the `{shard}`/`{replica}` macros configured):
 * - facts and rollups (SHARDED_TABLES) become `<table>_local`, a Replicated*MergeTree per
 *   shard (`/clickhouse/tables/{shard}/{database}/{table}`), plus `<table>`, a Distributed
 *   table over them, so every query and insert keeps its table name. Rows go to the shard
 *   of their tenant (source, namespace); the materialized views run on each shard from
 *   `usage_logs_local` into the rollups' local tables, so a rollup counts exactly what its
 *   shard stores, and reads sum over all shards;
 * - control-plane tables (users, tokens, exports, checkpoints…) are one replica set across
 *   every node (`/clickhouse/tables/all/…`, no shard macro): any node answers `FINAL` reads;
 * - `non_replicated_deduplication_window` becomes `replicated_deduplication_window`, so a
 *   retried insert with the same token is dropped on replicas as on a single node;
 * - TRUNCATE, ALTER, EXCHANGE and DROP go to the local tables on every node (DROP of a sharded
 *   table also drops its Distributed table); INSERT … SELECT (backfills, rebuilds) goes
 *   through the Distributed tables, so a rebuild's copy lands on the shard of its tenant.
 * A statement of a kind not handled here is refused, so a new migration cannot silently
 * miss its cluster shape.
 */
import type { Migration } from './migrate.ts';
import { StoreError } from './store.ts';

export type DdlTarget = { kind: 'single' } | { kind: 'cluster'; cluster: string };

/** Tables sharded by tenant, and their sharding keys. Everything else is replicated to every node. */
export const SHARDED_TABLES: Readonly<Record<string, string>> = {
  usage_logs: 'cityHash64(source, namespace)',
  usage_daily_repo: 'cityHash64(source, namespace)',
  usage_daily_performer: 'cityHash64(source, namespace)',
  usage_daily_namespace: 'cityHash64(source, namespace)',
  // Fed per shard by its view; reads sum over shards, so placement never changes an answer.
  usage_daily_kind: 'cityHash64(source)',
  // The copies a rebuild fills and swaps in (0010, 0011), sharded as the tables they replace.
  usage_logs_rebuild: 'cityHash64(source, namespace)',
  usage_daily_namespace_rebuild: 'cityHash64(source, namespace)',
};

/**
 * Tables a migration creates only to swap them in and drop them (see SHARDED_TABLES). The
 * swapped-in local table keeps the Keeper path it was created with (`…/<table>_rebuild_local`),
 * so a later rebuild of the same table must name its copy differently.
 */
export const REBUILD_TABLES: ReadonlySet<string> = new Set(['usage_logs_rebuild', 'usage_daily_namespace_rebuild']);

/**
 * Plain MergeTree tables that are not facts: a purge's work list (`purge_rows`, small and
 * emptied when the purge ends). Replicated to every node like the control plane.
 */
export const REPLICATED_WORK_TABLES: ReadonlySet<string> = new Set(['purge_rows']);

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const local = (table: string) => (table in SHARDED_TABLES ? `${table}_local` : table);

function replicatedEngine(engine: string, args: string | undefined, sharded: boolean): string {
  const path = sharded ? "'/clickhouse/tables/{shard}/{database}/{table}'" : "'/clickhouse/tables/all/{database}/{table}'";
  const rest = args && args.trim() ? `, ${args.trim()}` : '';
  return `ENGINE = Replicated${engine}(${path}, '{replica}'${rest})`;
}

function renderCreateTable(sql: string, name: string, cluster: string): string[] {
  const engine = /ENGINE\s*=\s*(\w*MergeTree)(?:\s*\(([^()]*)\))?/i.exec(sql);
  if (!engine) throw new StoreError(`cluster DDL: table ${name} has no MergeTree-family engine to replicate`);
  const sharded = name in SHARDED_TABLES;
  const target = local(name);
  const body = sql
    .replace(/^CREATE TABLE IF NOT EXISTS\s+\w+/i, `CREATE TABLE IF NOT EXISTS ${target} ON CLUSTER ${cluster}`)
    .replace(engine[0], replicatedEngine(engine[1]!, engine[2], sharded))
    .replace(/\bnon_replicated_deduplication_window\b/g, 'replicated_deduplication_window');
  if (!sharded) return [body];
  const distributed = `CREATE TABLE IF NOT EXISTS ${name} ON CLUSTER ${cluster} AS ${target}
ENGINE = Distributed('${cluster}', currentDatabase(), '${target}', ${SHARDED_TABLES[name]})`;
  return [body, distributed];
}

/** The statement(s) one migration statement becomes for the target. */
export function renderStatement(sql: string, target: DdlTarget): string[] {
  if (target.kind === 'single') return [sql];
  const cluster = target.cluster;
  if (!IDENT.test(cluster)) throw new StoreError(`invalid cluster name ${JSON.stringify(cluster)}`);
  const head = sql.trimStart();
  let m: RegExpExecArray | null;
  if ((m = /^CREATE TABLE IF NOT EXISTS\s+(\w+)\s*\(/i.exec(head))) return renderCreateTable(head, m[1]!, cluster);
  if ((m = /^CREATE MATERIALIZED VIEW IF NOT EXISTS\s+(\w+)\s+TO\s+(\w+)\s+AS\s+([\s\S]*)$/i.exec(head))) {
    const select = m[3]!.replace(/\bFROM\s+(\w+)/gi, (_all, t: string) => `FROM ${local(t)}`);
    return [`CREATE MATERIALIZED VIEW IF NOT EXISTS ${m[1]} ON CLUSTER ${cluster} TO ${local(m[2]!)} AS ${select}`];
  }
  if ((m = /^TRUNCATE TABLE\s+(?:IF EXISTS\s+)?(\w+)\s*$/i.exec(head))) return [`TRUNCATE TABLE IF EXISTS ${local(m[1]!)} ON CLUSTER ${cluster}`];
  if ((m = /^ALTER TABLE\s+(\w+)\s+([\s\S]*)$/i.exec(head))) return [`ALTER TABLE ${local(m[1]!)} ON CLUSTER ${cluster} ${m[2]}`];
  if ((m = /^EXCHANGE TABLES\s+(\w+)\s+AND\s+(\w+)\s*$/i.exec(head))) {
    // The Distributed tables name their local tables, so they follow the swap.
    return [`EXCHANGE TABLES ${local(m[1]!)} AND ${local(m[2]!)} ON CLUSTER ${cluster}`];
  }
  if ((m = /^DROP TABLE IF EXISTS\s+(\w+)(\s+SYNC)?\s*$/i.exec(head))) {
    const sync = m[2] ? ' SYNC' : '';
    const drop = (t: string) => `DROP TABLE IF EXISTS ${t} ON CLUSTER ${cluster}${sync}`;
    return m[1]! in SHARDED_TABLES ? [drop(m[1]!), drop(local(m[1]!))] : [drop(m[1]!)];
  }
  if (/^INSERT INTO\s+\w+\s+(?:\([^)]*\)\s*)?(?:SETTINGS\s+[\w\s=,]+?\s+)?SELECT\b/i.test(head)) return [head];
  throw new StoreError(`cluster DDL: no cluster shape for this statement: ${head.slice(0, 80)}`);
}

/** Every migration with its statements rendered for the target (checksums stay the source's). */
export function renderMigrations(migrations: readonly Migration[], target: DdlTarget): Migration[] {
  return migrations.map((m) => ({ ...m, statements: m.statements.flatMap((s) => renderStatement(s, target)) }));
}

/**
 * The runner's own record (`schema_migrations`, as migrate.ts creates it), so a script of
 * rendered migrations applied by hand also records them: `quaylogs migrate` then finds them
 * applied instead of running the single-node statements again (0008's backfill would count
 * twice). A test keeps these columns equal to the table the runner creates.
 */
export const SCHEMA_MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations
(version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
ENGINE = ReplacingMergeTree ORDER BY version`;

/** `schema_migrations` (rendered for the target) and one INSERT recording every migration. */
export function renderMigrationRecords(migrations: readonly Migration[], target: DdlTarget): string[] {
  const rows = migrations.map((m) => {
    if (!/^\d{4}_[a-z0-9_]+$/.test(m.name) || !/^[0-9a-f]{64}$/.test(m.checksum)) throw new StoreError(`unexpected migration record ${m.name}`);
    return `(${m.version}, '${m.name}', '${m.checksum}')`;
  });
  return [...renderStatement(SCHEMA_MIGRATIONS_DDL, target), `INSERT INTO schema_migrations (version, name, checksum) VALUES ${rows.join(', ')}`];
}
