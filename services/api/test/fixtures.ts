/**
 * API test fixture: a real embedded ClickHouse (migrated), the real Fastify app
 * listening on a loopback port, a bootstrap superuser, and helpers to call it
 * over HTTP and to create users with grants.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { insertUsageLogs, upsertAccounts } from '@quaylogs/clickhouse';
import { loadConfig } from '@quaylogs/config';
import type { AccountInfo, UsageLogRow } from '@quaylogs/core';
import { buildApp, type BuildAppOptions, ensureBootstrapAdmin } from '../src/index.ts';
import type { AppContext } from '../src/context.ts';
import { openTestStore, resetStore } from '../../../packages/clickhouse/test/fixtures.ts';
import { row as baseRow } from '../../../packages/core/test/fixtures.ts';

export const ADMIN_TOKEN = 'test-bootstrap-token-0123456789';
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
      ctx.accounts.clear();
      await ensureBootstrapAdmin(ctx, ADMIN_TOKEN);
    },
  };
}

export interface Res<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = any>(
  f: ApiFixture,
  method: string,
  path: string,
  opts: { token?: string | null; body?: unknown; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<Res<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(f.url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Creates a quaylogs user with grants and returns their bearer token. */
export async function userWithToken(
  f: ApiFixture,
  username: string,
  grants: { organizations?: string[]; repositories?: string[] } = {},
  superuser = false,
): Promise<string> {
  const created = await call(f, 'POST', '/api/v1/superuser/users', { body: { username, email: `${username}@example.com`, superuser } });
  if (created.status !== 201) throw new Error(`create user ${username}: ${created.status} ${JSON.stringify(created.body)}`);
  const g = await call(f, 'PUT', `/api/v1/superuser/users/${username}/grants`, { body: grants });
  if (g.status !== 200) throw new Error(`grants ${username}: ${g.status}`);
  const t = await call(f, 'POST', `/api/v1/superuser/users/${username}/apptoken`, { body: { title: 'test' } });
  if (t.status !== 200) throw new Error(`token ${username}: ${t.status}`);
  return t.body.token.token_code;
}

let keySeq = 1000n;
export function logRow(over: Partial<UsageLogRow> = {}): UsageLogRow {
  keySeq += 1n;
  return baseRow({
    source: 'test',
    namespace: 'acme',
    repository: 'web',
    kind: 'pull_repo',
    performer: 'alice',
    ip: '10.0.0.1',
    datetime: '2024-06-18 18:59:13.000',
    event_key: keySeq.toString(),
    ...over,
  });
}

export async function seed(f: ApiFixture, rows: UsageLogRow[], accounts: AccountInfo[] = []): Promise<void> {
  for (let i = 0; i < rows.length; i += 50_000) await insertUsageLogs(f.store, rows.slice(i, i + 50_000));
  if (accounts.length) await upsertAccounts(f.store, 'test', accounts);
}

/** MM/DD/YYYY of a Date (UTC). */
export function mdy(d: Date): string {
  return `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/${d.getUTCFullYear()}`;
}

/** Quay's ApiException body as a client sees it, written out independently of the code under test. */
function quayErrorBody(base: string, errorType: string, detail: string, status: number) {
  return { detail, error_message: detail, error_type: errorType, title: errorType, type: `${base}/api/v1/error/${errorType}`, status };
}

/** 401 for a request without a valid token. */
export const requiresAuthentication = (f: ApiFixture) => quayErrorBody(f.url, 'invalid_token', 'Requires authentication', 401);
/** 403 for a caller without the right. */
export const unauthorized = (f: ApiFixture) => quayErrorBody(f.url, 'insufficient_scope', 'Unauthorized', 403);
/** 404 (base: the server's `scheme://host`). */
export const notFoundBody = (f: ApiFixture | string) => quayErrorBody(typeof f === 'string' ? f : f.url, 'not_found', 'Not Found', 404);
