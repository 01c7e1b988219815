/**
 * App-specific tokens (docs/compatibility.md) for the calling user, and the superuser's user
 * management surface (issue 2 "Access"). Tokens are stored hashed.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putAppToken } from '@quaylogs/clickhouse';
import { toChDateTime } from '@quaylogs/core';
import { type ApiFixture, ADMIN_TOKEN, call, startApi, userWithToken, notFoundBody, requiresAuthentication } from './fixtures.ts';

const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} -0000$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('/api/v1/user/apptoken', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    // Audit entries on the path production takes: the ingest stream, then the loader.
    f = await startApi({}, {}, { auditThroughStream: true });
  });
  afterAll(async () => f.close());

  it("creates a token with Quay's fields: a 120-character [A-Z0-9] code, RFC-2822 created, no expiry by default; the new code authenticates", async () => {
    const alice = await userWithToken(f, 'alice1');
    const before = Date.now();
    const res = await call(f, 'POST', '/api/v1/user/apptoken', { token: alice, body: { title: 'my laptop' } });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['token']);
    const t = res.body.token;
    expect(Object.keys(t)).toEqual(['uuid', 'title', 'last_accessed', 'created', 'expiration', 'token_code']);
    expect(t).toEqual({
      uuid: expect.stringMatching(UUID),
      title: 'my laptop',
      last_accessed: null,
      created: expect.stringMatching(RFC2822),
      expiration: null,
      token_code: expect.stringMatching(/^[A-Z0-9]{120}$/),
    });
    const created = Date.parse(t.created);
    expect(created).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(created).toBeLessThanOrEqual(Date.now());

    const me = await call(f, 'GET', '/api/v1/user/apptoken', { token: t.token_code });
    expect(me.status).toBe(200);
    expect(me.body.tokens.map((x: any) => x.title).sort()).toEqual(['my laptop', 'test']);
  });

  it('lists only the caller’s tokens, without token_code, and echoes only_expiring (null when not asked)', async () => {
    const alice = await userWithToken(f, 'alice2');
    await userWithToken(f, 'bob2');
    await call(f, 'POST', '/api/v1/user/apptoken', { token: alice, body: { title: 'second' } });
    const res = await call(f, 'GET', '/api/v1/user/apptoken', { token: alice });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['tokens', 'only_expiring']);
    expect(res.body.only_expiring).toBeNull();
    expect(res.body.tokens).toHaveLength(2);
    for (const t of res.body.tokens) {
      expect(Object.keys(t)).toEqual(['uuid', 'title', 'last_accessed', 'created', 'expiration']);
      expect(t).not.toHaveProperty('token_code');
      expect(t.created).toMatch(RFC2822);
    }
    expect(res.body.tokens.map((t: any) => t.title).sort()).toEqual(['second', 'test']);
    expect(JSON.stringify(res.body)).not.toContain(alice);

    const expiring = await call(f, 'GET', '/api/v1/user/apptoken?expiring=true', { token: alice });
    expect(expiring.body).toEqual({ tokens: [], only_expiring: true });
    const notExpiring = await call(f, 'GET', '/api/v1/user/apptoken?expiring=false', { token: alice });
    expect(notExpiring.body.only_expiring).toBe(false);
    expect(notExpiring.body.tokens).toHaveLength(2);
  });

  it("reads `expiring` as Quay's truthy_bool does: anything but false/False/FALSE/0/null/empty is true", async () => {
    const alice = await userWithToken(f, 'alice3');
    for (const v of ['true', 'True', '1', 'yes', 'on']) {
      const res = await call(f, 'GET', `/api/v1/user/apptoken?expiring=${v}`, { token: alice });
      expect([v, res.body.only_expiring]).toEqual([v, true]);
    }
    for (const v of ['false', 'False', 'FALSE', '0', 'null', '']) {
      const res = await call(f, 'GET', `/api/v1/user/apptoken?expiring=${v}`, { token: alice });
      expect([v, res.body.only_expiring]).toEqual([v, false]);
      expect(res.body.tokens).toHaveLength(1);
    }
  });

  it('?expiring=true lists the tokens that expire within 10 % of the lifetime (4 weeks when unset), not expired ones nor far ones', async () => {
    const alice = await userWithToken(f, 'alice4');
    const mk = async (title: string) => (await call(f, 'POST', '/api/v1/user/apptoken', { token: alice, body: { title } })).body.token.uuid as string;
    const soon = await mk('soon');
    const gone = await mk('gone');
    const later = await mk('later');
    // Give the tokens expirations straight in the store (the API makes tokens without one by default).
    const rows = await f.store.query<any>({
      name: 't',
      sql: `SELECT uuid, username, title, token_hash, code_sealed, toString(created) AS created FROM app_tokens FINAL WHERE username = 'alice4'`,
    });
    const at = (ms: number) => toChDateTime(new Date(Date.now() + ms));
    const expiry: Record<string, string> = { [soon]: at(86_400_000), [gone]: at(-60_000), [later]: at(10 * 86_400_000) };
    for (const r of rows) if (expiry[r.uuid]) await putAppToken(f.store, { ...r, expiration: expiry[r.uuid] });

    const res = await call(f, 'GET', '/api/v1/user/apptoken?expiring=true', { token: alice });
    expect(res.body.only_expiring).toBe(true);
    expect(res.body.tokens.map((t: any) => t.title)).toEqual(['soon']);
    expect(res.body.tokens[0].expiration).toMatch(RFC2822);
    const all = await call(f, 'GET', '/api/v1/user/apptoken', { token: alice });
    expect(all.body.tokens.map((t: any) => t.title).sort()).toEqual(['gone', 'later', 'soon', 'test']);
  });

  it('shows token_code on get-one; another user’s token and an unknown uuid are 404 not_found', async () => {
    const alice = await userWithToken(f, 'alice5');
    const bob = await userWithToken(f, 'bob5');
    const made = (await call(f, 'POST', '/api/v1/user/apptoken', { token: alice, body: { title: 'ci' } })).body.token;
    const one = await call(f, 'GET', `/api/v1/user/apptoken/${made.uuid}`, { token: alice });
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ token: made });

    for (const [token, uuid] of [
      [bob, made.uuid],
      [ADMIN_TOKEN, made.uuid],
      [alice, '00000000-0000-0000-0000-000000000000'],
      [alice, 'not-a-uuid'],
    ] as const) {
      const res = await call(f, 'GET', `/api/v1/user/apptoken/${uuid}`, { token });
      expect(res.status).toBe(404);
      expect(res.body).toEqual(notFoundBody(f));
    }
    const anon = await call(f, 'GET', `/api/v1/user/apptoken/${made.uuid}`, { token: null });
    expect(anon.status).toBe(401);
    expect(anon.body).toEqual(requiresAuthentication(f));
  });

  it('using a token records last_accessed (RFC-2822)', async () => {
    const alice = await userWithToken(f, 'alice6');
    let last: string | null = null;
    for (let i = 0; i < 100 && !last; i++) {
      const res = await call(f, 'GET', '/api/v1/user/apptoken', { token: alice });
      last = res.body.tokens[0].last_accessed;
      if (!last) await new Promise((r) => setTimeout(r, 50));
    }
    expect(last).toMatch(RFC2822);
  });

  it('revoking answers 204 with an empty body; the token then gets 401 and a second revoke is 404; another user cannot revoke it', async () => {
    const alice = await userWithToken(f, 'alice7');
    const bob = await userWithToken(f, 'bob7');
    const made = (await call(f, 'POST', '/api/v1/user/apptoken', { token: alice, body: { title: 'doomed' } })).body.token;
    expect((await call(f, 'GET', '/api/v1/user/logs', { token: made.token_code })).status).toBe(200);

    const foreign = await call(f, 'DELETE', `/api/v1/user/apptoken/${made.uuid}`, { token: bob });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(notFoundBody(f));
    expect((await call(f, 'GET', '/api/v1/user/logs', { token: made.token_code })).status).toBe(200);

    const del = await call(f, 'DELETE', `/api/v1/user/apptoken/${made.uuid}`, { token: alice });
    expect(del.status).toBe(204);
    expect(del.body).toBeNull();

    const after = await call(f, 'GET', '/api/v1/user/logs', { token: made.token_code });
    expect(after.status).toBe(401);
    expect(after.body).toEqual(requiresAuthentication(f));
    // revoking with the revoked token itself is unauthenticated
    expect((await call(f, 'DELETE', `/api/v1/user/apptoken/${made.uuid}`, { token: made.token_code })).status).toBe(401);

    const again = await call(f, 'DELETE', `/api/v1/user/apptoken/${made.uuid}`, { token: alice });
    expect(again.status).toBe(404);
    expect(again.body).toEqual(notFoundBody(f));
    expect((await call(f, 'GET', `/api/v1/user/apptoken/${made.uuid}`, { token: alice })).status).toBe(404);
    const list = await call(f, 'GET', '/api/v1/user/apptoken', { token: alice });
    expect(list.body.tokens.map((t: any) => t.title)).toEqual(['test']);
  });

  it('a token can revoke itself', async () => {
    const alice = await userWithToken(f, 'alice8');
    const uuid = (await call(f, 'GET', '/api/v1/user/apptoken', { token: alice })).body.tokens[0].uuid;
    expect((await call(f, 'DELETE', `/api/v1/user/apptoken/${uuid}`, { token: alice })).status).toBe(204);
    expect((await call(f, 'GET', '/api/v1/user/apptoken', { token: alice })).status).toBe(401);
  });

  it('rejects a create without a title with 400 invalid_request, creating nothing', async () => {
    const alice = await userWithToken(f, 'alice9');
    for (const body of [{}, { title: 5 }, { name: 'x' }]) {
      const res = await call(f, 'POST', '/api/v1/user/apptoken', { token: alice, body });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error_type: 'invalid_request',
        title: 'invalid_request',
        type: `${f.url}/api/v1/error/invalid_request`,
        status: 400,
      });
      expect(Object.keys(res.body)).toEqual(['detail', 'error_message', 'error_type', 'title', 'type', 'status']);
      expect(res.body.detail).toContain('title');
      expect(res.body.error_message).toBe(res.body.detail);
    }
    const list = await call(f, 'GET', '/api/v1/user/apptoken', { token: alice });
    expect(list.body.tokens).toHaveLength(1);
    const anon = await call(f, 'POST', '/api/v1/user/apptoken', { token: null, body: { title: 'x' } });
    expect(anon.status).toBe(401);
    expect(anon.body).toEqual(requiresAuthentication(f));
  });

  it("writes Quay's create_app_specific_token / revoke_app_specific_token entries, visible in the user's own logs with the user as performer", async () => {
    const alice = await userWithToken(f, 'alice10');
    const made = (await call(f, 'POST', '/api/v1/user/apptoken', { token: alice, body: { title: 'audited' } })).body.token;
    await call(f, 'DELETE', `/api/v1/user/apptoken/${made.uuid}`, { token: alice });
    await f.auditStored();
    const logs = await call(f, 'GET', '/api/v1/user/logs', { token: alice });
    expect(logs.status).toBe(200);
    const mine = logs.body.logs.filter((l: any) => l.metadata.app_specific_token === made.uuid);
    expect(mine.map((l: any) => l.kind)).toEqual(['revoke_app_specific_token', 'create_app_specific_token']);
    for (const l of mine) {
      expect(l.metadata).toEqual({ app_specific_token_title: 'audited', app_specific_token: made.uuid });
      expect(l.performer).toMatchObject({ kind: 'user', name: 'alice10', is_robot: false });
      expect(l.performer.avatar).toMatchObject({ name: 'alice10', kind: 'user' });
      expect(l.ip).toBe('127.0.0.1');
      expect(l.datetime).toMatch(RFC2822);
      expect(Object.keys(l)).toEqual(['kind', 'metadata', 'ip', 'datetime', 'performer']);
    }
    // The token the superuser made for alice is audited too, under alice's namespace.
    expect(logs.body.logs.filter((l: any) => l.kind === 'create_app_specific_token').map((l: any) => l.metadata.app_specific_token_title).sort()).toEqual(['audited', 'test']);
    // Nobody's token code ever lands in the logs.
    expect(JSON.stringify(logs.body)).not.toContain(made.token_code);
    expect(JSON.stringify(logs.body)).not.toContain(alice);
    // The aggregate agrees.
    const agg = await call(f, 'GET', '/api/v1/user/aggregatelogs', { token: alice });
    const counts = Object.fromEntries(agg.body.aggregated.map((a: any) => [a.kind, a.count]));
    expect(counts).toEqual({ create_app_specific_token: 2, revoke_app_specific_token: 1 });
  });

  it('stores only a hash of each token: no column of app_tokens holds a plaintext token code', async () => {
    const alice = await userWithToken(f, 'alice11');
    const made = (await call(f, 'POST', '/api/v1/user/apptoken', { token: alice, body: { title: 'x' } })).body.token;
    const rows = await f.store.query<Record<string, unknown>>({ name: 't', sql: 'SELECT * FROM app_tokens' });
    expect(rows.length).toBeGreaterThanOrEqual(3);
    const dump = JSON.stringify(rows);
    for (const code of [ADMIN_TOKEN, alice, made.token_code]) {
      expect(dump).not.toContain(code);
      expect(dump.toLowerCase()).not.toContain(code.toLowerCase());
    }
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const hashes = rows.map((r) => r.token_hash);
    expect(hashes).toContain(sha(ADMIN_TOKEN));
    expect(hashes).toContain(sha(made.token_code));
    const sqlView = await call(f, 'POST', '/api/v1/superuser/sql', { body: { query: 'SELECT * FROM app_tokens' } });
    expect(sqlView.status).toBe(200);
    expect(JSON.stringify(sqlView.body)).not.toContain(ADMIN_TOKEN);
  });
});

describe('QUAYLOGS_APPTOKEN_TTL=30d', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await startApi({ QUAYLOGS_APPTOKEN_TTL: '30d' });
  });
  afterAll(async () => f.close());

  it('gives new tokens an expiration 30 days after created, shown in create, get-one and list', async () => {
    const alice = await userWithToken(f, 'alice12');
    const made = (await call(f, 'POST', '/api/v1/user/apptoken', { token: alice, body: { title: 'month' } })).body.token;
    expect(made.expiration).toMatch(RFC2822);
    const delta = Date.parse(made.expiration) - Date.parse(made.created);
    expect(Math.abs(delta - 30 * 86_400_000)).toBeLessThanOrEqual(1000);
    const one = await call(f, 'GET', `/api/v1/user/apptoken/${made.uuid}`, { token: alice });
    expect(one.body.token.expiration).toBe(made.expiration);
    const list = await call(f, 'GET', '/api/v1/user/apptoken', { token: alice });
    expect(list.body.tokens.find((t: any) => t.uuid === made.uuid).expiration).toBe(made.expiration);
    // 30 days away is not "expiring soon" (window: 10 % of 30 days = 3 days)
    const soon = await call(f, 'GET', '/api/v1/user/apptoken?expiring=true', { token: alice });
    expect(soon.body).toEqual({ tokens: [], only_expiring: true });
  });
});

describe('superuser user management', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await startApi();
  });
  afterAll(async () => f.close());

  it('POST /api/v1/superuser/users creates a user (201); the same username again is 400 invalid_request', async () => {
    const res = await call(f, 'POST', '/api/v1/superuser/users', { body: { username: 'dana', email: 'dana@example.com' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ username: 'dana', email: 'dana@example.com', superuser: false });
    const su = await call(f, 'POST', '/api/v1/superuser/users', { body: { username: 'root2', email: 'r@example.com', superuser: true } });
    expect(su.status).toBe(201);
    expect(su.body.superuser).toBe(true);

    const dup = await call(f, 'POST', '/api/v1/superuser/users', { body: { username: 'dana', email: 'other@example.com', superuser: true } });
    expect(dup.status).toBe(400);
    expect(dup.body).toMatchObject({ error_type: 'invalid_request', title: 'invalid_request', status: 400 });
    expect(dup.body.detail).toContain('dana');
    // the duplicate did not turn dana into a superuser
    const rows = await f.store.query<any>({ name: 't', sql: "SELECT email, superuser FROM users FINAL WHERE username = 'dana'" });
    expect(rows).toEqual([{ email: 'dana@example.com', superuser: 0 }]);
    const bootstrapAgain = await call(f, 'POST', '/api/v1/superuser/users', { body: { username: 'admin', email: 'x@example.com' } });
    expect(bootstrapAgain.status).toBe(400);
  });

  it('rejects bad usernames and e-mails with 400 invalid_request and creates nobody', async () => {
    const bad: unknown[] = [
      { username: 'Gil', email: 'gil@example.com' },
      { username: 'g il', email: 'gil@example.com' },
      { username: '', email: 'gil@example.com' },
      { username: '-gil', email: 'gil@example.com' },
      { username: 'ns/gil', email: 'gil@example.com' },
      { username: 'gil+robot', email: 'gil@example.com' },
      { username: 'x'.repeat(300), email: 'gil@example.com' },
      { username: 'gil', email: 'not-an-email' },
      { username: 'gil', email: '' },
      { username: 'gil', email: 'a b@example.com' },
      { username: 'gil' },
      { email: 'gil@example.com' },
      { username: 'gil', email: 'gil@example.com', superuser: 'yes' },
      { username: 'gil', email: 'gil@example.com', role: 'admin' },
      { username: 7, email: 'gil@example.com' },
    ];
    for (const body of bad) {
      const res = await call(f, 'POST', '/api/v1/superuser/users', { body });
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
      expect(res.body).toMatchObject({ error_type: 'invalid_request', title: 'invalid_request', status: 400 });
    }
    const rows = await f.store.query<any>({ name: 't', sql: "SELECT username FROM users FINAL WHERE positionCaseInsensitive(username, 'gil') > 0" });
    expect(rows).toEqual([]);
  });

  it('PUT grants for an unknown user is 404 not_found; for a known user it answers the stored grants', async () => {
    const res = await call(f, 'PUT', '/api/v1/superuser/users/nobody/grants', { body: { organizations: ['acme'] } });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(notFoundBody(f));
    const tok = await call(f, 'POST', '/api/v1/superuser/users/nobody/apptoken', { body: { title: 'x' } });
    expect(tok.status).toBe(404);
    expect(tok.body).toEqual(notFoundBody(f));

    await call(f, 'POST', '/api/v1/superuser/users', { body: { username: 'erin', email: 'erin@example.com' } });
    const ok = await call(f, 'PUT', '/api/v1/superuser/users/erin/grants', {
      body: { organizations: ['acme', 'acme'], repositories: ['acme/web'] },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ username: 'erin', organizations: ['acme'], repositories: ['acme/web'] });
    const badRepo = await call(f, 'PUT', '/api/v1/superuser/users/erin/grants', { body: { repositories: ['no-slash'] } });
    expect(badRepo.status).toBe(400);
  });

  it('a superuser-made token answers like the create route and belongs to that user', async () => {
    await call(f, 'POST', '/api/v1/superuser/users', { body: { username: 'fay', email: 'fay@example.com' } });
    const res = await call(f, 'POST', '/api/v1/superuser/users/fay/apptoken', { body: { title: 'bot' } });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.token)).toEqual(['uuid', 'title', 'last_accessed', 'created', 'expiration', 'token_code']);
    expect(res.body.token.token_code).toMatch(/^[A-Z0-9]{120}$/);
    const mine = await call(f, 'GET', '/api/v1/user/apptoken', { token: res.body.token.token_code });
    expect(mine.body.tokens.map((t: any) => t.uuid)).toEqual([res.body.token.uuid]);
    const admins = await call(f, 'GET', '/api/v1/user/apptoken');
    expect(admins.body.tokens.map((t: any) => t.uuid)).not.toContain(res.body.token.uuid);
  });
});
