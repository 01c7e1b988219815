/**
 * The PostgreSQL side's database: created fresh per run as `quaylogs_bench`
 * with Quay's schema (test/fixtures/quay-schema.sql), dropped at the end.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const BENCH_DB = 'quaylogs_bench';
export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const QUAY_SCHEMA_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/quay-schema.sql');

const TIMESTAMP_OID = 1114;
const DATE_OID = 1082;
const INT8_OID = 20;

/**
 * Quay stores naive UTC timestamps (`timestamp without time zone`). They are
 * read back as text (dates too) so the process time zone never shifts them, and bigint
 * counts as numbers (a count never passes 2^53 here).
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMP_OID || oid === DATE_OID) return (v: string) => v;
    if (oid === INT8_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, types, application_name: 'quaylogs-bench' });
  // A connection the server ends (e.g. the bench's own DROP DATABASE … WITH (FORCE) on
  // Ctrl-C) must not crash the process; query errors still reject their promises.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function checkName(database: string): string {
  if (!DB_NAME.test(database)) throw new Error(`invalid PostgreSQL database name ${JSON.stringify(database)}`);
  return database;
}

/** Drops any leftover bench database, creates it empty and applies Quay's schema. */
export async function createBenchDatabase(serverUrl: string, database = BENCH_DB): Promise<pg.Client> {
  checkName(database);
  const admin = await connect(serverUrl);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const client = await connect(withDatabase(serverUrl, database));
  await client.query(readFileSync(QUAY_SCHEMA_FILE, 'utf8'));
  return client;
}

export async function dropBenchDatabase(serverUrl: string, database = BENCH_DB): Promise<void> {
  checkName(database);
  const admin = await connect(serverUrl);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export async function serverVersion(client: pg.Client): Promise<string> {
  const r = await client.query<{ server_version: string }>('SHOW server_version');
  return r.rows[0]?.server_version ?? 'unknown';
}

/** The settings that decide PostgreSQL's speed here, recorded with the results. */
export async function serverSettings(client: pg.Client): Promise<Record<string, string>> {
  const names = ['shared_buffers', 'work_mem', 'effective_cache_size', 'max_parallel_workers_per_gather', 'jit', 'random_page_cost'];
  const r = await client.query<{ name: string; setting: string; unit: string | null }>(
    'SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)',
    [names],
  );
  const out: Record<string, string> = {};
  for (const row of r.rows) out[row.name] = row.unit ? `${row.setting} ${row.unit}` : row.setting;
  return out;
}

/** EXPLAIN (ANALYZE, BUFFERS) of a query, as plan lines. */
export async function explainAnalyze(client: pg.Client, sql: string, params: unknown[]): Promise<string[]> {
  const r = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
  return r.rows.map((row) => row['QUERY PLAN']);
}
