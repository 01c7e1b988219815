/**
 * The Splunk search API as Quay's `splunk` logs model uses it, over real HTTP on loopback
 * (splunkSdkClient.ts sends splunk-sdk 2.1.0's exact requests) with the real embedded
 * ClickHouse: the protocol steps, every SPL string Quay builds with and without `index=`,
 * Quay's paging and export loops, filters, aggregates equal to /aggregatelogs, the count,
 * tokens scoped to their source, and refusals.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@quaylogs/config';
import type { UsageLogRow } from '@quaylogs/core';
import { buildApp } from '../src/index.ts';
import { type ApiFixture, call, logRow, SECRET, seed, startApi } from './fixtures.ts';
import {
  aggregateSpl, countSpl, exportBatches, exportSpl, lookupSpl, prefixed, USER_EXCLUDED_KINDS, walkPages,
} from './splunkQuay.ts';
import { atomKey, SplunkSdkClient } from './splunkSdkClient.ts';

const PROD = 'prod-search-token-0123456789abcdef';
const DEV = 'dev-search-token-0123456789abcdef';
const TOKENS = `quay-prod=${PROD},quay-dev=${DEV}`;
const INDEXES = [null, 'quay_logs'] as const;
// Quay's UI window for 06/10/2024–06/12/2024: the start day's midnight to the day after the end.
const EARLIEST = '2024-06-10T00:00:00';
const LATEST = '2024-06-13T00:00:00';

let f: ApiFixture;
const acme: UsageLogRow[] = [];

const KINDS = ['pull_repo', 'push_repo', 'create_tag', 'service_key_create', 'delete_tag'];
const PERFORMERS = ['alice', 'bob', 'acme+robot', ''];
const REPOS = ['web', 'api', ''];

/** Entries of acme over three days, in runs of up to 12 sharing one second; metadata.n identifies each. */
function acmeRows(): UsageLogRow[] {
  const out: UsageLogRow[] = [];
  for (let i = 0; i < 150; i++) {
    const day = 10 + (i % 3);
    const second = Math.floor(i / 36);
    out.push(
      logRow({
        source: 'quay-prod',
        namespace: 'acme',
        kind: KINDS[i % KINDS.length]!,
        performer: PERFORMERS[i % PERFORMERS.length]!,
        repository: REPOS[i % REPOS.length]!,
        ip: i % 10 === 0 ? '' : `10.0.0.${i % 250}`,
        datetime: `2024-06-${day} 12:00:0${second}.000`,
        metadata: JSON.stringify({ n: i, tag: `v${i}` }),
      }),
    );
  }
  return out;
}

const nOf = (row: Record<string, unknown>) => (JSON.parse(String(row._raw)) as { metadata_json: { n: number } }).metadata_json.n;
/** The order Splunk's `sort -_time` must give: newest first, ties by event_key descending. */
const newestFirst = (rows: UsageLogRow[]) =>
  [...rows].sort((a, b) => (a.datetime !== b.datetime ? (a.datetime < b.datetime ? 1 : -1) : BigInt(b.event_key) > BigInt(a.event_key) ? 1 : -1));
const ns = (rows: UsageLogRow[]) => rows.map((r) => (JSON.parse(r.metadata) as { n: number }).n);

beforeAll(async () => {
  f = await startApi({ QUAYLOGS_SEARCH_TOKENS: TOKENS });
  acme.push(...acmeRows());
  const other = Array.from({ length: 30 }, (_, i) =>
    logRow({ source: 'quay-prod', namespace: 'other', datetime: `2024-06-11 08:00:${String(i).padStart(2, '0')}.000`, metadata: JSON.stringify({ n: 1000 + i }) }),
  );
  // Another registry's entries for acme, in July: only the quay-dev token reads them.
  const dev = Array.from({ length: 5 }, (_, i) =>
    logRow({ source: 'quay-dev', namespace: 'acme', datetime: `2024-07-01 09:00:0${i}.000`, metadata: JSON.stringify({ n: 2000 + i }) }),
  );
  // 11 kinds × 10 days: 110 (kind, day) rows, beyond Splunk's default of 100.
  const wide = Array.from({ length: 220 }, (_, i) =>
    logRow({ source: 'quay-prod', namespace: 'wide', kind: `kind_${i % 11}`, datetime: `2024-05-${String(1 + (Math.floor(i / 11) % 10)).padStart(2, '0')} 10:00:00.000` }),
  );
  // 6,500 entries of one namespace inside a few minutes of one day, in runs of 7 per second.
  const bulk = Array.from({ length: 6_500 }, (_, i) => {
    const s = Math.floor(i / 7);
    return logRow({
      source: 'quay-prod',
      namespace: 'bulk',
      datetime: `2024-06-11 13:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.000`,
      metadata: JSON.stringify({ n: 10_000 + i }),
    });
  });
  await seed(f, [...acme, ...other, ...dev, ...wide, ...bulk]);
}, 240_000);
afterAll(async () => f?.close());

