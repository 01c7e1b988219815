/**
 * Response shapes of Quay's logs routes, as Quay renders them (docs/compatibility.md).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AVATAR_COLORS } from '@quaylogs/core';
import { type ApiFixture, call, logRow, seed, startApi } from './fixtures.ts';

let f: ApiFixture;
beforeAll(async () => {
  f = await startApi();
});
afterAll(async () => f.close());
beforeEach(async () => f.reset());

const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} -0000$/;

function expectedAvatar(name: string, email: string | null, kind: string) {
  const hash = createHash('sha256').update((email || name).trim().toLowerCase()).digest('hex');
  return { name, hash, color: AVATAR_COLORS[parseInt(hash.slice(0, 2), 16) % 32], kind };
}

describe('GET /api/v1/organization/{org}/logs', () => {
  it("renders entries exactly as Quay's log entry (kind, metadata, ip, datetime, performer with avatar)", async () => {
    await seed(
      f,
      [
        logRow({
          namespace: 'myorg',
          repository: 'busybox',
          kind: 'revert_tag',
          performer: 'quayuser',
          ip: '192.168.1.131',
          datetime: '2024-06-18 18:59:13.456',
          metadata: '{"username":"quayuser","repo":"busybox","tag":"test-two","manifest_digest":"sha256:57583a1b"}',
        }),
        logRow({ namespace: 'myorg', repository: 'busybox', kind: 'pull_repo', performer: '', ip: '', datetime: '2024-06-18 10:00:00.000' }),
        logRow({ namespace: 'myorg', repository: 'busybox', kind: 'push_repo', performer: 'myorg+deployer', datetime: '2024-06-18 09:00:00.000' }),
      ],
      [
        { name: 'quayuser', kind: 'user', email: 'quayuser@example.com' },
        { name: 'myorg', kind: 'org', email: null },
      ],
    );
    const res = await call(f, 'GET', '/api/v1/organization/myorg/logs?starttime=06/18/2024&endtime=06/18/2024');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(res.body)).toEqual(['start_time', 'end_time', 'logs']);
    expect(res.body.start_time).toBe('Tue, 18 Jun 2024 00:00:00 -0000');
    expect(res.body.end_time).toBe('Wed, 19 Jun 2024 00:00:00 -0000');
    const [first, anon, robot] = res.body.logs;
    expect(first).toEqual({
      kind: 'revert_tag',
      metadata: { username: 'quayuser', repo: 'busybox', tag: 'test-two', manifest_digest: 'sha256:57583a1b' },
      ip: '192.168.1.131',
      datetime: 'Tue, 18 Jun 2024 18:59:13 -0000',
      performer: { kind: 'user', name: 'quayuser', is_robot: false, avatar: expectedAvatar('quayuser', 'quayuser@example.com', 'user') },
    });
    expect(Object.keys(first)).toEqual(['kind', 'metadata', 'ip', 'datetime', 'performer']);
    // anonymous pulls carry no performer key at all, and a missing ip is null
    expect(anon).toEqual({ kind: 'pull_repo', metadata: {}, ip: null, datetime: 'Tue, 18 Jun 2024 10:00:00 -0000' });
    expect(robot.performer).toEqual({ kind: 'user', name: 'myorg+deployer', is_robot: true, avatar: expectedAvatar('myorg+deployer', null, 'robot') });
  });

  it("applies Quay's date rules: +1 day on endtime, Quay's cross-year example, defaults of the last 24 h", async () => {
    const res = await call(f, 'GET', '/api/v1/organization/myorg/logs?starttime=12/01/2016&endtime=1/09/2017');
    expect(res.body.start_time).toBe('Thu, 01 Dec 2016 00:00:00 -0000');
    expect(res.body.end_time).toBe('Tue, 10 Jan 2017 00:00:00 -0000');

    const before = Date.now();
    const def = await call(f, 'GET', '/api/v1/organization/myorg/logs');
    const start = Date.parse(def.body.start_time);
    const end = Date.parse(def.body.end_time);
    expect(def.body.start_time).toMatch(RFC2822);
    expect(start).toBeGreaterThanOrEqual(Math.floor((before - 86_400_000) / 1000) * 1000 - 1000);
    expect(start).toBeLessThanOrEqual(Date.now() - 86_400_000 + 1000);
    expect(end - start).toBeGreaterThanOrEqual(2 * 86_400_000 - 2000);
    expect(end - start).toBeLessThanOrEqual(2 * 86_400_000 + 2000);

    // garbage is ignored like Quay does (default window), ISO-8601 is our extension
    const junk = await call(f, 'GET', '/api/v1/organization/myorg/logs?starttime=yesterday&endtime=%%%');
    expect(junk.status).toBe(200);
    const iso = await call(f, 'GET', '/api/v1/organization/myorg/logs?starttime=2024-01-01&endtime=2024-06-18');
    expect([iso.body.start_time, iso.body.end_time]).toEqual(['Mon, 01 Jan 2024 00:00:00 -0000', 'Wed, 19 Jun 2024 00:00:00 -0000']);
  });

  it('answers 400 with Flask\'s generic message when endtime is before starttime', async () => {
    const res = await call(f, 'GET', '/api/v1/organization/myorg/logs?starttime=02/02/2020&endtime=01/01/2020');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ message: 'The browser (or proxy) sent a request that this server could not understand.' });
    // end == start (endtime one day before starttime) is an empty window, not an error
    const same = await call(f, 'GET', '/api/v1/organization/myorg/logs?starttime=02/02/2020&endtime=02/01/2020');
    expect(same.status).toBe(200);
    expect(same.body.logs).toEqual([]);
  });

  it('filters by performer; an unknown performer yields no entries (Quay answers 500)', async () => {
    await seed(f, [
      logRow({ namespace: 'myorg', performer: 'alice', datetime: '2024-06-18 01:00:00.000' }),
      logRow({ namespace: 'myorg', performer: 'bob', datetime: '2024-06-18 02:00:00.000' }),
      logRow({ namespace: 'myorg', performer: 'alice', datetime: '2024-06-18 03:00:00.000' }),
    ]);
    const res = await call(f, 'GET', '/api/v1/organization/myorg/logs?starttime=06/18/2024&endtime=06/18/2024&performer=alice');
    expect(res.body.logs).toHaveLength(2);
    expect(res.body.logs.every((l: any) => l.performer.name === 'alice')).toBe(true);
    const nobody = await call(f, 'GET', '/api/v1/organization/myorg/logs?starttime=06/18/2024&endtime=06/18/2024&performer=nobody');
    expect(nobody.status).toBe(200);
    expect(nobody.body.logs).toEqual([]);
  });

  it('extension filters kind and repository narrow the listing', async () => {
    await seed(f, [
      logRow({ namespace: 'myorg', repository: 'a', kind: 'push_repo', datetime: '2024-06-18 01:00:00.000' }),
      logRow({ namespace: 'myorg', repository: 'b', kind: 'push_repo', datetime: '2024-06-18 02:00:00.000' }),
      logRow({ namespace: 'myorg', repository: 'a', kind: 'pull_repo', datetime: '2024-06-18 03:00:00.000' }),
    ]);
    const q = '/api/v1/organization/myorg/logs?starttime=06/18/2024&endtime=06/18/2024';
    expect((await call(f, 'GET', `${q}&kind=push_repo`)).body.logs).toHaveLength(2);
    expect((await call(f, 'GET', `${q}&kind=push_repo,pull_repo&repository=a`)).body.logs).toHaveLength(2);
    expect((await call(f, 'GET', `${q}&repository=b`)).body.logs.map((l: any) => l.kind)).toEqual(['push_repo']);
  });
});

describe('user, repository and superuser routes', () => {
  it("/user/logs reads the caller's namespace and hides service-level kinds", async () => {
    await seed(f, [
      logRow({ namespace: 'admin', kind: 'push_repo', datetime: '2024-06-18 01:00:00.000' }),
      logRow({ namespace: 'admin', kind: 'service_key_create', datetime: '2024-06-18 02:00:00.000' }),
      logRow({ namespace: 'someoneelse', kind: 'push_repo', datetime: '2024-06-18 03:00:00.000' }),
    ]);
    const res = await call(f, 'GET', '/api/v1/user/logs?starttime=06/18/2024&endtime=06/18/2024');
    expect(res.body.logs.map((l: any) => l.kind)).toEqual(['push_repo']);
    const agg = await call(f, 'GET', '/api/v1/user/aggregatelogs?starttime=06/18/2024&endtime=06/18/2024');
    expect(agg.body).toEqual({ aggregated: [{ kind: 'push_repo', count: 1, datetime: 'Tue, 18 Jun 2024 00:00:00 -0000' }] });
    // the org route for one's own namespace is not filtered (Quay)
    const org = await call(f, 'GET', '/api/v1/organization/admin/logs?starttime=06/18/2024&endtime=06/18/2024');
    expect(org.body.logs).toHaveLength(2);
  });

  it('/repository/{ns}/{repo}/logs lists that repository and answers 404 for an unknown one', async () => {
    await seed(f, [
      logRow({ namespace: 'myorg', repository: 'busybox', datetime: '2024-06-18 01:00:00.000' }),
      logRow({ namespace: 'myorg', repository: 'other', datetime: '2024-06-18 02:00:00.000' }),
    ]);
    const res = await call(f, 'GET', '/api/v1/repository/myorg/busybox/logs?starttime=06/18/2024&endtime=06/18/2024');
    expect(res.status).toBe(200);
    expect(res.body.logs).toHaveLength(1);
    const missing = await call(f, 'GET', '/api/v1/repository/myorg/nope/logs');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      detail: 'Not Found',
      error_message: 'Not Found',
      error_type: 'not_found',
      title: 'not_found',
      type: `${f.url}/api/v1/error/not_found`,
      status: 404,
    });
  });

  it('/superuser/logs includes namespace objects (org and user kinds), others never do', async () => {
    await seed(
      f,
      [
        logRow({ namespace: 'myorg', datetime: '2024-06-18 01:00:00.000' }),
        logRow({ namespace: 'quayuser', datetime: '2024-06-18 02:00:00.000' }),
        logRow({ namespace: 'ghost', datetime: '2024-06-18 03:00:00.000' }),
      ],
      [
        { name: 'myorg', kind: 'org', email: null },
        { name: 'quayuser', kind: 'user', email: null },
      ],
    );
    const res = await call(f, 'GET', '/api/v1/superuser/logs?starttime=06/18/2024&endtime=06/18/2024');
    const [ghost, user, org] = res.body.logs;
    expect(org.namespace).toEqual({ kind: 'org', name: 'myorg', avatar: expectedAvatar('myorg', null, 'org') });
    expect(user.namespace).toEqual({ kind: 'user', name: 'quayuser', avatar: expectedAvatar('quayuser', null, 'user') });
    expect(ghost.namespace).toBeUndefined(); // unknown account: omitted, as Quay does
    const orgLogs = await call(f, 'GET', '/api/v1/organization/myorg/logs?starttime=06/18/2024&endtime=06/18/2024');
    expect(orgLogs.body.logs[0].namespace).toBeUndefined();
  });
});
