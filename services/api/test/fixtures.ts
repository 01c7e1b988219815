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
import { buildApp, type BuildAppOptions, ensureBootstrapAdmin } from '../src/index.ts';
import type { AppContext } from '../src/context.ts';
import { ADMIN_TOKEN, openTestStore, resetStore } from '@quaylogs/testing';

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
}

export async function startApi(env: Record<string, string> = {}, extra: Partial<BuildAppOptions> = {}): Promise<ApiFixture> {
  const { store, dir, cleanup } = await openTestStore();
  const config = loadConfig({ QUAYLOGS_BOOTSTRAP_TOKEN: ADMIN_TOKEN, QUAYLOGS_SECRET: SECRET, ...env });
  const { app, ctx } = await buildApp({ store, config, secret: SECRET, ...extra });
  await ensureBootstrapAdmin(ctx, ADMIN_TOKEN);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    store,
    dir,
    app,
    ctx,
    url,
    async close() {
      await app.close();
      await cleanup();
    },
    async reset() {
      await resetStore(store);
      ctx.auth.invalidate();
      await ensureBootstrapAdmin(ctx, ADMIN_TOKEN);
    },
  };
}

export async function seed(f: ApiFixture, rows: UsageLogRow[], accounts: AccountInfo[] = []): Promise<void> {
  for (let i = 0; i < rows.length; i += 50_000) await insertUsageLogs(f.store, rows.slice(i, i + 50_000));
  if (accounts.length) await upsertAccounts(f.store, 'test', accounts);
}
