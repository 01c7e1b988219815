/**
 * What each `quaylogs` command does. Errors a user can fix end the process with
 * one line on stderr and exit code 1, never a stack trace.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AdhocSqlError, DEFAULT_ADHOC_LIMITS, runAdhocSql, SQL_MAX_ROWS } from '@quaylogs/api/adhocSql';
import {
  applyRetention,
  type ClickHouseStore,
  loadMigrations,
  migrate,
  openStore,
  renderMigrationRecords,
  renderMigrations,
  type RetentionPolicy,
  StoreError,
  StoreLockedError,
} from '@quaylogs/clickhouse';
import type { QuaylogsConfig } from '@quaylogs/config';
import { config, fail } from './cliBase.ts';
import { loadDemo, storeIsEmpty } from './demoLoad.ts';
import { rowProgress } from './progress.ts';
import { loadOrCreateAdminToken, loadOrCreateSecret } from './secret.ts';
import { printRows } from './table.ts';
import { RedisUnavailableError } from './localRedis.ts';
import { createLogger } from './logger.ts';
import type { Role, Running } from './runtime.ts';
import { readServerFile, removeServerFile, writeServerFile } from './serverFile.ts';
import { migrateMode, migrateShared, prepareSchema } from './schema.ts';

export { config, fail, open } from './cliBase.ts';

async function openOrFail(cfg: QuaylogsConfig): Promise<ClickHouseStore> {
  try {
    return await openStore(cfg);
  } catch (err) {
    if (err instanceof StoreError) fail(err.message);
    fail(`cannot reach ClickHouse: ${(err as Error).message}`);
  }
}

/** QUAYLOGS_RETENTION_DAYS plus the QUAYLOGS_CONFIG file's per-source `retention_days`. */
export async function retentionPolicy(cfg: QuaylogsConfig): Promise<RetentionPolicy> {
  try {
    const { loadRetentionOverrides } = await import('@quaylogs/ingest');
    return { defaultDays: cfg.QUAYLOGS_RETENTION_DAYS, bySource: await loadRetentionOverrides(cfg.QUAYLOGS_CONFIG) };
  } catch (err) {
    fail((err as Error).message);
  }
}

async function applyRetentionPolicy(store: ClickHouseStore, cfg: QuaylogsConfig): Promise<void> {
  const policy = await retentionPolicy(cfg);
  await applyRetention(store, policy.defaultDays, policy.bySource);
}

async function migrated(cfg: QuaylogsConfig, splitRoles = false): Promise<ClickHouseStore> {
  const store = await openOrFail(cfg);
  const mode = migrateMode(cfg, splitRoles);
  try {
    await prepareSchema(cfg, store, mode, (l) => process.stderr.write(`migrations: ${l}\n`));
  } catch (err) {
    await store.close().catch(() => undefined);
    fail((err as Error).message);
  }
  if (mode === 'auto') await applyRetentionPolicy(store, cfg);
  return store;
}

