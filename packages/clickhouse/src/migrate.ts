/**
 * Migration runner over infra/clickhouse/migrations/NNNN_verb_object.sql.
 * Files apply in numeric order; each applied file is recorded in
 * `schema_migrations` with its checksum. Every statement is idempotent, so a
 * crash between a statement and its record is safe to re-run.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClickHouseStore, StoreError } from './store.ts';

export const DEFAULT_MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../infra/clickhouse/migrations');

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

/** Splits a migration file into statements: `;` at the end of a line ends one. Comments are dropped. */
export function splitStatements(sql: string): string[] {
  const lines = sql.split('\n').filter((l) => !/^\s*--/.test(l));
  return lines
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function loadMigrations(dir = DEFAULT_MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f));
  const migrations = files.map((file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    return {
      version: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ''),
      checksum: createHash('sha256').update(text).digest('hex'),
      statements: splitStatements(text),
    };
  });
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new StoreError(`two migrations share version ${migrations[i]!.version}: ${migrations[i - 1]!.name}, ${migrations[i]!.name}`);
    }
  }
  return migrations;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

export async function migrate(
  store: ClickHouseStore,
  opts: { dir?: string; log?: (line: string) => void } = {},
): Promise<MigrateResult> {
  await store.command({
    name: 'migrations.createTable',
    sql: `CREATE TABLE IF NOT EXISTS schema_migrations
          (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
          ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const done = await store.query<{ version: number; name: string; checksum: string }>({
    name: 'migrations.applied',
    sql: 'SELECT version, name, checksum FROM schema_migrations FINAL ORDER BY version',
  });
  const byVersion = new Map(done.map((d) => [Number(d.version), d]));
  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  for (const m of loadMigrations(opts.dir)) {
    const prior = byVersion.get(m.version);
    if (prior) {
      if (prior.checksum !== m.checksum) {
        opts.log?.(`warning: migration ${m.name} changed after it was applied (checksum differs); it is not re-run`);
      }
      result.alreadyApplied.push(m.name);
      continue;
    }
    for (const statement of m.statements) {
      await store.command({ name: `migrations.${m.name}`, sql: statement });
    }
    await store.insert({ table: 'schema_migrations', rows: [{ version: m.version, name: m.name, checksum: m.checksum }] });
    opts.log?.(`applied ${m.name}`);
    result.applied.push(m.name);
  }
  return result;
}
