/**
 * Bringing the schema to what this quaylogs needs, once per deployment however many
 * processes start together (QUAYLOGS_MIGRATE):
 * - `auto` migrates; against a ClickHouse server with a shared Redis, under a Redis lease
 *   (it expires if its holder dies) so one process applies each migration and the others
 *   wait for it, with every loader paused around backfills;
 * - `off` waits until `quaylogs migrate` (or an `auto` process) has applied them, saying so.
 * Unset: `auto`, except split-mode roles (`quaylogs api`, `quaylogs worker`) on a server,
 * which wait. The embedded store is held by one process, so it needs no lock, and cannot
 * wait for another process either. A schema newer than this quaylogs is refused.
 */
import { hostname } from 'node:os';
import { type ClickHouseStore, migrate, type MigrateOptions, type MigrateResult, schemaState, waitForSchema } from '@quaylogs/clickhouse';
import type { QuaylogsConfig } from '@quaylogs/config';
import { quiesceWriters } from '@quaylogs/ingest';
import { holdLease, quitRedis, redisForWorkers } from '@quaylogs/queue';

export const SCHEMA_LOCK_KEY = 'quaylogs:schema:migrate-lock';

export type MigrateMode = 'auto' | 'off';

/** The mode a process uses: QUAYLOGS_MIGRATE, or the default for what it runs. */
export function migrateMode(cfg: Pick<QuaylogsConfig, 'QUAYLOGS_MIGRATE' | 'CLICKHOUSE_URL'>, splitRoles: boolean): MigrateMode {
  return cfg.QUAYLOGS_MIGRATE ?? (splitRoles && cfg.CLICKHOUSE_URL ? 'off' : 'auto');
}

/** Applies pending migrations, under the shared lock when several processes can reach the store. */
export async function migrateShared(
  cfg: Pick<QuaylogsConfig, 'REDIS_URL'>,
  store: ClickHouseStore,
  log: (line: string) => void,
): Promise<MigrateResult> {
  if (store.backend === 'embedded' || !cfg.REDIS_URL) {
    if (store.backend === 'server') log('no REDIS_URL: nothing keeps another process from migrating at the same time');
    return migrate(store, { log });
  }
  const redis = redisForWorkers(cfg.REDIS_URL);
  const owner = `${hostname()}-${process.pid}`;
  const opts: MigrateOptions = {
    log,
    lock: {
      acquire: () =>
        holdLease(redis, SCHEMA_LOCK_KEY, owner, {
          ttlMs: 30_000,
          onWait: (holder) => log(`waiting for the migration lock, held by ${holder}`),
        }),
    },
    quiesceWriters: async (migration) => {
      log(`${migration} backfills: pausing every loader between batches`);
      return quiesceWriters(redis, store, { owner, log });
    },
  };
  try {
    return await migrate(store, opts);
  } finally {
    await quitRedis(redis);
  }
}

/** Migrates (`auto`) or waits for the schema (`off`). */
export async function prepareSchema(
  cfg: Pick<QuaylogsConfig, 'REDIS_URL'>,
  store: ClickHouseStore,
  mode: MigrateMode,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (mode === 'auto') {
    await migrateShared(cfg, store, log);
    return;
  }
  if (store.backend === 'embedded') {
    const state = await schemaState(store);
    if (state.pending.length) {
      throw new Error(
        `QUAYLOGS_MIGRATE=off and the embedded store needs ${state.pending.map((p) => p.name).join(', ')}: run \`quaylogs migrate\` first`,
      );
    }
  }
  await waitForSchema(store, { log, ...(signal ? { signal } : {}) });
}
