/**
 * `quaylogs import …`, `quaylogs deadletter …`, `quaylogs status`.
 *
 * Imports hand rows to the ingest stream like every other source; the command
 * runs a loader of its own so the rows land even when no server is running. While a
 * running `up` holds the embedded store, `import file` sends the file to it instead, and
 * `import quay-db` asks it to read Quay's database.
 */
import { createReadStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ClickHouseStore, StoreLockedError } from '@quaylogs/clickhouse';
import type { QuaylogsConfig } from '@quaylogs/config';
import {
  ImportError,
  type ImportProgress,
  importFile,
  importQuayDb,
  ingestStatus,
  listDeadLetters,
  replayDeadLetters,
  startLoader,
} from '@quaylogs/ingest';
import { type Redis, redisForWorkers } from '@quaylogs/queue';
import { callServer, fail, retentionPolicy, serverUrl } from './commands.ts';
import { type LocalRedis, startLocalRedis } from './localRedis.ts';
import { humanDuration } from './humanize.ts';
import { rowProgress } from './progress.ts';

/** Redis for one-shot commands: REDIS_URL, else the socket of the redis-server `up` started. */
/**
 * Redis for a one-shot command. It cannot wait for Redis to come back: the first error ends
 * the command in one line, not ioredis' unhandled-error dump — after `beforeExit` (closing an
 * open embedded store: a process that exits with the engine open can crash in its shutdown).
 */
function commandRedis(cfg: QuaylogsConfig, beforeExit: () => Promise<void> = async () => undefined): Redis {
  const socket = resolve(cfg.QUAYLOGS_DATA_DIR, 'redis', 'redis.sock');
  const noRedis = `no Redis: set REDIS_URL, or start \`quaylogs up\` (it runs its own redis-server at ${socket})`;
  if (!cfg.REDIS_URL && !existsSync(socket)) void beforeExit().finally(() => fail(noRedis));
  const redis = redisForWorkers(cfg.REDIS_URL ?? socket, { retryStrategy: () => null });
  let failed = false;
  redis.on('error', (err: Error) => {
    if (failed) return;
    failed = true;
    const message = `cannot reach Redis at ${cfg.REDIS_URL ? 'REDIS_URL' : socket}: ${err.message}`;
    void beforeExit()
      .catch(() => undefined)
      .finally(() => fail(message));
  });
  return redis;
}

interface ImportCommon {
  source: string;
  restart: boolean;
}

async function withImportRuntime(
  cfg: QuaylogsConfig,
  open: (cfg: QuaylogsConfig) => Promise<ClickHouseStore>,
  run: (redis: Redis, store: ClickHouseStore, signal: AbortSignal, progress: (p: ImportProgress) => void) => Promise<{ rows: number; completed: boolean }>,
  onLocked?: () => Promise<void>,
): Promise<void> {
  let store: ClickHouseStore;
  try {
    store = await open(cfg);
  } catch (err) {
    if (err instanceof StoreLockedError && onLocked) return onLocked();
    if (err instanceof StoreLockedError) fail(`${err.message}; stop \`quaylogs up\` during the import, or use a ClickHouse server (CLICKHOUSE_URL)`);
    throw err;
  }
  let local: LocalRedis | null = null;
  let redisUrl: string;
  try {
    redisUrl = cfg.REDIS_URL ?? (local = await startLocalRedis(cfg.QUAYLOGS_DATA_DIR)).url;
  } catch (err) {
    await store.close();
    fail((err as Error).message);
  }
  const redis = redisForWorkers(redisUrl);
  const loaderRedis = redisForWorkers(redisUrl);
  const loader = startLoader({ redis: loaderRedis, store, consumer: `import-${process.pid}` });
  const abort = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nstopping after the batch in hand (run the same command again to resume)\n');
    abort.abort();
  });
  const ui: { bar: ReturnType<typeof rowProgress> | null } = { bar: null };
  const progress = (p: ImportProgress) => {
    ui.bar ??= rowProgress('import', Math.max(1, p.total));
    ui.bar.update(p.rows);
  };
  try {
    const res = await run(redis, store, abort.signal, progress);
    ui.bar?.stop();
    process.stderr.write('waiting for the loader to store what was handed off…\n');
    await loader.drain();
    process.stderr.write(`${res.completed ? 'done' : 'interrupted'}: ${res.rows.toLocaleString('en-US')} entries handed off\n`);
  } catch (err) {
    ui.bar?.stop();
    if (err instanceof ImportError) fail(err.message);
    throw err;
  } finally {
    await loader.stop();
    redis.disconnect();
    loaderRedis.disconnect();
    if (local) await local.stop();
    await store.close();
  }
}

