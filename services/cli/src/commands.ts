/**
 * What each `quaylogs` command does. Errors a user can fix end the process with
 * one line on stderr and exit code 1, never a stack trace.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkReadOnlySql } from '@quaylogs/api';
import { pino } from 'pino';
import { applyRetention, type ClickHouseStore, openStore, StoreError, StoreLockedError } from '@quaylogs/clickhouse';
import { ConfigError, loadConfig, type QuaylogsConfig } from '@quaylogs/config';
import { loadDemo, storeIsEmpty } from './demoLoad.ts';
import { rowProgress } from './progress.ts';
import { loadOrCreateAdminToken, loadOrCreateSecret } from './secret.ts';
import { printRows } from './table.ts';
import { RedisUnavailableError } from './localRedis.ts';
import { parseRoles, type Role, type Running, startRoles } from './runtime.ts';
import { migrateMode, migrateShared, prepareSchema } from './schema.ts';

export function fail(message: string): never {
  process.stderr.write(`quaylogs: ${message}\n`);
  process.exit(1);
}

export function config(): QuaylogsConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

/** Opens and migrates the store for a one-shot command; a held embedded store throws StoreLockedError. */
export async function open(cfg: QuaylogsConfig): Promise<ClickHouseStore> {
  const store = await openStore(cfg);
  // Quiet about what it applies (as before); says what it waits for.
  await prepareSchema(cfg, store, migrateMode(cfg, false), (l) => void (l.startsWith('applied ') || process.stderr.write(`migrations: ${l}\n`)));
  return store;
}

async function openOrFail(cfg: QuaylogsConfig): Promise<ClickHouseStore> {
  try {
    return await openStore(cfg);
  } catch (err) {
    if (err instanceof StoreError) fail(err.message);
    fail(`cannot reach ClickHouse: ${(err as Error).message}`);
  }
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
  if (mode === 'auto') await applyRetention(store, cfg.QUAYLOGS_RETENTION_DAYS);
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
  let roles: Role[];
  try {
    roles = parseRoles(opts.roles ?? cfg.QUAYLOGS_ROLES);
  } catch (err) {
    fail((err as Error).message);
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
  const log = pino({ level: cfg.QUAYLOGS_LOG_LEVEL, redact: ['authorization', '*.authorization', 'token', '*.token'] });
  let running: Running;
  try {
    running = await startRoles({ cfg, store, secret, roles, log, bootstrapToken });
  } catch (err) {
    await store.close().catch(() => undefined);
    if (err instanceof RedisUnavailableError) fail(err.message);
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') fail(`cannot listen on ${cfg.QUAYLOGS_HOST}:${cfg.QUAYLOGS_PORT}: the port is in use`);
    fail(`cannot start: ${(err as Error).message}`);
  }
  const where = running.port !== null ? `serving http://${cfg.QUAYLOGS_HOST}:${running.port}` : 'running';
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
    await running.stop(); // HTTP drains, workers finish, the loader flushes, Redis closes
    await store.close(); // then the store
    clearTimeout(deadline);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

export async function runMigrate(): Promise<void> {
  const cfg = config();
  const store = await openOrFail(cfg);
  let res;
  try {
    res = await migrateShared(cfg, store, (l) => process.stdout.write(`${l}\n`));
  } catch (err) {
    await store.close().catch(() => undefined);
    fail((err as Error).message);
  }
  await applyRetention(store, cfg.QUAYLOGS_RETENTION_DAYS);
  process.stdout.write(`${res.applied.length} applied, ${res.alreadyApplied.length} already applied\n`);
  await store.close();
}

export async function runDemo(opts: { rows: number; seed: number; force: boolean }): Promise<void> {
  const cfg = config();
  const store = await migrated(cfg);
  if (!opts.force && !(await storeIsEmpty(store))) {
    await store.close();
    fail('the store already holds logs; use --force to add demo rows anyway');
  }
  await fillDemo(store, opts.rows, opts.seed);
  await store.close();
}

export async function runSql(query: string, opts: { json: boolean; url?: string; token?: string }): Promise<void> {
  const checked = checkReadOnlySql(query);
  if (!checked.ok) fail(checked.reason);
  const cfg = config();
  let rows: Record<string, unknown>[];
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
      rows = await store.query({ name: 'cli.sql', sql: checked.sql, settings: checked.settings });
    } catch (err) {
      fail(String((err as Error).message).split('\n')[0]!);
    } finally {
      await store.close();
    }
  } else {
    rows = await sqlViaServer(cfg, query, opts);
  }
  printRows(rows, opts.json);
}

/** Calls a running quaylogs as the superuser (the embedded store is held by it). */
async function callServer(
  cfg: QuaylogsConfig,
  method: 'GET' | 'POST',
  path: string,
  opts: { url?: string; token?: string },
  body?: unknown,
): Promise<unknown> {
  const host = cfg.QUAYLOGS_HOST === '0.0.0.0' ? '127.0.0.1' : cfg.QUAYLOGS_HOST;
  const url = (opts.url ?? `http://${host}:${cfg.QUAYLOGS_PORT}`).replace(/\/+$/, '');
  const tokenFile = join(cfg.QUAYLOGS_DATA_DIR, 'admin-token');
  const token =
    opts.token ?? cfg.QUAYLOGS_BOOTSTRAP_TOKEN ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined);
  if (!token) fail('the embedded store is held by a running quaylogs; give a superuser token with --token or QUAYLOGS_BOOTSTRAP_TOKEN');
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (err) {
    fail(`the embedded store is held by another process and ${url} does not answer: ${(err as Error).message}`);
  }
  const parsed = (await res.json().catch(() => ({}))) as { detail?: string; message?: string };
  if (!res.ok) fail(`${res.status}: ${parsed.detail ?? parsed.message ?? 'request failed'}`);
  return parsed;
}

async function sqlViaServer(cfg: QuaylogsConfig, query: string, opts: { url?: string; token?: string }) {
  const body = (await callServer(cfg, 'POST', '/api/v1/superuser/sql', opts, { query })) as { rows?: Record<string, unknown>[] };
  return body.rows ?? [];
}

export async function serverGet(path: string, opts: { url?: string; token?: string }): Promise<unknown> {
  return callServer(config(), 'GET', path, opts);
}
