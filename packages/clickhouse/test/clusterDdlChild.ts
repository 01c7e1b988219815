/**
 * Child process of clusterDdl.test.ts: executes the cluster variant of the schema in the
 * real engine with a one-node cluster (`remote_servers`, the `{shard}`/`{replica}` macros)
 * and ClickHouse's in-memory test Keeper — a configuration only a fresh process can take
 * (chDB binds one data directory, with its configuration, per process).
 *
 * What the engine cannot do here is skipped and reported: `ON CLUSTER` (no distributed
 * DDL queue outside a server; each statement runs on this one node without the clause),
 * and INSERT into Replicated tables (it waits on replication machinery a server runs).
 * Prints one JSON line: the statements run, those skipped, and the tables as the engine
 * describes them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';
import { loadMigrations, renderMigrations } from '../src/index.ts';

const CLUSTER = 'quaylogs';
const dir = mkdtempSync(join(tmpdir(), 'quaylogs-cluster-ddl-'));
const config = join(dir, 'cluster.xml');
writeFileSync(
  config,
  `<clickhouse>
  <tcp_port>9000</tcp_port>
  <zookeeper><implementation>testkeeper</implementation></zookeeper>
  <macros><cluster>${CLUSTER}</cluster><shard>01</shard><replica>replica-1</replica></macros>
  <remote_servers><${CLUSTER}><shard><internal_replication>true</internal_replication>
    <replica><host>127.0.0.1</host><port>9000</port></replica></shard></${CLUSTER}></remote_servers>
</clickhouse>`,
);
const session = new Session(join(dir, 'data'), { connectionArgs: [`--config-file=${config}`] });
await session.queryAsync('CREATE DATABASE IF NOT EXISTS quaylogs', { format: 'TabSeparated' });
await session.queryAsync('USE quaylogs', { format: 'TabSeparated' });

const ran: string[] = [];
const skipped: { statement: string; why: string }[] = [];
const statements = renderMigrations(loadMigrations(), { kind: 'cluster', cluster: CLUSTER }).flatMap((m) => m.statements);
for (const statement of statements) {
  const head = statement.split('\n')[0]!.slice(0, 100);
  if (/^INSERT\b/i.test(statement) || /^TRUNCATE\b/i.test(statement)) {
    skipped.push({ statement: head, why: 'writes to Replicated tables wait on replication machinery the embedded engine does not run' });
    continue;
  }
  await session.queryAsync(statement.replace(` ON CLUSTER ${CLUSTER}`, ''), { format: 'TabSeparated' });
  ran.push(head);
}
const tables = (
  await session.queryAsync(
    "SELECT name, engine, engine_full FROM system.tables WHERE database = 'quaylogs' ORDER BY name",
    { format: 'JSONEachRow' },
  )
)
  .text()
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { name: string; engine: string; engine_full: string });
// Reads through every Distributed table reach the local tables (this node is the one replica).
const reads: Record<string, string> = {};
for (const t of tables.filter((x) => x.engine === 'Distributed')) {
  reads[t.name] = (await session.queryAsync(`SELECT count() FROM ${t.name}`, { format: 'TabSeparated' })).text().trim();
}
// The engine's exit waits on the Replicated tables' background work against the test
// Keeper and never ends; the report is out, so the child ends itself.
process.stdout.write(`${JSON.stringify({ dir, ran, skipped, tables, reads })}\n`, () => process.kill(process.pid, 'SIGKILL'));
