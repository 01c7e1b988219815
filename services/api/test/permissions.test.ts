/**
 * Who may read which logs (docs/compatibility.md): Quay's rules — a user reads
 * their own namespace, organization admins their organizations, repository admins their
 * repositories — plus quaylogs' "superusers read everything"; 401 without a valid token,
 * 403 without the right, each with Quay's exact error body.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ApiFixture, ADMIN_TOKEN, call, logRow, seed, startApi, userWithToken, requiresAuthentication, unauthorized, notFoundBody } from './fixtures.ts';

const DAY = 'starttime=06/18/2024&endtime=06/18/2024';

/** The eight logs/aggregatelogs routes, for namespace `ns` and repository `ns/repo`. */
function logRoutes(ns: string, repo: string): string[] {
  return [
    `/api/v1/user/logs?${DAY}`,
    `/api/v1/user/aggregatelogs?${DAY}`,
    `/api/v1/organization/${ns}/logs?${DAY}`,
    `/api/v1/organization/${ns}/aggregatelogs?${DAY}`,
    `/api/v1/repository/${ns}/${repo}/logs?${DAY}`,
    `/api/v1/repository/${ns}/${repo}/aggregatelogs?${DAY}`,
    `/api/v1/superuser/logs?${DAY}`,
    `/api/v1/superuser/aggregatelogs?${DAY}`,
  ];
}

