/**
 * `quaylogs purge`: erase a performer's or a namespace's entries (optionally before a date),
 * with the rollups corrected and the erasure audited. With the store free it runs here;
 * while `up` holds the embedded store it goes through the running server's
 * POST /api/v1/superuser/purge, found through data/server.json.
 */
import { userInfo } from 'node:os';
import { type ClickHouseStore, migrate, openStore, StoreError, StoreLockedError } from '@quaylogs/clickhouse';
import { parseQuayDate } from '@quaylogs/core';
import { PurgeError, purgeEntries, type PurgeResult, resumePurge } from '@quaylogs/ingest';
import { bumpLogGenerations, quitRedis, redisForProducers } from '@quaylogs/queue';
import { callServer, config, fail } from './commands.ts';

export interface PurgeOptions {
  performer?: string;
  namespace?: string;
  source?: string;
  before?: string;
  resume?: string;
  yes: boolean;
  json: boolean;
  url?: string;
  token?: string;
}

/** `--resume <id>`: completes a purge a crash interrupted (the store must be free). */
async function resume(id: string): Promise<void> {
  const cfg = config();
  let store: ClickHouseStore;
  try {
    store = await openStore(cfg);
  } catch (err) {
    fail(err instanceof StoreError ? `${err.message} (stop \`quaylogs up\` to resume a purge)` : `cannot reach ClickHouse: ${(err as Error).message}`);
  }
  try {
    const res = await resumePurge(store, id);
    process.stdout.write(`resumed purge ${res.purge_id}: ${res.rows_deleted.toLocaleString('en-US')} entries erased, rollups corrected on ${res.days.length} day(s)\n`);
  } catch (err) {
    if (err instanceof PurgeError) fail(err.message);
    throw err;
  } finally {
    await store.close();
  }
}

export async function runPurge(opts: PurgeOptions): Promise<void> {
  if (opts.resume !== undefined) return resume(opts.resume);
  if (opts.performer === undefined && opts.namespace === undefined) fail('give --performer, --namespace, or both');
  let before: Date | undefined;
  if (opts.before !== undefined) {
    const parsed = parseQuayDate(opts.before);
    if (!parsed) fail(`--before: not a date (MM/DD/YYYY or ISO-8601): ${opts.before}`);
    before = parsed.at;
  }
  const what = [
    opts.performer !== undefined ? `performer "${opts.performer}"` : null,
    opts.namespace !== undefined ? `namespace "${opts.namespace}"` : null,
    opts.source !== undefined ? `source "${opts.source}"` : null,
    before ? `before ${before.toISOString()}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  if (!opts.yes) fail(`this erases every stored entry of ${what}, for good; run again with --yes to do it`);

  const cfg = config();
  const spec = {
    ...(opts.performer !== undefined ? { performer: opts.performer } : {}),
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    ...(opts.source !== undefined ? { source: opts.source } : {}),
    ...(before ? { before } : {}),
  };
  let store: ClickHouseStore | null = null;
  try {
    store = await openStore(cfg);
  } catch (err) {
    if (!(err instanceof StoreLockedError)) fail(err instanceof StoreError ? err.message : `cannot reach ClickHouse: ${(err as Error).message}`);
  }
  let res: PurgeResult;
  if (store) {
    try {
      await migrate(store);
      res = await purgeEntries(store, { ...spec, requestedBy: `cli:${userInfo().username}` });
    } catch (err) {
      if (err instanceof PurgeError) fail(err.message);
      throw err;
    } finally {
      await store.close();
    }
    // Split mode: API processes elsewhere cache first pages; tell them the namespaces changed.
    if (cfg.REDIS_URL && res.namespaces.length > 0) {
      const redis = redisForProducers(cfg.REDIS_URL);
      await bumpLogGenerations(redis.multi(), res.namespaces).exec().catch(() => undefined);
      await quitRedis(redis);
    }
  } else {
    const body = { ...spec, ...(before ? { before: before.toISOString() } : {}) };
    res = (await callServer(cfg, 'POST', '/api/v1/superuser/purge', opts, body, { timeoutMs: 24 * 3_600_000 })) as PurgeResult; // a big namespace takes long
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(res) + '\n');
    return;
  }
  const days = res.days.length === 0 ? '' : `; rollups corrected on ${res.days.length} day(s), ${res.days[0]} to ${res.days[res.days.length - 1]}`;
  process.stdout.write(`erased ${res.rows_deleted.toLocaleString('en-US')} entries of ${what} (purge ${res.purge_id}, audited in data_purges)${days}\n`);
}