describe('the protocol steps splunk-sdk 2.1.0 takes', () => {
  it('server/info twice, create on the trailing-slash path, status, v2 results as a form POST without Content-Type', async () => {
    const client = new SplunkSdkClient(f.url, PROD);
    const r = await client.search(lookupSpl('quay_logs', { namespace: 'acme' }), { count: 21, offset: 0, earliest: EARLIEST, latest: LATEST });
    expect(r.rows).toHaveLength(21);
    expect(r.resultCount).toBe(150);
    expect(r.sid).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(client.log.map((l) => l.replace(r.sid, '{sid}'))).toEqual([
      'GET /services/server/info',
      'GET /services/server/info',
      'POST /services/search/v2/jobs/',
      'GET /services/search/v2/jobs/{sid}',
      'POST /servicesNS/nobody/search/search/v2/jobs/{sid}/results',
    ]);
  });

  it('answers server/info with a default-namespace Atom feed, s: keys and an integer-only version', async () => {
    const res = await new SplunkSdkClient(f.url, PROD).send('GET', '/services/server/info');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<feed xmlns="http://www.w3.org/2005/Atom" xmlns:s="http://dev.splunk.com/ns/rest">');
    expect(atomKey(res.text, 'version')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['content-encoding']).toBeUndefined();
  });

  it('serves the v1 paths: create, status, and results as a GET with a query string under /servicesNS', async () => {
    const client = new SplunkSdkClient(f.url, PROD, true);
    const r = await client.search(lookupSpl(null, { namespace: 'acme' }), { count: 21, offset: 20, earliest: EARLIEST, latest: LATEST });
    expect(r.rows.map(nOf)).toEqual(ns(newestFirst(acme)).slice(20, 41));
    expect(client.log.map((l) => l.replace(r.sid, '{sid}'))).toEqual([
      'GET /services/server/info',
      'GET /services/server/info',
      'POST /services/search/jobs/',
      'GET /services/search/jobs/{sid}',
      'GET /servicesNS/nobody/search/search/jobs/{sid}/results?output_mode=json&count=21&offset=20&segmentation=none',
    ]);
  });

  it('routes every step with and without a trailing slash, under /services and /servicesNS/{owner}/{app}', async () => {
    const client = new SplunkSdkClient(f.url, PROD);
    const created = await client.send('POST', '/servicesNS/admin/search/search/jobs', [['search', countSpl(null, { namespace: 'acme' })]]);
    expect(created.status).toBe(201);
    const sid = /<sid>([^<]*)<\/sid>/.exec(created.text)![1]!;
    for (const path of [`/services/search/jobs/${sid}/`, `/servicesNS/nobody/search/search/v2/jobs/${sid}`]) {
      const status = await client.send('GET', path);
      expect(status.status).toBe(200);
      expect(status.text).toMatch(/^<\?xml[^>]*>\n<entry /);
      expect(atomKey(status.text, 'dispatchState')).toBe('DONE');
      expect(atomKey(status.text, 'resultCount')).toBe('1');
    }
    const results = await client.send('POST', `/services/search/v2/jobs/${sid}/results/`, [['output_mode', 'json']]);
    expect(results.text.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(results.text).results).toEqual([{ count: '150' }]);
    const cancel = await client.send('POST', `/servicesNS/nobody/search/search/v2/jobs/${sid}/control`, [['action', 'cancel']]);
    expect(cancel.status).toBe(200);
  });
});

