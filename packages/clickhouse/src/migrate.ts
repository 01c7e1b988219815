/**
 * Migration runner over infra/clickhouse/migrations/NNNN_verb_object.sql.
 * Files apply in numeric order; each applied file is recorded in
 * `schema_migrations` with its checksum. Every statement is idempotent, so a
 * crash between a statement and its record is safe to re-run.
 *
 * Several processes may start together (split mode): with a `lock` (a lease that expires
 * if its holder dies) one of them applies what is pending while the others wait, then
 * find nothing left to do, so each migration is applied exactly once. A holder that lost
 * its lease stops before its next statement. A migration marked `-- quaylogs:quiesce-writers`
 * (a backfill of a rollup the loader's inserts also feed) runs with every writer paused
 * between batches, so no row is counted by both the backfill and a materialized view.
 * A schema holding migrations newer than this quaylogs knows is refused, never changed.
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
  /** The file's text (markers such as `-- quaylogs:quiesce-writers` live in comments). */
  text: string;
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
      // Marker lines are not part of the checksum: marking a migration applied long ago
      // must not make every start warn that it changed.
      checksum: createHash('sha256').update(text.replace(/^--\s*quaylogs:[^\n]*\n/gm, '')).digest('hex'),
      statements: splitStatements(text),
      text,
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

/** The schema holds a migration this quaylogs does not know: a newer quaylogs migrated it. */
export class SchemaNewerError extends StoreError {
  override name = 'SchemaNewerError';
}

/**
 * Exclusive right to change the schema, held across processes (split mode: a Redis lease
 * that expires if its holder dies). `assertHeld` throws once the lease is lost, so a
 * holder that stalled past its expiry stops before its next statement.
 */
export interface MigrationLock {
  acquire(): Promise<{ assertHeld(): Promise<void>; release(): Promise<void> }>;
}

export interface MigrateOptions {
  dir?: string;
  log?: (line: string) => void;
  /** Required whenever several processes may migrate at once; the embedded store needs none. */
  lock?: MigrationLock;
  /**
   * Called before a migration marked `-- quaylogs:quiesce-writers` (a backfill that must not
   * race writers): pauses every writer until the returned function is called.
   */
  quiesceWriters?: (migration: string) => Promise<() => Promise<void>>;
}

/** Marks a migration that reads usage_logs to fill something the writers also fill. */
export const QUIESCE_MARKER = /^--\s*quaylogs:quiesce-writers\b/m;

export interface SchemaState {
  /** Known migrations not applied yet. */
  pending: Migration[];
  /** Applied versions this quaylogs has no file for, newer than its newest. */
  newer: { version: number; name: string }[];
  applied: Map<number, { version: number; name: string; checksum: string }>;
}

async function readApplied(store: ClickHouseStore): Promise<SchemaState['applied']> {
  try {
    const done = await store.query<{ version: number; name: string; checksum: string }>({
      name: 'migrations.applied',
      sql: 'SELECT version, any(name) AS name, any(checksum) AS checksum FROM schema_migrations GROUP BY version ORDER BY version',
    });
    return new Map(done.map((d) => [Number(d.version), { ...d, version: Number(d.version) }]));
  } catch (err) {
    const e = err as { message?: string; type?: string };
    if (e.type === 'UNKNOWN_TABLE' || /UNKNOWN_TABLE|Unknown table|doesn't exist|does not exist/i.test(String(e.message))) return new Map();
    throw err;
  }
}

/** What the store's schema is, compared with the migrations this quaylogs ships. */
export async function schemaState(store: ClickHouseStore, dir?: string): Promise<SchemaState> {
  const known = loadMigrations(dir);
  const applied = await readApplied(store);
  const newest = known.at(-1)?.version ?? 0;
  return {
    pending: known.filter((m) => !applied.has(m.version)),
    newer: [...applied.values()].filter((a) => a.version > newest).map((a) => ({ version: a.version, name: a.name })),
    applied,
  };
}

function refuseNewer(state: SchemaState, dir?: string): void {
  if (state.newer.length === 0) return;
  const newest = loadMigrations(dir).at(-1)?.name ?? 'none';
  throw new SchemaNewerError(
    `the store's schema is newer than this quaylogs knows (it has ${state.newer.map((n) => n.name).join(', ')}; this version ends at ${newest}): run the quaylogs version that migrated it, or upgrade this one`,
  );
}

/**
 * Applies pending migrations, each exactly once across every process that runs this at
 * the same time (given a `lock`), and refuses a schema newer than this quaylogs knows.
 */
export async function migrate(store: ClickHouseStore, opts: MigrateOptions = {}): Promise<MigrateResult> {
  await store.command({
    name: 'migrations.createTable',
    sql: `CREATE TABLE IF NOT EXISTS schema_migrations
          (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
          ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  let state = await schemaState(store, opts.dir);
  refuseNewer(state, opts.dir);
  if (state.pending.length === 0) return { applied: [], alreadyApplied: [...state.applied.values()].map((a) => a.name) };
  const held = opts.lock ? await opts.lock.acquire() : null;
  try {
    // Another process may have applied them while this one waited for the lock.
    if (held) state = await schemaState(store, opts.dir);
    refuseNewer(state, opts.dir);
    const result: MigrateResult = { applied: [], alreadyApplied: [] };
    for (const m of loadMigrations(opts.dir)) {
      const prior = state.applied.get(m.version);
      if (prior) {
        if (prior.checksum !== m.checksum) {
          opts.log?.(`warning: migration ${m.name} changed after it was applied (checksum differs); it is not re-run`);
        }
        result.alreadyApplied.push(m.name);
        continue;
      }
      const resume = QUIESCE_MARKER.test(m.text) && opts.quiesceWriters ? await opts.quiesceWriters(m.name) : null;
      try {
        for (const statement of m.statements) {
          await held?.assertHeld();
          await store.command({ name: `migrations.${m.name}`, sql: statement });
        }
        await held?.assertHeld();
        await store.insert({ table: 'schema_migrations', rows: [{ version: m.version, name: m.name, checksum: m.checksum }] });
      } finally {
        await resume?.();
      }
      opts.log?.(`applied ${m.name}`);
      result.applied.push(m.name);
    }
    return result;
  } finally {
    await held?.release();
  }
}

/**
 * Waits until every migration this quaylogs knows is applied (by `quaylogs migrate` or a
 * process with QUAYLOGS_MIGRATE=auto), saying what it waits for every `noticeMs`.
 * Throws SchemaNewerError at once for a schema newer than this quaylogs knows.
 */
export async function waitForSchema(
  store: ClickHouseStore,
  opts: { dir?: string; log?: (line: string) => void; pollMs?: number; noticeMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  let lastNotice = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    const state = await schemaState(store, opts.dir);
    refuseNewer(state, opts.dir);
    if (state.pending.length === 0) return;
    if (Date.now() - lastNotice >= (opts.noticeMs ?? 10_000)) {
      lastNotice = Date.now();
      opts.log?.(
        `waiting for the schema: ${state.pending.length} migration(s) not applied yet (${state.pending.map((p) => p.name).join(', ')}); run \`quaylogs migrate\`, or start one process with QUAYLOGS_MIGRATE=auto`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1_000));
  }
}
