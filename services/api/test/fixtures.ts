/**
 * API test fixture: a real embedded ClickHouse (migrated), the real Fastify app
 * listening on a loopback port, a bootstrap superuser, and helpers to call it
 * over HTTP (@quaylogs/testing's call) and to create users with grants.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { insertUsageLogs, upsertAccounts } from '@quaylogs/clickhouse';
import { loadConfig } from '@quaylogs/config';
import type { AccountInfo, UsageLogRow } from '@quaylogs/core';
import { startLoader } from '@quaylogs/ingest';
import { quitRedis, redisForProducers, redisForWorkers } from '@quaylogs/queue';
import { buildApp, type BuildAppOptions, ensureBootstrapAdmin, streamAuditWriter } from '../src/index.ts';
import type { AppContext } from '../src/context.ts';
import { ADMIN_TOKEN, flushTestRedis, openTestStore, resetStore, testRedisUrl } from '@quaylogs/testing';

// Calls, users, rows and Quay's error bodies come from @quaylogs/testing; re-exported for the api tests.
export { ADMIN_TOKEN, call, logRow, mdy, notFoundBody, requiresAuthentication, type Res, unauthorized, userWithToken } from '@quaylogs/testing';

export const SECRET = 'test-secret-for-page-tokens-0123456789';

export interface ApiFixture {
  store: ClickHouseStore;
  /** The test's data directory (the embedded engine lives in its `clickhouse/`). */
  dir?: string;
  app: FastifyInstance;
  ctx: AppContext;
  url: string;
  close(): Promise<void>;
  reset(): Promise<void>;
  /** Resolves once every audit entry written so far is stored (at once without auditThroughStream). */
  auditStored(): Promise<void>;
}

export interface ApiFixtureOptions {
  /**
   * Audit entries through the ingest stream and a loader, as `up` and `api` write them (this
   * file's Redis database); await auditStored() before reading them. Default: inserted directly.
   */
  auditThroughStream?: boolean;
}

export async function startApi(env: Record<string, string> = {}, extra: Partial<BuildAppOptions> = {}, opts: ApiFixtureOptions = {}): Promise<ApiFixture> {
  const { store, dir, cleanup } = await openTestStore();
  const config = loadConfig({ QUAYLOGS_BOOTSTRAP_TOKEN: ADMIN_TOKEN, QUAYLOGS_SECRET: SECRET, ...env });
  let stream: { producer: ReturnType<typeof redisForProducers>; workers: ReturnType<typeof redisForWorkers>; loader: ReturnType<typeof startLoader> } | null = null;
  if (opts.auditThroughStream) {
    await flushTestRedis('api');
    const producer = redisForProducers(testRedisUrl('api'));
    const workers = redisForWorkers(testRedisUrl('api'));
    stream = { producer, workers, loader: startLoader({ redis: workers, store, consumer: 'api-fixture', batchMs: 20 }) };
  }
  const audit = stream ? { audit: streamAuditWriter(stream.producer) } : {};
  const { app, ctx } = await buildApp({ store, config, secret: SECRET, ...audit, ...extra });
  await ensureBootstrapAdmin(ctx, ADMIN_TOKEN);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    store,
    dir,
    app,
    ctx,
    url,
    async auditStored() {
      await stream?.loader.drain();
    },
    async close() {
      await app.close();
      if (stream) {
        await stream.loader.stop();
        await quitRedis(stream.producer);
        await quitRedis(stream.workers);
      }
      await cleanup();
    },
    async reset() {
      await stream?.loader.drain();
      await resetStore(store);
      ctx.auth.invalidate();
      ctx.accounts.clear();
      await ensureBootstrapAdmin(ctx, ADMIN_TOKEN);
    },
  };
}

export async function seed(f: ApiFixture, rows: UsageLogRow[], accounts: AccountInfo[] = []): Promise<void> {
  for (let i = 0; i < rows.length; i += 50_000) await insertUsageLogs(f.store, rows.slice(i, i + 50_000));
  if (accounts.length) await upsertAccounts(f.store, 'test', accounts);
}
