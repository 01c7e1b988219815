/**
 * What every `quaylogs` command needs first, kept light so `--help`, `--version` and the
 * one-shot commands start without loading the server (Fastify, BullMQ, the exporter).
 */
import { type ClickHouseStore, openStore } from '@quaylogs/clickhouse';
import { ConfigError, loadConfig, type QuaylogsConfig } from '@quaylogs/config';

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
  // Quiet about what it applies; says what it waits for (split mode, QUAYLOGS_MIGRATE).
  const { migrateMode, prepareSchema } = await import('./schema.ts');
  await prepareSchema(cfg, store, migrateMode(cfg, false), (l) => void (l.startsWith('applied ') || process.stderr.write(`migrations: ${l}\n`)));
  return store;
}
