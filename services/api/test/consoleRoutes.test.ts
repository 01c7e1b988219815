/**
 * The API routes the console reads (issue 11): Quay's global messages, GET /api/v1/user/,
 * top-N and heat map from the rollups, the superuser's user list and the export list.
 * Each over real HTTP against the real embedded ClickHouse; permissions as Quay's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiFixture, call, logRow, requiresAuthentication, seed, startApi, unauthorized, userWithToken } from './fixtures.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('console routes', () => {
  let f: ApiFixture;
  let alice: string;
  beforeAll(async () => {
    f = await startApi();
    alice = await userWithToken(f, 'alice', { organizations: ['acme'] });
    await seed(f, [
      // 2024-06-17 is a Monday: 3 entries at 10:xx, 1 at 11:xx.
      logRow({ datetime: '2024-06-17 10:00:00.000', repository: 'web', performer: 'bob' }),
      logRow({ datetime: '2024-06-17 10:30:00.000', repository: 'web', performer: 'bob' }),
      logRow({ datetime: '2024-06-17 10:45:00.000', repository: 'api', performer: 'acme+ci' }),
      logRow({ datetime: '2024-06-17 11:00:00.000', repository: 'web', performer: 'carol', kind: 'push_repo' }),
      logRow({ namespace: 'other', datetime: '2024-06-18 09:00:00.000', repository: 'x', performer: 'dave' }),
    ]);
  });
  afterAll(async () => f.close());

  it("keeps Quay's global messages: anyone lists them, superusers create (201, empty body) and delete (204)", async () => {
    expect((await call(f, 'GET', '/api/v1/messages', { token: null })).body).toEqual({ messages: [] });
    const created = await call(f, 'POST', '/api/v1/messages', { body: { message: { content: 'Hi **there**', media_type: 'text/markdown', severity: 'warning' } } });
    expect(created.status).toBe(201);
    expect(created.body).toBe(null);
    const list = await call(f, 'GET', '/api/v1/messages', { token: alice });
    expect(list.body.messages).toEqual([{ uuid: expect.stringMatching(UUID), content: 'Hi **there**', severity: 'warning', media_type: 'text/markdown' }]);
    const uuid = list.body.messages[0].uuid;
    expect((await call(f, 'DELETE', `/api/v1/message/${uuid}`, { token: alice })).body).toEqual(unauthorized(f));
    expect((await call(f, 'DELETE', `/api/v1/message/${uuid}`)).status).toBe(204);
    expect((await call(f, 'DELETE', `/api/v1/message/${uuid}`)).status).toBe(204); // Quay: already gone is fine
    expect((await call(f, 'GET', '/api/v1/messages')).body).toEqual({ messages: [] });
  });

  it('refuses bad messages with a 400 and non-superusers with a 403, storing nothing', async () => {
    for (const message of [{ content: 'x', media_type: 'text/html', severity: 'info' }, { content: 'x', media_type: 'text/plain', severity: 'fatal' }, { content: '', media_type: 'text/plain', severity: 'info' }, { media_type: 'text/plain', severity: 'info' }]) {
      const res = await call(f, 'POST', '/api/v1/messages', { body: { message } });
      expect(res.status).toBe(400);
      expect(res.body.error_type).toBe('invalid_request');
    }
    expect((await call(f, 'POST', '/api/v1/messages', { token: alice, body: { message: { content: 'x', media_type: 'text/plain', severity: 'info' } } })).body).toEqual(unauthorized(f));
    expect((await call(f, 'POST', '/api/v1/messages', { token: null, body: { message: { content: 'x', media_type: 'text/plain', severity: 'info' } } })).body).toEqual(requiresAuthentication(f));
    expect((await call(f, 'GET', '/api/v1/messages')).body).toEqual({ messages: [] });
  });

  it('tells the caller who they are and which organizations they administer', async () => {
    const me = await call(f, 'GET', '/api/v1/user/', { token: alice });
    expect(me.body).toMatchObject({ anonymous: false, username: 'alice', email: 'alice@example.com', super_user: false, organizations: [{ name: 'acme', is_org_admin: true }], repositories: [] });
    expect((await call(f, 'GET', '/api/v1/user/')).body).toMatchObject({ username: 'admin', super_user: true });
    expect((await call(f, 'GET', '/api/v1/user/', { token: 'nope' })).body).toEqual(requiresAuthentication(f));
  });

  it('ranks repositories and performers of an organization from the rollups, and everything for superusers', async () => {
    const q = 'starttime=06/17/2024&endtime=06/18/2024';
    const repos = await call(f, 'GET', `/api/v1/organization/acme/toplogs?by=repository&${q}`, { token: alice });
    expect(repos.body.top).toEqual([{ name: 'web', count: 3 }, { name: 'api', count: 1 }]);
    const perf = await call(f, 'GET', `/api/v1/organization/acme/toplogs?by=performer&${q}&limit=2`, { token: alice });
    expect(perf.body.top).toEqual([{ name: 'bob', count: 2 }, { name: 'acme+ci', count: 1 }]);
    const repoPerf = await call(f, 'GET', `/api/v1/repository/acme/web/toplogs?by=performer&${q}`, { token: alice });
    expect(repoPerf.body.top).toEqual([{ name: 'bob', count: 2 }, { name: 'carol', count: 1 }]);
    const ns = await call(f, 'GET', `/api/v1/superuser/toplogs?by=namespace&${q}`);
    expect(ns.body.top).toEqual([{ name: 'acme', count: 4 }, { name: 'other', count: 1 }]);
    const allRepos = await call(f, 'GET', `/api/v1/superuser/toplogs?by=repository&${q}`);
    expect(allRepos.body.top).toEqual([{ name: 'acme/web', count: 3 }, { name: 'acme/api', count: 1 }, { name: 'other/x', count: 1 }]);
    expect((await call(f, 'GET', `/api/v1/organization/other/toplogs?by=repository&${q}`, { token: alice })).body).toEqual(unauthorized(f));
    expect((await call(f, 'GET', `/api/v1/superuser/toplogs?by=namespace&${q}`, { token: alice })).body).toEqual(unauthorized(f));
    for (const bad of ['by=namespace', 'by=kind', '', 'by=performer&limit=0', 'by=performer&limit=abc']) {
      const res = await call(f, 'GET', `/api/v1/organization/acme/toplogs?${bad}&${q}`, { token: alice });
      expect(res.status).toBe(400);
    }
  });

  it('counts entries per UTC day of week and hour', async () => {
    const res = await call(f, 'GET', '/api/v1/organization/acme/logheatmap?starttime=06/17/2024&endtime=06/18/2024', { token: alice });
    expect(res.body.cells).toEqual([
      { dow: 1, hour: 10, count: 3 },
      { dow: 1, hour: 11, count: 1 },
    ]);
    expect((await call(f, 'GET', '/api/v1/organization/acme/logheatmap?starttime=06/18/2024&endtime=06/16/2024', { token: alice })).status).toBe(400);
  });

  it('lists quaylogs users with their grants to superusers only', async () => {
    const res = await call(f, 'GET', '/api/v1/superuser/users/');
    expect(res.body.users.map((u: any) => [u.username, u.super_user, u.organizations])).toEqual([
      ['admin', true, []],
      ['alice', false, ['acme']],
    ]);
    expect((await call(f, 'GET', '/api/v1/superuser/users/', { token: alice })).body).toEqual(unauthorized(f));
  });

  it('counts entries per source and day for the pipeline sparklines (superusers only)', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await seed(f, [logRow({ source: 'prod', datetime: `${today} 01:00:00.000` }), logRow({ source: 'prod', datetime: `${yesterday} 01:00:00.000` }), logRow({ source: 'prod', datetime: `${yesterday} 02:00:00.000` })]);
    const res = await call(f, 'GET', '/api/v1/superuser/sourcedaily?days=2');
    // (the `quaylogs` source holds this suite's own audit entries: user and token creation)
    expect(res.body.days.filter((d: any) => d.source === 'prod')).toEqual([
      { source: 'prod', day: yesterday, count: 2 },
      { source: 'prod', day: today, count: 1 },
    ]);
    expect((await call(f, 'GET', '/api/v1/superuser/sourcedaily', { token: alice })).body).toEqual(unauthorized(f));
    expect((await call(f, 'GET', '/api/v1/superuser/sourcedaily?days=0')).status).toBe(400);
  });

  it('filters logs, aggregates, rankings and the heat map by source, and ranks the sources', async () => {
    await seed(f, [logRow({ source: 'mirror', namespace: 'acme', datetime: '2024-06-17 10:10:00.000', performer: 'erin' })]);
    const q = 'starttime=06/17/2024&endtime=06/18/2024';
    const sources = await call(f, 'GET', `/api/v1/organization/acme/toplogs?by=source&${q}`, { token: alice });
    expect(sources.body.top).toEqual([{ name: 'test', count: 4 }, { name: 'mirror', count: 1 }]);
    const logs = await call(f, 'GET', `/api/v1/organization/acme/logs?${q}&source=mirror`, { token: alice });
    expect(logs.body.logs.map((l: any) => l.performer.name)).toEqual(['erin']);
    const agg = await call(f, 'GET', `/api/v1/organization/acme/aggregatelogs?${q}&source=mirror`, { token: alice });
    expect(agg.body.aggregated.map((a: any) => a.count)).toEqual([1]);
    const perf = await call(f, 'GET', `/api/v1/organization/acme/toplogs?by=performer&${q}&source=test`, { token: alice });
    expect(perf.body.top.map((r: any) => r.name)).not.toContain('erin');
    const heat = await call(f, 'GET', `/api/v1/organization/acme/logheatmap?${q}&source=mirror`, { token: alice });
    expect(heat.body.cells).toEqual([{ dow: 1, hour: 10, count: 1 }]);
  });

  it('lists no exports when none were requested, and refuses a bad limit', async () => {
    expect((await call(f, 'GET', '/api/v1/exportlogs', { token: alice })).body).toEqual({ exports: [] });
    expect((await call(f, 'GET', '/api/v1/exportlogs?limit=1000')).status).toBe(400);
  });

  it('lists the new routes in discovery', async () => {
    const doc = await call(f, 'GET', '/api/v1/discovery', { token: null });
    for (const path of ['/api/v1/messages', '/api/v1/message/{uuid}', '/api/v1/user/', '/api/v1/organization/{orgname}/toplogs', '/api/v1/repository/{repository}/logheatmap', '/api/v1/exportlogs']) {
      expect(Object.keys(doc.body.paths)).toContain(path);
    }
  });
});