export async function runImportQuayDb(
  cfg: QuaylogsConfig,
  open: (cfg: QuaylogsConfig) => Promise<ClickHouseStore>,
  pgUrl: string,
  opts: ImportCommon & { batchRows: number },
): Promise<void> {
  await withImportRuntime(
    cfg,
    open,
    (redis, store, signal, onProgress) =>
      importQuayDb({ pgUrl, redis, store, source: opts.source, batchRows: opts.batchRows, restart: opts.restart, signal, onProgress }),
    // `up` holds the embedded store: it reads Quay's database; its loader stores the entries.
    async () => {
      process.stderr.write(`importing through the running quaylogs at ${serverUrl(cfg, {})}…
`);
      const res = (await callServer(
        cfg,
        'POST',
        '/api/v1/superuser/import/quay-db',
        {},
        { quay_db: pgUrl, source: opts.source, restart: opts.restart, batch_rows: opts.batchRows },
        { timeoutMs: 24 * 3_600_000 },
      )) as { rows: number; completed: boolean };
      process.stderr.write(`${res.completed ? 'done' : 'interrupted'}: ${res.rows.toLocaleString('en-US')} entries handed off to its loader
`);
    },
  );
}

export async function runImportFile(
  cfg: QuaylogsConfig,
  open: (cfg: QuaylogsConfig) => Promise<ClickHouseStore>,
  path: string,
  opts: ImportCommon & { quayDb?: string },
): Promise<void> {
  if (!existsSync(path)) fail(`no such file: ${path}`);
  await withImportRuntime(cfg, open, (redis, store, signal, onProgress) =>
    importFile({
      path,
      redis,
      store,
      source: opts.source,
      restart: opts.restart,
      signal,
      onProgress,
      ...(opts.quayDb ? { quayDbUrl: opts.quayDb } : {}),
    }),
    // `up` holds the embedded store: send the file to it; its loader stores the entries.
    async () => {
      const query = new URLSearchParams({ source: opts.source, restart: String(opts.restart), ...(opts.quayDb ? { quay_db: opts.quayDb } : {}) });
      process.stderr.write(`sending ${path} to the running quaylogs at ${serverUrl(cfg, {})}…\n`);
      const res = (await callServer(cfg, 'POST', `/api/v1/superuser/import?${query}`, {}, undefined, {
        upload: createReadStream(path),
        timeoutMs: 24 * 3_600_000,
      })) as { rows: number; completed: boolean };
      process.stderr.write(`${res.completed ? 'done' : 'interrupted'}: ${res.rows.toLocaleString('en-US')} entries handed off to its loader\n`);
    },
  );
}

export async function runDeadletterList(cfg: QuaylogsConfig, opts: { limit: number; json: boolean }): Promise<void> {
  const redis = commandRedis(cfg);
  try {
    const letters = await listDeadLetters(redis, { limit: opts.limit });
    if (opts.json) {
      for (const l of letters) process.stdout.write(JSON.stringify(l) + '\n');
    } else if (letters.length === 0) {
      process.stdout.write('no dead letters\n');
    } else {
      for (const l of letters) {
        process.stdout.write(`${l.id}  ${l.at}  ${l.consumer}  ${l.reason}  (${l.payload.length} bytes)\n`);
      }
    }
  } finally {
    redis.disconnect();
  }
}

export async function runDeadletterReplay(cfg: QuaylogsConfig, ids: string[]): Promise<void> {
  const redis = commandRedis(cfg);
  try {
    const res = await replayDeadLetters(redis, ids.length ? { ids } : {});
    process.stdout.write(`replayed ${res.replayed}${res.missing.length ? `; not found: ${res.missing.join(', ')}` : ''}\n`);
    if (res.missing.length) process.exitCode = 1;
  } finally {
    redis.disconnect();
  }
}

export async function runStatus(
  cfg: QuaylogsConfig,
  open: (cfg: QuaylogsConfig) => Promise<ClickHouseStore>,
  viaServer: () => Promise<unknown>,
  json: boolean,
): Promise<void> {
  let status: unknown;
  let store: ClickHouseStore | null = null;
  try {
    store = await open(cfg);
  } catch (err) {
    if (!(err instanceof StoreLockedError)) throw err;
  }
  if (store) {
    const open = store;
    const redis = commandRedis(cfg, () => open.close());
    try {
      status = await ingestStatus(store, redis, new Date(), await retentionPolicy(cfg));
    } finally {
      redis.disconnect();
      await store.close();
    }
  } else {
    status = await viaServer();
  }
  if (json) {
    process.stdout.write(JSON.stringify(status, null, 2) + '\n');
    return;
  }
  const s = status as Awaited<ReturnType<typeof ingestStatus>>;
  process.stdout.write(`stream: ${s.stream.length} entries waiting, ${s.stream.pending} pending, dead letters: ${s.dead_letters}\n`);
  const policy = await retentionPolicy(cfg);
  const kept = (d: number) => (d > 0 ? `${d} d` : 'forever');
  const overrides = Object.entries(policy.bySource).map(([src, d]) => `${src} ${kept(d)}`);
  process.stdout.write(`retention: ${kept(policy.defaultDays)} by default${overrides.length ? `; ${overrides.join(', ')}` : ''}\n`);
  if (s.sources.length === 0) process.stdout.write('no sources have sent entries yet\n');
  for (const src of s.sources) {
    process.stdout.write(
      `${src.source}: last entry ${src.last_entry_time} (lag ${humanDuration(src.lag_seconds)}), ${src.entries_last_hour} entries in the last hour` +
        `${src.retention_days === undefined ? '' : src.retention_days === null ? ', kept forever' : `, kept ${src.retention_days} d`}\n`,
    );
  }
}