describe.each(INDEXES)('every SPL string Quay builds (index %s)', (index) => {
  const client = () => new SplunkSdkClient(f.url, PROD);
  const window = { earliest: EARLIEST, latest: LATEST };

  it('org logs: pages of 21 at offset += 20 walk every entry exactly once, newest first, across runs of equal timestamps', async () => {
    const pages = await walkPages(client(), lookupSpl(index, { namespace: 'acme' }), EARLIEST, LATEST);
    expect(pages).toHaveLength(8);
    expect(pages.flat().map(nOf)).toEqual(ns(newestFirst(acme)));
  });

  it('org logs filtered by performer, repo logs, and user logs without the service-key kinds (in any order)', async () => {
    const byAlice = await walkPages(client(), lookupSpl(index, { namespace: 'acme', performer: 'alice' }), EARLIEST, LATEST);
    expect(byAlice.flat().map(nOf)).toEqual(ns(newestFirst(acme.filter((r) => r.performer === 'alice'))));
    const repo = await walkPages(client(), lookupSpl(index, { namespace: 'acme', repository: 'web' }), EARLIEST, LATEST);
    expect(repo.flat().map(nOf)).toEqual(ns(newestFirst(acme.filter((r) => r.repository === 'web'))));
    const shuffled = [...USER_EXCLUDED_KINDS].reverse();
    const user = await walkPages(client(), lookupSpl(index, { namespace: 'acme', performer: 'bob', filterKinds: shuffled }), EARLIEST, LATEST);
    const expected = acme.filter((r) => r.performer === 'bob' && !USER_EXCLUDED_KINDS.includes(r.kind));
    expect(user.flat().map(nOf)).toEqual(ns(newestFirst(expected)));
    expect(expected.length).toBeGreaterThan(0);
    expect(acme.filter((r) => r.performer === 'bob').length).toBeGreaterThan(expected.length);
  });

  it('superuser logs (no filter) read every namespace of the token\'s source', async () => {
    const r = await client().search(lookupSpl(index, {}), { count: 21, offset: 0, ...window });
    expect(r.resultCount).toBe(150 + 30 + 6_500);
  });

  it('aggregates (filtered, and the superuser form with two spaces) equal /aggregatelogs', async () => {
    for (const [spl, path] of [
      [aggregateSpl(index, { namespace: 'acme' }), '/api/v1/organization/acme/aggregatelogs'],
      [aggregateSpl(index, { namespace: 'acme', performer: 'alice' }), '/api/v1/organization/acme/aggregatelogs?performer=alice&'],
    ] as const) {
      const r = await client().searchWithStats(spl, window);
      const api = await call(f, 'GET', `${path}${path.includes('?') ? '' : '?'}starttime=06/10/2024&endtime=06/12/2024`);
      expect(api.status).toBe(200);
      const fromApi = (api.body.aggregated as { kind: string; count: number; datetime: string }[])
        .map((a) => `${a.kind} ${new Date(a.datetime).toISOString().slice(0, 10)} ${a.count}`)
        .sort();
      expect(r.rows.map((x) => `${x.kind} ${x.log_date} ${x.count}`).sort()).toEqual(fromApi);
      expect(fromApi.length).toBeGreaterThan(3);
    }
    expect(aggregateSpl(index, {})).toContain('  | eval');
    const all = await client().searchWithStats(aggregateSpl(index, {}), window);
    expect(all.rows.reduce((n, x) => n + Number(x.count), 0)).toBe(150 + 30 + 6_500);
  });

  it('aggregates return every (kind, day) row: 110, not 100', async () => {
    const r = await client().searchWithStats(aggregateSpl(index, { namespace: 'wide' }), { earliest: '2024-05-01T00:00:00', latest: '2024-06-01T00:00:00' });
    expect(r.rows).toHaveLength(110);
    expect(r.resultCount).toBe(110);
    expect(r.rows.every((x) => Number(x.count) === 2 && /^2024-05-\d\d$/.test(String(x.log_date)))).toBe(true);
  });

  it('stats count: the repository action count for one day, and one row of 0 when nothing matches', async () => {
    const c = client();
    const expected = acme.filter((r) => r.repository === 'web' && r.datetime.startsWith('2024-06-11')).length;
    expect(await c.count(countSpl(index, { namespace: 'acme', repository: 'web' }), { earliest: '2024-06-11T00:00:00', latest: '2024-06-12T00:00:00' })).toBe(expected);
    const none = await c.run(countSpl(index, { namespace: 'nobody-here', repository: 'x' }), [['exec_mode', 'normal']], [['output_mode', 'json']]);
    expect(none.rows).toEqual([{ count: '0' }]);
  });

  it('export: batches return every entry once and stop on resultCount (namespace and repository forms)', async () => {
    // 1,500-row batches: rendered by the engine (long reads), at offsets past the minute-refinement threshold.
    const batches = await exportBatches(client(), exportSpl(index, { namespace: 'bulk' }), 1_500, '2024-06-11T00:00:00', '2024-06-11T23:59:59.999000');
    expect(batches.map((b) => b.length)).toEqual([1500, 1500, 1500, 1500, 500]);
    const seen = batches.flat().map(nOf);
    expect(new Set(seen).size).toBe(6_500);
    expect(Math.min(...seen)).toBe(10_000);
    const repo = await exportBatches(client(), exportSpl(index, { namespace: 'acme', repository: 'api' }), 7, EARLIEST, LATEST);
    expect(repo.flat().map(nOf).sort((a, b) => a - b)).toEqual(ns(acme.filter((r) => r.repository === 'api')).sort((a, b) => a - b));
  });
});

