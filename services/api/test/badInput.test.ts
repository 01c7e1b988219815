/**
 * Hostile and odd input: no request may produce a 500, and bad input changes nothing
 * (no rows written, no table dropped, no file written). Statuses and bodies follow
 * Quay where Quay defines them (docs/compatibility.md).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiFixture, ADMIN_TOKEN, call, logRow, seed, startApi, userWithToken } from './fixtures.ts';

const MSG_BAD_REQUEST = 'The browser (or proxy) sent a request that this server could not understand.';
const MSG_NOT_JSON = "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.";

interface RawRes {
  status: number;
  text: string;
  body: any;
}

/** One HTTP request with the path sent exactly as given (no URL normalisation, no re-encoding). */
function raw(f: ApiFixture, method: string, path: string, headers: Record<string, string | number> = {}, body?: string | Buffer): Promise<RawRes> {
  const { port } = new URL(f.url);
  return new Promise((resolve, reject) => {
    const h: Record<string, string | number> = { connection: 'close', ...headers };
    if (body !== undefined && h['transfer-encoding'] === undefined && h['content-length'] === undefined) h['content-length'] = Buffer.byteLength(body);
    const req = request({ host: '127.0.0.1', port: Number(port), method, path, headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          parsed = text;
        }
        resolve({ status: res.statusCode ?? 0, text, body: parsed });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Bytes straight onto a socket (for requests Node's client refuses to build); returns the status line's code. */
function rawSocket(f: ApiFixture, bytes: string): Promise<number> {
  const { port } = new URL(f.url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), '127.0.0.1');
    let data = '';
    sock.on('data', (c) => (data += c.toString('latin1')));
    sock.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    sock.on('error', reject);
    sock.setTimeout(5000, () => {
      sock.destroy();
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0));
    });
    sock.write(bytes, 'latin1');
  });
}

const auth = (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });
const json = (token = ADMIN_TOKEN) => ({ ...auth(token), 'content-type': 'application/json' });

const COUNTED_TABLES = ['usage_logs', 'usage_daily_repo', 'usage_daily_kind', 'usage_daily_performer', 'users', 'grants', 'app_tokens', 'accounts'];

async function counts(f: ApiFixture): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of COUNTED_TABLES) {
    const [r] = await f.store.query<{ n: string }>({ name: 't', sql: `SELECT count() AS n FROM ${t}` });
    out[t] = r!.n;
  }
  return out;
}

async function tables(f: ApiFixture): Promise<string[]> {
  const rows = await f.store.query<{ name: string }>({ name: 't', sql: 'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name' });
  return rows.map((r) => r.name);
}

/** Runs every request, expecting no 5xx; reports all offenders at once. */
async function expectNo5xx(f: ApiFixture, reqs: { method: string; path: string; headers?: Record<string, string | number>; body?: string | Buffer }[]) {
  const offenders: string[] = [];
  const statuses: number[] = [];
  for (const r of reqs) {
    const res = await raw(f, r.method, r.path, r.headers ?? auth(), r.body);
    statuses.push(res.status);
    if (res.status >= 500 || res.status === 0) offenders.push(`${r.method} ${r.path.slice(0, 120)} → ${res.status} ${res.text.slice(0, 200)}`);
    else if (res.status >= 400 && res.text) {
      // Every refusal is JSON: Quay's ApiError body or Flask's {message}.
      expect(typeof res.body === 'object' && res.body !== null, `${r.method} ${r.path.slice(0, 120)}: ${res.text.slice(0, 200)}`).toBe(true);
    }
  }
  expect(offenders).toEqual([]);
  return statuses;
}