async function fillDemo(store: ClickHouseStore, rows: number, seed: number): Promise<void> {
  const bar = rowProgress('demo data', rows);
  const t0 = Date.now();
  const res = await loadDemo(store, { rows, seed }, (n) => bar.update(n));
  bar.stop();
  process.stderr.write(
    `demo data: ${res.rows.toLocaleString('en-US')} log entries, ${res.accounts} accounts in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
}

export async function runUp(opts: { demoRows: number; seed: number; port?: number }): Promise<void> {
  await serve({ ...opts, roles: undefined });
}

/** `quaylogs api` / `quaylogs worker --roles …`: one process per role set (split mode). */
export async function runRoles(roles: string, opts: { port?: number }): Promise<void> {
  await serve({ demoRows: 0, seed: 42, roles, ...opts });
}

async function serve(opts: { demoRows: number; seed: number; port?: number; roles: string | undefined }): Promise<void> {
  const cfg = config();
  if (opts.port !== undefined) cfg.QUAYLOGS_PORT = opts.port;
  // The server's modules load only when a server starts.
  const { parseRoles, startRoles } = await import('./runtime.ts');
  let roles: Role[];
  try {
    roles = parseRoles(opts.roles ?? cfg.QUAYLOGS_ROLES);
  } catch (err) {
    fail((err as Error).message);
  }
  if (roles.includes('api')) {
    // The console is served from its built bundle; build it when missing or stale.
    try {
      const { ensureConsoleBuilt } = await import('@quaylogs/console');
      ensureConsoleBuilt();
    } catch (err) {
      process.stderr.write(`console: build failed (${(err as Error).message}); the API still serves, / says how to build it\n`);
    }
  }
  const store = await migrated(cfg, opts.roles !== undefined);
  if (opts.demoRows > 0) {
    if (await storeIsEmpty(store)) await fillDemo(store, opts.demoRows, opts.seed);
    else process.stderr.write('demo data: the store already holds logs; not adding demo rows\n');
  }
  const secret = loadOrCreateSecret(cfg.QUAYLOGS_DATA_DIR, cfg.QUAYLOGS_SECRET);
  let bootstrapToken: string;
  let tokenNote: string;
  if (cfg.QUAYLOGS_BOOTSTRAP_TOKEN) {
    bootstrapToken = cfg.QUAYLOGS_BOOTSTRAP_TOKEN;
    tokenNote = 'superuser `admin` authenticates with QUAYLOGS_BOOTSTRAP_TOKEN';
  } else {
    const admin = loadOrCreateAdminToken(cfg.QUAYLOGS_DATA_DIR);
    bootstrapToken = admin.token;
    tokenNote = `superuser \`admin\` token is in ${admin.file} (set QUAYLOGS_BOOTSTRAP_TOKEN to choose it)`;
  }
  const log = createLogger(cfg);
  let running: Running;
  try {
    running = await startRoles({ cfg, store, secret, roles, log, bootstrapToken, retention: await retentionPolicy(cfg) });
  } catch (err) {
    await store.close().catch(() => undefined);
    if (err instanceof RedisUnavailableError) fail(err.message);
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') fail(`cannot listen on ${cfg.QUAYLOGS_HOST}:${cfg.QUAYLOGS_PORT}: the port is in use`);
    fail(`cannot start: ${(err as Error).message}`);
  }
  const where = running.port !== null ? `serving http://${cfg.QUAYLOGS_HOST}:${running.port}` : 'running';
  if (running.port !== null) {
    // Where one-shot commands (sql, status, import, demo, purge) find this server.
    const host = cfg.QUAYLOGS_HOST === '0.0.0.0' || cfg.QUAYLOGS_HOST === '::' ? '127.0.0.1' : cfg.QUAYLOGS_HOST;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    writeServerFile(cfg.QUAYLOGS_DATA_DIR, { url: `http://${urlHost}:${running.port}`, roles });
  }
  process.stderr.write(`quaylogs is ${where} (roles ${roles.join(', ')}; ${store.backend} ClickHouse); ${tokenNote}\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`quaylogs: ${signal} received, shutting down\n`);
    const deadline = setTimeout(() => {
      process.stderr.write('quaylogs: shutdown deadline passed, exiting\n');
      process.exit(1);
    }, cfg.QUAYLOGS_SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    running.beginShutdown(); // readiness fails first
    removeServerFile(cfg.QUAYLOGS_DATA_DIR);
    await running.stop(); // HTTP drains, workers finish, the loader flushes, Redis closes
    await store.close(); // then the store
    clearTimeout(deadline);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

export async function runMigrate(opts: { url?: string; token?: string } = {}): Promise<void> {
  const cfg = config();
  let store: ClickHouseStore;
  try {
    store = await openStore(cfg);
  } catch (err) {
    if (err instanceof StoreLockedError) return migrateStatusViaServer(cfg, opts);
    if (err instanceof StoreError) fail(err.message);
    fail(`cannot reach ClickHouse: ${(err as Error).message}`);
  }
  let res;
  try {
    res = await migrateShared(cfg, store, (l) => process.stdout.write(`${l}\n`));
  } catch (err) {
    await store.close().catch(() => undefined);
    fail((err as Error).message);
  }
  await applyRetentionPolicy(store, cfg);
  process.stdout.write(`${res.applied.length} applied, ${res.alreadyApplied.length} already applied\n`);
  await store.close();
}

/** `quaylogs migrate --print-cluster NAME`: the cluster variant of every migration, for review or clickhouse-client. */
export function printClusterDdl(cluster: string): void {
  let rendered;
  let records;
  try {
    const migrations = loadMigrations();
    rendered = renderMigrations(migrations, { kind: 'cluster', cluster });
    records = renderMigrationRecords(migrations, { kind: 'cluster', cluster });
  } catch (err) {
    fail((err as Error).message);
  }
  for (const m of rendered) {
    process.stdout.write(`-- ${m.name}\n`);
    for (const s of m.statements) process.stdout.write(`${s};\n\n`);
  }
  process.stdout.write('-- record them, so that `quaylogs migrate` finds them applied\n');
  for (const s of records) process.stdout.write(`${s};\n\n`);
}

/**
 * `migrate` while `up` holds the embedded store: `up` applies every migration when it
 * starts, so this reports what the running server has applied and what a restart would add.
 */
async function migrateStatusViaServer(cfg: QuaylogsConfig, opts: { url?: string; token?: string }): Promise<void> {
  const rows = (await sqlViaServer(cfg, 'SELECT name FROM schema_migrations FINAL ORDER BY version', opts)).rows as { name: string }[];
  const applied = new Set(rows.map((r) => r.name));
  const pending = loadMigrations().filter((m) => !applied.has(m.name)).map((m) => m.name);
  const who = `the running quaylogs at ${serverUrl(cfg, opts)} holds the embedded store`;
  if (pending.length === 0) {
    process.stdout.write(`0 applied, ${applied.size} already applied (${who}; it migrated when it started)\n`);
    return;
  }
  fail(`${who} and lacks ${pending.length} migration(s): ${pending.join(', ')}; restart it (\`quaylogs up\` migrates at start)`);
}

export async function runDemo(opts: { rows: number; seed: number; force: boolean }): Promise<void> {
  const cfg = config();
  let store: ClickHouseStore;
  try {
    store = await openStore(cfg);
  } catch (err) {
    if (!(err instanceof StoreLockedError)) fail(err instanceof StoreError ? err.message : `cannot reach ClickHouse: ${(err as Error).message}`);
    // `up` holds the embedded store: the running server generates and inserts the rows.
    const t0 = Date.now();
    const res = (await callServer(cfg, 'POST', '/api/v1/superuser/demo', {}, opts, { timeoutMs: 24 * 3_600_000 })) as { rows: number; accounts: number };
    process.stderr.write(
      `demo data: ${res.rows.toLocaleString('en-US')} log entries, ${res.accounts} accounts in ${((Date.now() - t0) / 1000).toFixed(1)} s, ` +
        `through the running quaylogs at ${serverUrl(cfg, {})}\n`,
    );
    return;
  }
  await migrate(store, { log: (l) => process.stderr.write(`migrations: ${l}\n`) });
  await applyRetentionPolicy(store, cfg);
  if (!opts.force && !(await storeIsEmpty(store))) {
    await store.close();
    fail('the store already holds logs; use --force to add demo rows anyway');
  }
  await fillDemo(store, opts.rows, opts.seed);
  await store.close();
}

export async function runSql(query: string, opts: { json: boolean; url?: string; token?: string }): Promise<void> {
  if (query.trim() === '') fail('the query is empty');
  const cfg = config();
  let result: { rows: Record<string, unknown>[]; truncated?: boolean };
  let viaServer = opts.url !== undefined;
  let store: ClickHouseStore | null = null;
  if (!viaServer) {
    try {
      store = await openStore(cfg);
    } catch (err) {
      if (err instanceof StoreLockedError) viaServer = true;
      else if (err instanceof StoreError) fail(err.message);
      else fail(`cannot reach ClickHouse: ${(err as Error).message}`);
    }
  }
  if (store) {
    try {
      // The same guard and limits as the server's SQL route.
      result = await runAdhocSql(store, query, { ...DEFAULT_ADHOC_LIMITS, timeoutS: cfg.QUAYLOGS_QUERY_TIMEOUT_S });
    } catch (err) {
      fail(err instanceof AdhocSqlError ? err.message : String((err as Error).message).split('\n')[0]!);
    } finally {
      await store.close();
    }
  } else {
    result = await sqlViaServer(cfg, query, opts);
  }
  printRows(result.rows, opts.json);
  if (result.truncated) process.stderr.write(`quaylogs: only the first ${SQL_MAX_ROWS} rows are shown; the query has more\n`);
}

/** --url, else what the running server wrote to data/server.json, else QUAYLOGS_HOST:QUAYLOGS_PORT. */
export function serverUrl(cfg: QuaylogsConfig, opts: { url?: string }): string {
  if (opts.url) return opts.url.replace(/\/+$/, '');
  const running = readServerFile(cfg.QUAYLOGS_DATA_DIR);
  if (running) return running.url;
  const host = cfg.QUAYLOGS_HOST === '0.0.0.0' ? '127.0.0.1' : cfg.QUAYLOGS_HOST;
  return `http://${host}:${cfg.QUAYLOGS_PORT}`;
}

/** Calls a running quaylogs as the superuser (the embedded store is held by it). */
export async function callServer(
  cfg: QuaylogsConfig,
  method: 'GET' | 'POST',
  path: string,
  opts: { url?: string; token?: string },
  body?: unknown,
  extra: { upload?: Readable; timeoutMs?: number } = {},
): Promise<unknown> {
  const url = serverUrl(cfg, opts);
  const tokenFile = join(cfg.QUAYLOGS_DATA_DIR, 'admin-token');
  const token =
    opts.token ?? cfg.QUAYLOGS_BOOTSTRAP_TOKEN ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined);
  if (!token) fail('the embedded store is held by a running quaylogs; give a superuser token with --token or QUAYLOGS_BOOTSTRAP_TOKEN');
  let res: Response;
  try {
    const init: RequestInit & { duplex?: 'half' } = extra.upload
      ? {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
          body: Readable.toWeb(extra.upload) as ReadableStream,
          duplex: 'half',
        }
      : {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        };
    res = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(extra.timeoutMs ?? 120_000) });
  } catch (err) {
    fail(
      `the embedded store is held by another process and ${url} does not answer (${(err as Error).message}); ` +
        'give the running server with --url, or stop it',
    );
  }
  const parsed = (await res.json().catch(() => ({}))) as { detail?: string; message?: string };
  if (!res.ok) fail(`${res.status}: ${parsed.detail ?? parsed.message ?? 'request failed'}`);
  return parsed;
}

async function sqlViaServer(cfg: QuaylogsConfig, query: string, opts: { url?: string; token?: string }) {
  const body = (await callServer(cfg, 'POST', '/api/v1/superuser/sql', opts, { query })) as { rows?: Record<string, unknown>[]; truncated?: boolean };
  return { rows: body.rows ?? [], truncated: body.truncated === true };
}

export async function serverGet(path: string, opts: { url?: string; token?: string }): Promise<unknown> {
  return callServer(config(), 'GET', path, opts);
}