describe('answers', () => {
  it('reads any offset exactly as ORDER BY datetime DESC, event_key DESC LIMIT … OFFSET … would', async () => {
    const client = new SplunkSdkClient(f.url, PROD);
    const plain = await f.store.query<{ n: string }>({
      name: 'test.plainOrder',
      sql: `SELECT JSONExtractString(metadata, 'n') AS n FROM usage_logs WHERE source = 'quay-prod' AND namespace = 'bulk'
            ORDER BY datetime DESC, event_key DESC`,
    });
    // 150 rows: rendered by the API; 1,200 rows: rendered by the engine.
    for (const count of [150, 1_200]) {
      for (const offset of [0, 1_999, 2_001, 3_333, 6_400, 6_499, 6_500]) {
        const r = await client.search(exportSpl(null, { namespace: 'bulk' }), { count, offset, earliest: '2024-06-11T00:00:00', latest: '2024-06-12T00:00:00' });
        expect(r.rows.map(nOf), `count ${count} offset ${offset}`).toEqual(plain.slice(offset, offset + count).map((x) => Number(x.n)));
      }
    }
  });

  it('rebuilds _raw as Quay\'s HEC event and _time as Splunk does; naive times are UTC, latest exclusive', async () => {
    const client = new SplunkSdkClient(f.url, PROD);
    const r = await client.search(lookupSpl(null, { namespace: 'acme' }), { count: 3, offset: 0, earliest: '2024-06-12T12:00:04', latest: '2024-06-12T12:00:04.000001' });
    expect(r.rows.length).toBeGreaterThan(0);
    const raw = JSON.parse(String(r.rows[0]!._raw));
    expect(Object.keys(raw)).toEqual(Object.keys(raw).sort());
    expect(raw).toMatchObject({ account: 'acme', namespace_name: 'acme', datetime: Date.UTC(2024, 5, 12, 12, 0, 4) / 1000, performer_email: null });
    expect(r.rows[0]!._time).toBe('2024-06-12T12:00:04.000+00:00');
    const none = await client.search(lookupSpl(null, { namespace: 'acme' }), { count: 3, offset: 0, earliest: '2024-06-12T12:00:03', latest: '2024-06-12T12:00:04' });
    expect(none.rows.map((x) => x._time)).toEqual(['2024-06-12T12:00:03.000+00:00', '2024-06-12T12:00:03.000+00:00', '2024-06-12T12:00:03.000+00:00']);
  });

  it('renders _raw and _time the same in ClickHouse (long reads) as in the API (short reads), whatever the text holds', async () => {
    const tricky = [
      logRow({ source: 'quay-prod', namespace: 'tricky', datetime: '2024-08-01 10:00:00.250', performer: 'o\'brien "the" \\ ünïcödé ✓', ip: '',
        metadata: JSON.stringify({ path: '/v2/a/b', quote: 'say "hi"\n\ttab', ctl: '\u0001\u2028', n: 1.5, nested: { b: [1, 'x'], a: null } }),
        request_url: '/api/v1/x?y=1&z=</script>', http_method: 'GET', user_agent: 'podman/5.0 (linux)', request_id: 'r-1', auth_type: 'oauth', performer_kind: 'user', x_forwarded_for: '203.0.113.9, 10.0.0.1' }),
      logRow({ source: 'quay-prod', namespace: 'tricky', repository: '', performer: '', kind: 'org_create_team', datetime: '2024-08-01 10:00:01.007', metadata: '{}' }),
      logRow({ source: 'quay-prod', namespace: 'tricky', datetime: '2024-08-01 10:00:02.100', metadata: JSON.stringify({ emoji: '😀', big: 12345678901234 }) }),
    ];
    await seed(f, tricky);
    const client = new SplunkSdkClient(f.url, PROD);
    const window = { earliest: '2024-08-01T00:00:00', latest: '2024-08-02T00:00:00' };
    const short = await client.search(exportSpl(null, { namespace: 'tricky' }), { count: 21, offset: 0, ...window });
    const long = await client.search(exportSpl(null, { namespace: 'tricky' }), { count: 5_000, offset: 0, ...window });
    expect(short.rows).toHaveLength(3);
    expect(long.rows.map((r) => r._time)).toEqual(short.rows.map((r) => r._time));
    expect(long.rows.map((r) => JSON.parse(String(r._raw)))).toEqual(short.rows.map((r) => JSON.parse(String(r._raw))));
    expect(long.rows.map((r) => r._raw)).toEqual(short.rows.map((r) => r._raw));
    expect(JSON.parse(String(short.rows[0]!._raw)).datetime).toBe(1722506402.1);
    expect(JSON.parse(String(short.rows[2]!._raw))).toMatchObject({ datetime: 1722506400.25, ip: null, performer: 'o\'brien "the" \\ ünïcödé ✓', http_method: 'GET' });
    expect(JSON.parse(String(short.rows[2]!._raw))).not.toHaveProperty('performer_email');
  });

  it('a token reads only its own source; another source\'s sid is unknown to it', async () => {
    const july = { earliest: '2024-07-01T00:00:00', latest: '2024-07-02T00:00:00' };
    const prod = await new SplunkSdkClient(f.url, PROD).search(lookupSpl(null, { namespace: 'acme' }), { count: 21, offset: 0, ...july });
    expect(prod.rows).toEqual([]);
    expect(prod.resultCount).toBe(0);
    const devClient = new SplunkSdkClient(f.url, DEV);
    const dev = await devClient.search(lookupSpl(null, { namespace: 'acme' }), { count: 21, offset: 0, ...july });
    expect(dev.rows.map(nOf)).toEqual([2004, 2003, 2002, 2001, 2000]);
    const stolen = await new SplunkSdkClient(f.url, PROD).send('GET', `/services/search/v2/jobs/${dev.sid}`);
    expect(stolen.status).toBe(404);
    expect(stolen.text).toContain('<msg type="FATAL">Unknown sid');
  });

  it('a wrong or missing token gets 401 with Splunk\'s XML body, on every route', async () => {
    for (const [path, method] of [['/services/server/info', 'GET'], ['/services/search/v2/jobs/', 'POST']] as const) {
      const res = await new SplunkSdkClient(f.url, 'not-a-token').send(method, path, [['search', 'search | stats count']]);
      expect(res.status).toBe(401);
      expect(res.text).toContain('<response><messages><msg type="WARN">call not properly authenticated</msg></messages></response>');
      const bare = await fetch(f.url + path, { method });
      expect(bare.status).toBe(401);
      expect(await bare.text()).toContain('call not properly authenticated');
    }
    const bearer = await fetch(`${f.url}/services/server/info`, { headers: { authorization: `Bearer ${PROD}` } });
    expect(bearer.status).toBe(200);
  });

  it('refuses unsupported SPL at job creation with a 400 naming what is unsupported', async () => {
    const client = new SplunkSdkClient(f.url, PROD);
    const cases: [string, RegExp][] = [
      ['search account="acme" | head 5', /command head/],
      ['search host="x" | sort -_time', /term host=/],
      ['search account="acme" | sort _time', /only sort -_time/],
      ['search account="acme" | stats count by kind', /stats count by/],
      [prefixed('quay_logs', ''), /export of the whole index/],
      ['search account=acme | sort -_time', /quoted value/],
      ['index=quay_logs account="acme"', /expected search/],
    ];
    for (const [spl, message] of cases) {
      const res = await client.send('POST', '/services/search/v2/jobs/', [['search', spl], ['exec_mode', 'normal']]);
      expect(res.status, spl).toBe(400);
      expect(res.text).toMatch(/<msg type="FATAL">Unsupported SPL: /);
      expect(res.text).toMatch(message);
    }
    const badTime = await client.send('POST', '/services/search/v2/jobs/', [['search', countSpl(null, { namespace: 'acme' })], ['earliest_time', '-24h']]);
    expect(badTime.status).toBe(400);
    expect(badTime.text).toContain('earliest_time=-24h is not supported');
  });

  it('answers bad input with a 4xx and Splunk\'s XML body, never a 500', async () => {
    const client = new SplunkSdkClient(f.url, PROD);
    const created = await client.send('POST', '/services/search/v2/jobs/', [['search', lookupSpl(null, { namespace: 'acme' })]]);
    const sid = /<sid>([^<]*)<\/sid>/.exec(created.text)![1]!;
    const cases: [number, 'GET' | 'POST', string, [string, string | number][], string][] = [
      [400, 'POST', '/services/search/v2/jobs/', [['exec_mode', 'normal']], 'Missing search'],
      [400, 'POST', '/services/search/v2/jobs/', [['search', lookupSpl(null, { namespace: 'acme' })], ['exec_mode', 'oneshot']], 'exec_mode=oneshot is not supported'],
      [400, 'POST', '/services/search/v2/jobs/', [['search', lookupSpl(null, { namespace: 'acme' })], ['latest_time', '2024-02-30T00:00:00']], 'is not a valid date'],
      [400, 'POST', `/services/search/v2/jobs/${sid}/results`, [['output_mode', 'csv']], 'output_mode=csv is not supported'],
      [400, 'POST', `/services/search/v2/jobs/${sid}/results`, [['count', '-1']], 'count=-1 must be a non-negative integer'],
      [400, 'POST', `/services/search/v2/jobs/${sid}/results`, [['offset', 'ten']], 'offset=ten must be a non-negative integer'],
      [400, 'POST', `/services/search/v2/jobs/${sid}/control`, [['action', 'explode']], 'action=explode is not supported'],
      [404, 'GET', '/services/search/v2/jobs/not-a-sid', [], 'Unknown sid'],
      [404, 'GET', `/services/search/v2/jobs/${sid}/events`, [], 'Not Found'],
      [404, 'GET', '/services/search/jobs', [], 'Not Found'],
      [413, 'POST', '/services/search/v2/jobs/', [['search', 'x'.repeat(70_000)]], 'Request body is too large'],
    ];
    for (const [status, method, path, form, message] of cases) {
      const res = await client.send(method, path, form);
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(res.text).toMatch(/^<\?xml[^>]*>\n<response><messages><msg type="(FATAL|ERROR)">/);
      expect(res.text).toContain(message);
    }
  });

  it('answers a job created on one API process from another (same secret, no shared state)', async () => {
    const config = loadConfig({ QUAYLOGS_SECRET: SECRET, QUAYLOGS_SEARCH_TOKENS: TOKENS });
    const { app } = await buildApp({ store: f.store, config, secret: SECRET });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const other = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const created = await new SplunkSdkClient(f.url, PROD).send('POST', '/services/search/v2/jobs/', [['search', lookupSpl(null, { namespace: 'other' })], ['earliest_time', EARLIEST], ['latest_time', LATEST]]);
      const sid = /<sid>([^<]*)<\/sid>/.exec(created.text)![1]!;
      const client = new SplunkSdkClient(other, PROD);
      expect(atomKey((await client.send('GET', `/services/search/v2/jobs/${sid}`)).text, 'resultCount')).toBe('30');
      const res = await client.send('POST', `/servicesNS/nobody/search/search/v2/jobs/${sid}/results`, [['output_mode', 'json'], ['count', 2], ['segmentation', 'none']]);
      expect(JSON.parse(res.text).results.map(nOf)).toEqual([1029, 1028]);
      // A sid altered by one character is not a job.
      const forged = sid.slice(0, 5) + (sid[5] === 'A' ? 'B' : 'A') + sid.slice(6);
      expect((await client.send('GET', `/services/search/v2/jobs/${forged}`)).status).toBe(404);
    } finally {
      await app.close();
    }
  });

  it('leaves Quay\'s API errors as they were', async () => {
    const res = await call(f, 'GET', '/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error_type).toBe('not_found');
    for (const path of ['/services/search/v2/nothing', '/servicesNS/nobody/search/search/v2/nothing']) {
      const unknown = await new SplunkSdkClient(f.url, PROD).send('GET', path);
      expect(unknown.status).toBe(404);
      expect(unknown.text).toContain('<response><messages><msg type="ERROR">Not Found');
    }
  });
});