/** Calls every path with the given Authorization header (or none) and returns [path, status] pairs plus bodies. */
async function sweep(f: ApiFixture, paths: string[], headers: Record<string, string>) {
  const out: { path: string; status: number; body: any; contentType: string | null }[] = [];
  for (const path of paths) {
    const res = await call(f, 'GET', path, { token: null, headers });
    out.push({ path, status: res.status, body: res.body, contentType: res.headers.get('content-type') });
  }
  return out;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('logs routes × callers', () => {
  let f: ApiFixture;
  const tokens: Record<string, string> = {};
  let revokedToken = '';

  beforeAll(async () => {
    f = await startApi();
    await seed(
      f,
      [
        logRow({ namespace: 'acme', repository: 'web', kind: 'pull_repo', performer: 'pete', datetime: '2024-06-18 10:00:00.000' }),
        logRow({ namespace: 'acme', repository: 'web', kind: 'push_repo', performer: 'oscar', datetime: '2024-06-18 11:00:00.000' }),
        logRow({ namespace: 'acme', repository: 'api', kind: 'push_repo', performer: 'oscar', datetime: '2024-06-18 12:00:00.000' }),
        logRow({ namespace: 'carol', repository: 'tools', kind: 'pull_repo', performer: 'carol', datetime: '2024-06-18 13:00:00.000' }),
        logRow({ namespace: 'carol', repository: '', kind: 'service_key_create', performer: 'carol', datetime: '2024-06-18 14:00:00.000' }),
        logRow({ namespace: 'pete', repository: 'misc', kind: 'pull_repo', performer: 'pete', datetime: '2024-06-18 15:00:00.000' }),
      ],
      [{ name: 'acme', kind: 'org', email: null }],
    );
    tokens.carol = await userWithToken(f, 'carol');
    tokens.oscar = await userWithToken(f, 'oscar', { organizations: ['acme'] });
    tokens.rita = await userWithToken(f, 'rita', { repositories: ['acme/web'] });
    tokens.pete = await userWithToken(f, 'pete');
    tokens.sue = await userWithToken(f, 'sue', {}, true);
    // A token its owner revoked.
    const victim = await userWithToken(f, 'victor');
    const list = await call(f, 'GET', '/api/v1/user/apptoken', { token: victim });
    const del = await call(f, 'DELETE', `/api/v1/user/apptoken/${list.body.tokens[0].uuid}`, { token: victim });
    expect(del.status).toBe(204);
    revokedToken = victim;
  });
  afterAll(async () => f.close());

  const anonymousCallers: [string, () => Record<string, string>][] = [
    ['no Authorization header', () => ({})],
    ['a Basic Authorization header', () => ({ authorization: 'Basic dXNlcjpwYXNzd29yZA==' })],
    ['"Bearer" without a token', () => ({ authorization: 'Bearer' })],
    ['"Bearer" with two words', () => ({ authorization: `Bearer ${ADMIN_TOKEN} extra` })],
    ['a bare token without a scheme', () => ({ authorization: ADMIN_TOKEN })],
    ['an unknown token', () => bearer('Z'.repeat(120))],
    ['a revoked token', () => bearer(revokedToken)],
  ];

  for (const [who, headers] of anonymousCallers) {
    it(`a caller with ${who} gets 401 "Requires authentication" on all eight logs routes`, async () => {
      const results = await sweep(f, logRoutes('acme', 'web'), headers());
      expect(results.map((r) => [r.path, r.status])).toEqual(logRoutes('acme', 'web').map((p) => [p, 401]));
      for (const r of results) {
        expect(r.body).toEqual(requiresAuthentication(f));
        expect(Object.keys(r.body)).toEqual(['detail', 'error_message', 'error_type', 'title', 'type', 'status']);
        expect(r.contentType).toMatch(/^application\/json/);
      }
    });
  }

  // Expected status per route, in logRoutes order: user×2, organization×2, repository×2, superuser×2.
  const matrix: { who: string; caller: string; ns: string; repo: string; expect: number[] }[] = [
    { who: 'a user in their own namespace', caller: 'carol', ns: 'carol', repo: 'tools', expect: [200, 200, 200, 200, 200, 200, 403, 403] },
    { who: 'an organization admin', caller: 'oscar', ns: 'acme', repo: 'web', expect: [200, 200, 200, 200, 200, 200, 403, 403] },
    { who: 'a repository admin', caller: 'rita', ns: 'acme', repo: 'web', expect: [200, 200, 403, 403, 200, 200, 403, 403] },
    { who: 'another plain user', caller: 'pete', ns: 'acme', repo: 'web', expect: [200, 200, 403, 403, 403, 403, 403, 403] },
    { who: 'a superuser', caller: 'sue', ns: 'acme', repo: 'web', expect: [200, 200, 200, 200, 200, 200, 200, 200] },
    { who: 'the bootstrap superuser', caller: 'admin', ns: 'acme', repo: 'web', expect: [200, 200, 200, 200, 200, 200, 200, 200] },
  ];

  for (const row of matrix) {
    it(`${row.who} gets ${row.expect.join('/')} on user/org/repo/superuser logs+aggregatelogs, with Quay's 403 body when refused`, async () => {
      const token = row.caller === 'admin' ? ADMIN_TOKEN : tokens[row.caller]!;
      const paths = logRoutes(row.ns, row.repo);
      const results = await sweep(f, paths, bearer(token));
      expect(results.map((r) => [r.path, r.status])).toEqual(paths.map((p, i) => [p, row.expect[i]]));
      for (const r of results) {
        if (r.status === 403) expect(r.body).toEqual(unauthorized(f));
        if (r.status === 200) {
          const isAggregate = r.path.includes('/aggregatelogs');
          expect(Object.keys(r.body)).toEqual(isAggregate ? ['aggregated'] : ['start_time', 'end_time', 'logs']);
        }
      }
    });
  }

  it('an organization admin sees the organization’s entries, including every repository of it', async () => {
    const org = await call(f, 'GET', `/api/v1/organization/acme/logs?${DAY}`, { token: tokens.oscar });
    expect(org.body.logs.map((l: any) => l.kind)).toEqual(['push_repo', 'push_repo', 'pull_repo']);
    const api = await call(f, 'GET', `/api/v1/repository/acme/api/logs?${DAY}`, { token: tokens.oscar });
    expect(api.status).toBe(200);
    expect(api.body.logs).toHaveLength(1);
  });

  it('a repository admin reads only that repository: its sibling in the same organization is 403', async () => {
    const web = await call(f, 'GET', `/api/v1/repository/acme/web/logs?${DAY}`, { token: tokens.rita });
    expect(web.status).toBe(200);
    expect(web.body.logs.map((l: any) => l.kind)).toEqual(['push_repo', 'pull_repo']);
    for (const route of ['logs', 'aggregatelogs']) {
      const api = await call(f, 'GET', `/api/v1/repository/acme/api/${route}?${DAY}`, { token: tokens.rita });
      expect(api.status).toBe(403);
      expect(api.body).toEqual(unauthorized(f));
    }
  });

  it('a user reads /organization/<own username>/logs, and there the service-level kinds are not filtered out', async () => {
    const own = await call(f, 'GET', `/api/v1/organization/carol/logs?${DAY}`, { token: tokens.carol });
    expect(own.status).toBe(200);
    expect(own.body.logs.map((l: any) => l.kind)).toEqual(['service_key_create', 'pull_repo']);
    const user = await call(f, 'GET', `/api/v1/user/logs?${DAY}`, { token: tokens.carol });
    expect(user.body.logs.map((l: any) => l.kind)).toEqual(['pull_repo']);
    // …but not someone else's user namespace
    const other = await call(f, 'GET', `/api/v1/organization/pete/logs?${DAY}`, { token: tokens.carol });
    expect(other.status).toBe(403);
    expect(other.body).toEqual(unauthorized(f));
  });

  it('user logs are always the caller’s own namespace: no caller sees another namespace’s entries there', async () => {
    const pete = await call(f, 'GET', `/api/v1/user/logs?${DAY}`, { token: tokens.pete });
    expect(pete.body.logs).toHaveLength(1);
    expect(pete.body.logs[0].metadata).toEqual({});
    const oscar = await call(f, 'GET', `/api/v1/user/logs?${DAY}`, { token: tokens.oscar });
    expect(oscar.body.logs).toEqual([]);
    const agg = await call(f, 'GET', `/api/v1/user/aggregatelogs?${DAY}`, { token: tokens.pete });
    expect(agg.body.aggregated).toEqual([{ kind: 'pull_repo', count: 1, datetime: 'Tue, 18 Jun 2024 00:00:00 -0000' }]);
  });

  it('permission is checked before the repository exists: non-admins get 403 (or 401), admins get 404 not_found', async () => {
    for (const route of ['logs', 'aggregatelogs']) {
      const path = `/api/v1/repository/acme/missing/${route}?${DAY}`;
      const anon = await call(f, 'GET', path, { token: null });
      expect(anon.status).toBe(401);
      expect(anon.body).toEqual(requiresAuthentication(f));
      for (const caller of ['pete', 'rita']) {
        const res = await call(f, 'GET', path, { token: tokens[caller] });
        expect([caller, res.status]).toEqual([caller, 403]);
        expect(res.body).toEqual(unauthorized(f));
      }
      for (const token of [tokens.oscar!, tokens.sue!, ADMIN_TOKEN]) {
        const res = await call(f, 'GET', path, { token });
        expect(res.status).toBe(404);
        expect(res.body).toEqual(notFoundBody(f));
      }
    }
    // A repository of a namespace nobody administers: plain users 403, superuser 404.
    const ghost = `/api/v1/repository/ghost/nothing/logs?${DAY}`;
    expect((await call(f, 'GET', ghost, { token: tokens.oscar })).status).toBe(403);
    expect((await call(f, 'GET', ghost, { token: tokens.sue })).status).toBe(404);
  });

  it('superuser-only routes (logs, aggregatelogs, users, grants, apptoken management, sql) answer 401 anonymously and 403 to non-superusers, changing nothing', async () => {
    const requests: { method: string; path: string; body?: unknown }[] = [
      { method: 'GET', path: `/api/v1/superuser/logs?${DAY}` },
      { method: 'GET', path: `/api/v1/superuser/aggregatelogs?${DAY}` },
      { method: 'POST', path: '/api/v1/superuser/users', body: { username: 'mallory', email: 'mallory@example.com', superuser: true } },
      { method: 'PUT', path: '/api/v1/superuser/users/pete/grants', body: { organizations: ['acme'], repositories: ['acme/api'] } },
      { method: 'POST', path: '/api/v1/superuser/users/pete/apptoken', body: { title: 'sneaky' } },
      { method: 'POST', path: '/api/v1/superuser/sql', body: { query: 'SELECT count() AS n FROM app_tokens' } },
    ];
    for (const r of requests) {
      const anon = await call(f, r.method, r.path, { token: null, body: r.body });
      expect([r.method, r.path, anon.status]).toEqual([r.method, r.path, 401]);
      expect(anon.body).toEqual(requiresAuthentication(f));
      for (const caller of ['carol', 'oscar', 'rita', 'pete']) {
        const res = await call(f, r.method, r.path, { token: tokens[caller], body: r.body });
        expect([caller, r.method, r.path, res.status]).toEqual([caller, r.method, r.path, 403]);
        expect(res.body).toEqual(unauthorized(f));
      }
    }
    // Nothing changed: mallory does not exist, pete still administers nothing, has only his one token.
    const users = await f.store.query<{ n: string }>({ name: 't', sql: "SELECT count() AS n FROM users FINAL WHERE username = 'mallory'" });
    expect(users[0]!.n).toBe('0');
    const stillPlain = await call(f, 'GET', `/api/v1/organization/acme/logs?${DAY}`, { token: tokens.pete });
    expect(stillPlain.status).toBe(403);
    const peteTokens = await call(f, 'GET', '/api/v1/user/apptoken', { token: tokens.pete });
    expect(peteTokens.body.tokens.map((t: any) => t.title)).toEqual(['test']);
  });

  it('a superuser may use every superuser-only route', async () => {
    const sql = await call(f, 'POST', '/api/v1/superuser/sql', { token: tokens.sue, body: { query: "SELECT count() AS n FROM usage_logs WHERE namespace = 'acme'" } });
    expect(sql.status).toBe(200);
    expect(sql.body.rows).toEqual([{ n: '3' }]);
    const created = await call(f, 'POST', '/api/v1/superuser/users', { token: tokens.sue, body: { username: 'newbie', email: 'newbie@example.com' } });
    expect(created.status).toBe(201);
    const grants = await call(f, 'PUT', '/api/v1/superuser/users/newbie/grants', { token: tokens.sue, body: { repositories: ['acme/api'] } });
    expect(grants.status).toBe(200);
    const tok = await call(f, 'POST', '/api/v1/superuser/users/newbie/apptoken', { token: tokens.sue, body: { title: 'ci' } });
    expect(tok.status).toBe(200);
    const read = await call(f, 'GET', `/api/v1/repository/acme/api/logs?${DAY}`, { token: tok.body.token.token_code });
    expect(read.status).toBe(200);
    expect(read.body.logs).toHaveLength(1);
  });

  it('changing grants takes effect on the next request', async () => {
    const token = await userWithToken(f, 'grace');
    const path = `/api/v1/organization/acme/logs?${DAY}`;
    expect((await call(f, 'GET', path, { token })).status).toBe(403);
    await call(f, 'PUT', '/api/v1/superuser/users/grace/grants', { body: { organizations: ['acme'] } });
    expect((await call(f, 'GET', path, { token })).status).toBe(200);
    await call(f, 'PUT', '/api/v1/superuser/users/grace/grants', { body: { organizations: [] } });
    expect((await call(f, 'GET', path, { token })).status).toBe(403);
  });
});

describe('expired app tokens (QUAYLOGS_APPTOKEN_TTL=1h, the clock moved past it)', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await startApi({ QUAYLOGS_APPTOKEN_TTL: '1h' });
  });
  afterAll(async () => {
    vi.useRealTimers();
    await f.close();
  });

  it('a token past its expiration gets 401 "Requires authentication" on all eight routes; the bootstrap token does not expire', async () => {
    // The API runs in this process: a faked Date is its clock (time still flows; only the jump is made up).
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const token = await userWithToken(f, 'ephemeral', { organizations: ['acme'] });
    const fresh = await call(f, 'GET', `/api/v1/organization/acme/logs?${DAY}`, { token });
    expect(fresh.status).toBe(200);
    vi.setSystemTime(Date.now() + 3_600_000 + 2_000);
    const results = await sweep(f, logRoutes('acme', 'web'), bearer(token));
    expect(results.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401, 401, 401]);
    for (const r of results) expect(r.body).toEqual(requiresAuthentication(f));
    // The operator's QUAYLOGS_BOOTSTRAP_TOKEN is configuration, not an API-created token: it keeps working.
    const admin = await call(f, 'GET', `/api/v1/superuser/logs?${DAY}`);
    expect(admin.status).toBe(200);
  });
});