describe('bad input', () => {
  let f: ApiFixture;
  let before: Record<string, string>;
  let tablesBefore: string[];
  let userToken: string;
  const outDir = mkdtempSync(join(tmpdir(), 'quaylogs-badinput-'));

  beforeAll(async () => {
    f = await startApi();
    await seed(
      f,
      [
        logRow({ namespace: 'acme', repository: 'web', datetime: '2024-06-18 10:00:00.000' }),
        logRow({ namespace: 'acme', repository: 'web', kind: 'push_repo', datetime: '2024-06-18 11:00:00.000' }),
        logRow({ namespace: 'acme', repository: 'api', datetime: '2024-06-17 11:00:00.000' }),
      ],
      [{ name: 'acme', kind: 'org', email: null }],
    );
    userToken = await userWithToken(f, 'ursula', { organizations: ['acme'] });
    // Warm last_accessed bookkeeping so using the tokens below writes nothing more.
    await call(f, 'GET', '/api/v1/user/logs');
    await call(f, 'GET', '/api/v1/user/logs', { token: userToken });
    before = await counts(f);
    tablesBefore = await tables(f);
  });
  afterAll(async () => {
    await f.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  const BODY_ROUTES: [string, string][] = [
    ['POST', '/api/v1/user/apptoken'],
    ['POST', '/api/v1/superuser/users'],
    ['PUT', '/api/v1/superuser/users/ursula/grants'],
    ['POST', '/api/v1/superuser/users/ursula/apptoken'],
    ['POST', '/api/v1/superuser/sql'],
  ];

  it('malformed JSON bodies get 400 with Flask’s generic message, on every route that takes a body', async () => {
    const bodies = ['{', '{"title":', '{"title": "x",}', "{'title': 'x'}", '{"title": "a"} trailing', 'nul', '\u0000', '\xff\xfe'];
    for (const [method, path] of BODY_ROUTES) {
      for (const body of bodies) {
        const res = await raw(f, method, path, json(), body);
        expect([method, path, body, res.status]).toEqual([method, path, body, 400]);
        expect(res.body).toEqual({ message: MSG_BAD_REQUEST });
      }
      const empty = await raw(f, method, path, json(), '');
      expect([path, empty.status]).toEqual([path, 400]);
    }
  });

  it('well-formed JSON of the wrong shape gets 400 invalid_request', async () => {
    const bodies = ['null', '[]', '"title"', '123', 'true', '[{"title":"x"}]', '{"title": {"$ne": null}}', '{"query": ["SELECT 1"]}', '{"organizations": "acme"}'];
    for (const [method, path] of BODY_ROUTES) {
      for (const body of bodies) {
        const res = await raw(f, method, path, json(), body);
        expect([method, path, body, res.status]).toEqual([method, path, body, 400]);
        if (res.body.message === undefined) {
          expect(res.body).toMatchObject({ error_type: 'invalid_request', title: 'invalid_request', status: 400 });
        }
      }
    }
  });

  it('prototype-pollution keys are refused and pollute nothing', async () => {
    for (const body of [
      '{"__proto__": {"superuser": true}, "username": "proto1", "email": "p@example.com"}',
      '{"constructor": {"prototype": {"superuser": true}}, "username": "proto2", "email": "p@example.com"}',
      '{"username": "proto3", "email": "p@example.com", "__proto__": {"isAdmin": true}}',
    ]) {
      const res = await raw(f, 'POST', '/api/v1/superuser/users', json(), body);
      expect([body, res.status]).toEqual([body, 400]);
    }
    expect(({} as Record<string, unknown>).superuser).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it("a non-JSON Content-Type gets 415 with Werkzeug's message", async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/json']) {
      for (const [method, path] of BODY_ROUTES) {
        const res = await raw(f, method, path, { ...auth(), 'content-type': type }, '{"title":"x","query":"SELECT 1"}');
        expect([type, path, res.status]).toEqual([type, path, 415]);
        expect(res.body).toEqual({ message: MSG_NOT_JSON });
      }
    }
    // No Content-Type at all, with or without a body: Flask's get_json refuses it the same way.
    for (const [method, path] of BODY_ROUTES) {
      for (const body of ['{"title":"x","query":"SELECT 1"}', undefined]) {
        const res = await raw(f, method, path, auth(), body);
        expect([path, body, res.status]).toEqual([path, body, 415]);
        expect(res.body).toEqual({ message: MSG_NOT_JSON });
      }
    }
    // JSON with parameters or in another letter case is JSON.
    for (const type of ['application/json; charset=utf-8', 'Application/JSON']) {
      const res = await raw(f, 'POST', '/api/v1/superuser/sql', { ...auth(), 'content-type': type }, '{"query":"SELECT 1 AS one"}');
      expect([type, res.status, res.body.rows]).toEqual([type, 200, [{ one: 1 }]]);
    }
  });

  it('a body over 1 MiB gets 413, whether or not Content-Length announces it', async () => {
    const big = JSON.stringify({ title: 'x'.repeat(1024 * 1024 + 10) });
    for (const [method, path] of BODY_ROUTES) {
      const res = await raw(f, method, path, { ...json(), 'content-length': Buffer.byteLength(big) }, big);
      expect([path, res.status]).toEqual([path, 413]);
      expect(res.body).toEqual({ message: 'Request body is larger than 1048576 bytes' });
      const chunked = await raw(f, method, path, { ...json(), 'transfer-encoding': 'chunked' }, big);
      expect([path, chunked.status]).toEqual([path, 413]);
    }
    // Just under the limit is fine as far as size goes (then the title is too long: 400).
    const nearly = JSON.stringify({ title: 'x'.repeat(1024 * 1024 - 20) });
    const res = await raw(f, 'POST', '/api/v1/user/apptoken', json(), nearly);
    expect(res.status).toBe(400);
  });

  it('deeply nested JSON does not crash the parser', async () => {
    const depth = 100_000;
    const body = '['.repeat(depth) + ']'.repeat(depth);
    const res = await raw(f, 'POST', '/api/v1/superuser/sql', json(), body);
    expect(res.status).toBe(400);
  });

  it('huge and odd query strings never cause a 5xx on any logs route', async () => {
    const routes = [
      '/api/v1/user/logs',
      '/api/v1/user/aggregatelogs',
      '/api/v1/organization/acme/logs',
      '/api/v1/organization/acme/aggregatelogs',
      '/api/v1/repository/acme/web/logs',
      '/api/v1/repository/acme/web/aggregatelogs',
      '/api/v1/superuser/logs',
      '/api/v1/superuser/aggregatelogs',
    ];
    const queries = [
      `performer=${'p'.repeat(10_000)}`,
      `kind=${'k,'.repeat(3000)}`,
      `repository=${'r'.repeat(10_000)}`,
      'performer=%C3%BC%F0%9F%98%80%E2%80%AE',
      'performer=%00',
      'performer=a%00b&kind=pull%00repo&repository=%00',
      'performer=%FF%FE',
      'performer=%',
      'performer=%%%zz',
      'kind=a&kind=b',
      'performer=a&performer=b',
      'starttime=06/17/2024&starttime=06/18/2024',
      'kind[]=pull_repo&kind[]=push_repo',
      'kind[0]=pull_repo',
      'performer[a]=b',
      'group_by[]=performer',
      'namespace=acme&namespace=other',
      `next_page=${'A'.repeat(10_000)}`,
      'next_page=%00',
      'next_page=gAAAAAB' + 'x'.repeat(200),
      'next_page=eyJhIjoxfQ',
      'next_page=..%2F..%2F',
      'starttime=99/99/9999',
      'starttime=13/01/2024&endtime=00/00/0000',
      'starttime=01/01/0001',
      'starttime=01/01/0001&endtime=01/01/0001',
      'endtime=12/31/9999',
      'starttime=12/31/9999&endtime=12/31/9999',
      'starttime=01/01/0001&endtime=12/31/9999',
      'starttime=01/01/1000&endtime=12/31/2999',
      'endtime=01/01/3000',
      'starttime=0001-01-01&endtime=9999-12-31',
      'starttime=9999-12-31T23:59:59Z',
      'endtime=9999-12-31T23:59:59.999%2B14:00',
      'starttime=0001-01-01T00:00:00-23:59',
      'starttime=9999-12-31T23:59:59-23:59',
      'starttime=2024-02-30&endtime=2024-13-01',
      'starttime=%2B002024-01-01',
      'starttime=-000001-01-01',
      'starttime=1e400&endtime=NaN',
      `starttime=${'9'.repeat(5000)}`,
      'starttime=06/18/2024%00&endtime=06/18/2024%00',
      'group_by=',
      'group_by=PERFORMER',
      'page=-1',
      'page=99999999999999999999999',
      'internal=true&__proto__=x&constructor=y',
    ];
    const reqs = routes.flatMap((r) => queries.map((q) => ({ method: 'GET', path: `${r}?${q}` })));
    await expectNo5xx(f, reqs);
  });

  it('group_by outside performer|repository is 400 invalid_request on every aggregatelogs route', async () => {
    for (const route of ['user', 'organization/acme', 'repository/acme/web', 'superuser']) {
      for (const g of ['kind', 'namespace', 'performer;DROP', '', 'PERFORMER']) {
        const res = await call(f, 'GET', `/api/v1/${route}/aggregatelogs?group_by=${encodeURIComponent(g)}`);
        expect([route, g, res.status]).toEqual([route, g, 400]);
        expect(res.body).toMatchObject({
          error_type: 'invalid_request',
          title: 'invalid_request',
          type: `${f.url}/api/v1/error/invalid_request`,
          status: 400,
        });
      }
      const ok = await call(f, 'GET', `/api/v1/${route}/aggregatelogs?group_by=performer&starttime=06/17/2024&endtime=06/18/2024`);
      expect([route, ok.status]).toEqual([route, 200]);
    }
  });

  it('unparseable dates fall back to the default window like Quay (200), and extreme years answer without a 5xx', async () => {
    const junk = await call(f, 'GET', '/api/v1/organization/acme/logs?starttime=99/99/9999&endtime=00/00/0000');
    expect(junk.status).toBe(200);
    const span = Date.parse(junk.body.end_time) - Date.parse(junk.body.start_time);
    expect(Math.abs(span - 2 * 86_400_000)).toBeLessThan(5000);

    // Year 0001 to now: all entries, newest first; the window echoes year 0001.
    const ancient = await call(f, 'GET', '/api/v1/organization/acme/logs?starttime=01/01/0001&endtime=12/31/2024');
    expect(ancient.status).toBe(200);
    expect(ancient.body.start_time).toBe('Mon, 01 Jan 0001 00:00:00 -0000');
    expect(ancient.body.logs).toHaveLength(3);
    const ancientAgg = await call(f, 'GET', '/api/v1/organization/acme/aggregatelogs?starttime=01/01/0001&endtime=12/31/2024');
    expect(ancientAgg.status).toBe(200);
    expect(ancientAgg.body.aggregated.reduce((n: number, a: any) => n + a.count, 0)).toBe(3);

    // Far-future end: every entry, no 5xx.
    for (const end of ['12/31/2999', '12/31/9999']) {
      for (const route of ['logs', 'aggregatelogs']) {
        const res = await call(f, 'GET', `/api/v1/organization/acme/${route}?starttime=06/01/2024&endtime=${end}`);
        expect([end, route, res.status]).toEqual([end, route, 200]);
        if (route === 'logs') expect(res.body.logs).toHaveLength(3);
        else expect(res.body.aggregated.reduce((n: number, a: any) => n + a.count, 0)).toBe(3);
      }
    }
    // A window wholly in year 9999 holds nothing.
    const future = await call(f, 'GET', '/api/v1/organization/acme/logs?starttime=12/30/9999&endtime=12/31/9999');
    expect(future.status).toBe(200);
    expect(future.body.logs).toEqual([]);
  });

  it('a very long next_page or a foreign one is ignored: the first page is served', async () => {
    const first = await call(f, 'GET', '/api/v1/organization/acme/logs?starttime=06/17/2024&endtime=06/18/2024');
    for (const token of ['A'.repeat(10_000), '%00', 'gAAAAAB' + 'x'.repeat(200)]) {
      const res = await call(f, 'GET', `/api/v1/organization/acme/logs?starttime=06/17/2024&endtime=06/18/2024&next_page=${token}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(first.body);
    }
  });

  it('path parameters with odd characters (encoded slashes, dots, NUL, unicode, overlong) never cause a 5xx nor reach another namespace', async () => {
    const paths = [
      '/api/v1/organization/a%2Fb/logs',
      '/api/v1/organization/acme%2F..%2Fother/logs',
      '/api/v1/organization/%2E%2E/logs',
      '/api/v1/organization/./logs',
      '/api/v1/organization/../logs',
      '/api/v1/organization/..%2F..%2Fetc%2Fpasswd/logs',
      '/api/v1/organization/%00/logs',
      '/api/v1/organization/acme%00/logs',
      '/api/v1/organization/%ZZ/logs',
      '/api/v1/organization/%E2%80%AEacme/logs',
      '/api/v1/organization/%F0%9F%98%80/logs',
      `/api/v1/organization/${'o'.repeat(5000)}/logs`,
      '/api/v1/repository/acme/web%2Fx/logs',
      '/api/v1/repository/acme%2Fweb/logs',
      '/api/v1/repository/acme/web%2F..%2Fapi/logs',
      '/api/v1/repository/acme/./logs',
      '/api/v1/repository/acme/../logs',
      '/api/v1/repository/acme/%2E%2E/aggregatelogs',
      '/api/v1/repository/acme/web%00/logs',
      `/api/v1/repository/acme/${'r'.repeat(5000)}/logs`,
      '/api/v1/user/apptoken/%2E%2E%2F',
      '/api/v1/user/apptoken/..',
      '/api/v1/user/apptoken/%00',
      `/api/v1/user/apptoken/${'u'.repeat(5000)}`,
      '/api/v1/error/%00',
      '/api/v1/error/..%2Fdiscovery',
      '/api/v1//user/logs',
      '/api/v1/user//logs',
      '//api/v1/user/logs',
      '/api/v1/user/logs?',
      '/api/v1/user/logs#frag',
      '/api/v1/user/logs;jsessionid=1',
      '/api/v1/%75ser/logs',
    ];
    const statuses = await expectNo5xx(f, [
      ...paths.map((path) => ({ method: 'GET', path })),
      ...paths.map((path) => ({ method: 'GET', path, headers: auth(userToken) })),
      { method: 'DELETE', path: '/api/v1/user/apptoken/%2E%2E' },
      { method: 'PUT', path: '/api/v1/superuser/users/..%2Fadmin/grants', headers: json(), body: '{"organizations":["x"]}' },
      { method: 'PUT', path: '/api/v1/superuser/users/%00/grants', headers: json(), body: '{"organizations":["x"]}' },
      { method: 'POST', path: '/api/v1/superuser/users/%2E%2E/apptoken', headers: json(), body: '{"title":"x"}' },
    ]);
    expect(statuses.length).toBe(paths.length * 2 + 4);
    // The org admin of acme reads nothing through an encoded path that names another namespace.
    for (const path of ['/api/v1/organization/acme%2F..%2Fother/logs', '/api/v1/repository/acme/web%2F..%2Fapi/logs']) {
      const res = await raw(f, 'GET', `${path}?starttime=06/17/2024&endtime=06/18/2024`, auth(userToken));
      expect(res.status === 200 ? res.body.logs : [], path).toEqual([]);
    }
  });

  it('odd headers (huge or garbage Authorization, bad Host, invalid bytes) never cause a 5xx', async () => {
    await expectNo5xx(f, [
      { method: 'GET', path: '/api/v1/user/logs', headers: { authorization: `Bearer ${'A'.repeat(12_000)}` } },
      { method: 'GET', path: '/api/v1/user/logs', headers: { authorization: 'Bearer \u00ff\u00fe' } },
      { method: 'GET', path: '/api/v1/user/logs', headers: { authorization: 'Bearer %00' } },
      { method: 'GET', path: '/api/v1/user/logs', headers: { ...auth(), host: 'evil.example.com/<script>' } },
      { method: 'GET', path: '/api/v1/user/logs', headers: { ...auth(), 'x-forwarded-for': 'not-an-ip, , ::::' } },
      { method: 'GET', path: '/api/v1/user/logs', headers: { ...auth(), 'content-type': 'application/json' }, body: '{' },
      { method: 'GET', path: '/api/v1/user/logs', headers: { ...auth(), 'content-encoding': 'gzip' } },
      { method: 'POST', path: '/api/v1/user/apptoken', headers: { ...json(), 'content-encoding': 'gzip' }, body: 'not gzip' },
      { method: 'POST', path: '/api/v1/user/apptoken', headers: { ...auth(), 'content-type': 'application/json; charset=utf-16' }, body: '{"x":1}' },
      { method: 'POST', path: '/api/v1/user/apptoken', headers: auth(), body: '{"title":"x"}' },
      { method: 'POST', path: '/api/v1/user/apptoken', headers: auth() },
      { method: 'GET', path: '/api/v1/discovery', headers: { host: '' } },
    ]);
    for (const bytes of [
      'GET /api/v1/user/logs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\u0000b\r\n\r\n',
      'GET /api/v1/user/logs HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'GET /api/v1/user/\u00ff HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /api/v1/superuser/sql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{"a":1}',
    ]) {
      const status = await rawSocket(f, bytes);
      expect([JSON.stringify(bytes), status >= 400 && status < 500]).toEqual([JSON.stringify(bytes), true]);
    }
  });

  it('POST /api/v1/superuser/sql refuses every write, multi-statement, file/host reader and settings override with 400', async () => {
    const outfile = join(outDir, 'out.tsv');
    const refused = [
      "INSERT INTO usage_logs (namespace) VALUES ('x')",
      'DROP TABLE usage_logs',
      'drop table usage_logs',
      'TRUNCATE TABLE users',
      'ALTER TABLE usage_logs DELETE WHERE 1',
      'DELETE FROM usage_logs WHERE 1',
      'CREATE TABLE evil (x UInt8) ENGINE = Memory',
      'RENAME TABLE usage_logs TO gone',
      'OPTIMIZE TABLE usage_logs FINAL',
      'SYSTEM SHUTDOWN',
      'KILL QUERY WHERE 1',
      'SET readonly = 0',
      'GRANT ALL ON *.* TO default',
      'ATTACH TABLE usage_logs',
      'DETACH TABLE usage_logs',
      'SELECT 1; DROP TABLE usage_logs',
      'SELECT 1;DROP TABLE usage_logs;',
      '/* x */ SELECT 1; DROP TABLE usage_logs',
      'SELECT 1 -- \n; DROP TABLE usage_logs',
      "SELECT * FROM file('/etc/passwd')",
      "SELECT * FROM FILE ('/etc/passwd', 'LineAsString')",
      "SELECT * FROM file/**/('/etc/passwd', 'LineAsString')",
      "SELECT file('/etc/hostname')",
      "SELECT `file`('/etc/hostname')",
      "SELECT `f\\x69le`('/etc/hostname')",
      "SELECT \"file\"('/etc/hostname')",
      "SELECT * FROM `file`('/etc/passwd', 'LineAsString')",
      "DESCRIBE TABLE `file`('/etc/passwd', 'CSVWithNames')",
      "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')",
      "SELECT * FROM executable('id', 'TSV', 'x String')",
      "SELECT * FROM remote('127.0.0.1', system.one)",
      "SELECT * FROM s3('http://127.0.0.1:1/x')",
      "SELECT * FROM sqlite('/tmp/x.db', 't')",
      "SELECT count() FROM usage_logs SETTINGS readonly=0",
      "SELECT count() FROM usage_logs SETTINGS readonly = 0, allow_ddl = 1",
      'SELECT count() FROM usage_logs FORMAT TSV',
      `SELECT 1 INTO OUTFILE '${outfile}'`,
      `SELECT * FROM usage_logs INTO OUTFILE '${outfile}' TRUNCATE`,
      `SELECT 1 INTO/**/OUTFILE '${outfile}'`,
      'WITH 1 AS x INSERT INTO usage_logs SELECT * FROM usage_logs',
      'EXPLAIN SELECT 1; DROP TABLE usage_logs',
      '',
      '   ',
      '-- only a comment',
      'SELEC 1',
    ];
    const offenders: string[] = [];
    for (const query of refused) {
      const res = await call(f, 'POST', '/api/v1/superuser/sql', { body: { query } });
      if (res.status !== 400) offenders.push(`${res.status} ${query}: ${JSON.stringify(res.body).slice(0, 200)}`);
      else expect(res.body).toMatchObject({ error_type: 'invalid_request', title: 'invalid_request', status: 400 });
    }
    expect(offenders).toEqual([]);
    expect(existsSync(outfile)).toBe(false);
    expect(await tables(f)).toEqual(tablesBefore);
    expect(await counts(f)).toEqual(before);
  });

  it('POST /api/v1/superuser/sql answers a valid SELECT with its rows (64-bit integers as strings)', async () => {
    const res = await call(f, 'POST', '/api/v1/superuser/sql', {
      body: { query: "SELECT repository, count() AS n FROM usage_logs WHERE namespace = 'acme' GROUP BY repository ORDER BY repository" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ rows: [{ repository: 'api', n: '1' }, { repository: 'web', n: '2' }], row_count: 2, truncated: false });
    const cte = await call(f, 'POST', '/api/v1/superuser/sql', { body: { query: 'WITH 2 AS x SELECT x * 21 AS y -- trailing comment\n' } });
    expect(cte.body.rows).toEqual([{ y: 42 }]);
    const show = await call(f, 'POST', '/api/v1/superuser/sql', { body: { query: 'SHOW TABLES' } });
    expect(show.status).toBe(200);
    expect(show.body.rows.map((r: any) => r.name)).toContain('usage_logs');
    const unknown = await call(f, 'POST', '/api/v1/superuser/sql', { body: { query: 'SELECT * FROM no_such_table' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.detail).toMatch(/no_such_table/);
  });

  it('after all of the above, nothing changed: every table is still there with the same row counts', async () => {
    expect(await tables(f)).toEqual(tablesBefore);
    expect(await counts(f)).toEqual(before);
    const stillThere = await call(f, 'GET', '/api/v1/organization/acme/logs?starttime=06/17/2024&endtime=06/18/2024', { token: userToken });
    expect(stillThere.status).toBe(200);
    expect(stillThere.body.logs).toHaveLength(3);
  });
});
