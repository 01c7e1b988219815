/**
 * ClickHouse's HTTP interface over the embedded store: BI tools and @clickhouse/client read
 * with ClickHouse's own conventions; only superusers get in; nothing can write, reach files
 * or the network, or lift a limit; a runaway query is stopped while others keep answering.
 */
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countUsageLogs, type EngineSessions, openEngineSessions } from '@quaylogs/clickhouse';
import { BI_CATALOG_TABLES, type ClickHouseHttpBridge, type ReadOnlyGuard, createClickHouseHttpBridge, guardReadOnlySql, tokenAuthenticator } from '../src/index.ts';
import { ADMIN_TOKEN, type ApiFixture, logRow, seed, startApi, userWithToken } from './fixtures.ts';

let f: ApiFixture;
let engine: EngineSessions;
let bridge: ClickHouseHttpBridge;
let url: string;
let aliceToken: string;
/** Rows in usage_logs once seeded (the seed plus quaylogs' audit entries of the users made). */
let stored: number;
const LIMITS = { timeoutS: 1, maxResultRows: 1000, maxResultBytes: 16 * 1024 * 1024 };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN = { authorization: basic('admin', ADMIN_TOKEN) };

async function startBridge(guard: ReadOnlyGuard = (sql, explainAst) => guardReadOnlySql(f.store, sql, { extraTables: BI_CATALOG_TABLES, explainAst })) {
  const b = createClickHouseHttpBridge({ engine, database: 'quaylogs', authenticate: tokenAuthenticator(f.store), guard, limits: LIMITS });
  return { b, url: `http://127.0.0.1:${await b.listen(0, '127.0.0.1')}` };
}

beforeAll(async () => {
  f = await startApi();
  engine = await openEngineSessions({ path: join(f.dir!, 'clickhouse'), size: 3 });
  ({ b: bridge, url } = await startBridge());
  aliceToken = await userWithToken(f, 'alice');
  await seed(f, [
    logRow({ namespace: 'acme', performer: "o'brien\tx" }),
    logRow({ namespace: 'acme' }),
    logRow({ namespace: 'zeta', kind: 'push_repo' }),
  ]);
  stored = await countUsageLogs(f.store);
});
afterAll(async () => {
  await bridge?.close();
  engine?.close();
  await f?.close();
});

async function get(query: string, headers: Record<string, string> = ADMIN, extra = '') {
  const res = await fetch(`${url}/?query=${encodeURIComponent(query)}${extra}`, { headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
async function post(body: string, headers: Record<string, string> = ADMIN, search = '') {
  const res = await fetch(`${url}/${search}`, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe('ClickHouse HTTP interface: reading', () => {
  it('answers the probes Grafana and Metabase send: /ping, GET / and ?query=SELECT 1', async () => {
    expect(await (await fetch(`${url}/ping`)).text()).toBe('Ok.\n');
    expect(await (await fetch(`${url}/`)).text()).toBe('Ok.\n');
    const one = await get('SELECT 1');
    expect(one).toMatchObject({ status: 200, text: '1\n' });
    expect(one.headers.get('x-clickhouse-format')).toBe('TabSeparated');
    expect(one.headers.get('content-type')).toBe('text/tab-separated-values; charset=UTF-8');
    expect(one.headers.get('x-clickhouse-query-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(one.headers.get('x-clickhouse-summary')!)).toMatchObject({ read_rows: '1', written_rows: '0' });
  });

  it('@clickhouse/client reads with typed parameters, ping and a query id of its own', async () => {
    const client = createClient({ url, username: 'admin', password: ADMIN_TOKEN, database: 'quaylogs' });
    try {
      expect((await client.ping()).success).toBe(true);
      const rs = await client.query({
        query: `SELECT namespace, count() AS n FROM usage_logs
                WHERE namespace IN {namespaces:Array(String)} AND performer != {nobody:String}
                GROUP BY namespace ORDER BY namespace`,
        query_params: { namespaces: ['acme', "it's", 'zeta'], nobody: "a'b\\c\td" },
        format: 'JSONEachRow',
        query_id: 'bi-query-1',
      });
      expect(rs.query_id).toBe('bi-query-1');
      expect(await rs.json()).toEqual([
        { namespace: 'acme', n: '2' },
        { namespace: 'zeta', n: '1' },
      ]);
      const exact = await client.query({
        query: 'SELECT count() AS n FROM usage_logs WHERE performer = {p:String}',
        query_params: { p: "o'brien\tx" },
        format: 'JSONEachRow',
      });
      expect(await exact.json()).toEqual([{ n: '1' }]);
      // Any value comes back exactly as sent, whatever it holds and wherever it sits.
      const odd = "it's a \\ back\\slash\t tab\n newline \\N 'quoted' \\' \"dq\" ünï 🐳 {x}";
      const echo = await client.query({
        query: 'SELECT {s:String} AS s, {a:Array(String)} AS a, {m:Map(String, String)} AS m, {n:Nullable(String)} AS n, {d:DateTime64(3)} AS d',
        query_params: { s: odd, a: [odd, '', "'"], m: { [odd]: odd }, n: null, d: '2024-06-18 18:59:13.123' },
        format: 'JSONEachRow',
      });
      expect(await echo.json()).toEqual([{ s: odd, a: [odd, '', "'"], m: { [odd]: odd }, n: null, d: '2024-06-18 18:59:13.123' }]);
      const err = await client.query({ query: 'SELECT * FROM no_such_table', format: 'JSONEachRow' }).catch((e) => e);
      expect(err).toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' });
    } finally {
      await client.close();
    }
  });

  it('takes the query in the body or ?query=, FORMAT, default_format and X-ClickHouse-* headers as BI tools send them', async () => {
    const body = await post("SELECT namespace, count() AS n FROM usage_logs WHERE source = 'test' GROUP BY namespace ORDER BY namespace FORMAT JSON");
    expect(body.status).toBe(200);
    expect(body.headers.get('x-clickhouse-format')).toBe('JSON');
    expect(body.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    const json = JSON.parse(body.text);
    expect(json.meta).toEqual([
      { name: 'namespace', type: 'String' },
      { name: 'n', type: 'UInt64' },
    ]);
    expect(json.data).toEqual([
      { namespace: 'acme', n: '2' },
      { namespace: 'zeta', n: '1' },
    ]);
    const compact = await get("SELECT count() AS n FROM usage_logs WHERE source = 'test'", ADMIN, '&default_format=JSONCompact&database=quaylogs');
    expect(JSON.parse(compact.text).data).toEqual([['3']]);
    const viaHeaders = await post('SELECT toUInt64(count()) AS n FROM usage_logs WHERE namespace = {ns:String}', {
      'x-clickhouse-user': 'admin',
      'x-clickhouse-key': ADMIN_TOKEN,
      'x-clickhouse-format': 'CSVWithNames',
      'x-clickhouse-database': 'quaylogs',
    }, '?param_ns=acme&query_id=metabase-7');
    expect(viaHeaders).toMatchObject({ status: 200, text: '"n"\n2\n' });
    expect(viaHeaders.headers.get('x-clickhouse-query-id')).toBe('metabase-7');
    expect(viaHeaders.headers.get('content-type')).toBe('text/csv; charset=UTF-8; header=present');
    // As clickhouse-go (Grafana's data source) asks: Native, with its protocol version.
    const native = await get('SELECT 1 AS one', ADMIN, '&default_format=Native&client_protocol_version=54460');
    expect(native.status).toBe(200);
    expect(native.headers.get('content-type')).toBe('application/octet-stream');
    // Harmless client settings are honoured: output shaping, a lower limit.
    const quoted = await get('SELECT toUInt64(5) AS n FORMAT JSONEachRow', ADMIN, '&output_format_json_quote_64bit_integers=0');
    expect(quoted.text).toBe('{"n":5}\n');
    const lowered = await get('SELECT number FROM numbers(10)', ADMIN, '&max_result_rows=5&result_overflow_mode=throw');
    expect(lowered.status).toBe(413);
    expect(lowered.text).toMatch(/^Code: 396\. DB::Exception: .*\(TOO_MANY_ROWS_OR_BYTES\)/);
  });

  it('bad input gets a clear 4xx, never a 500: a header-breaking query id, a malformed parameter, an unknown format', async () => {
    const crlf = await get('SELECT 1', ADMIN, '&query_id=' + encodeURIComponent('x\r\nset-cookie: a=b'));
    expect(crlf.status).toBe(200);
    expect(crlf.headers.get('x-clickhouse-query-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(crlf.headers.get('set-cookie')).toBeNull();
    const badParam = await get('SELECT {n:UInt8}', ADMIN, '&param_n=not-a-number');
    expect(badParam.status).toBe(400);
    expect(badParam.text).toMatch(/^Code: \d+\. DB::Exception: /);
    const badFormat = await get('SELECT 1', ADMIN, '&default_format=NoSuchFormat');
    expect(badFormat.status).toBeGreaterThanOrEqual(400);
    expect(badFormat.status).toBeLessThan(500);
    const badPath = await fetch(`${url}/play`, { headers: ADMIN });
    expect(badPath.status).toBe(404);
    expect((await get('SELECT 7')).text).toBe('7\n');
  });

  it('compresses the answer when asked (enable_http_compression=1)', async () => {
    const res = await fetch(`${url}/?enable_http_compression=1&query=${encodeURIComponent('SELECT number FROM numbers(500)')}`, {
      headers: { ...ADMIN, 'accept-encoding': 'gzip' },
    });
    // fetch decodes gzip itself; the header says it was sent compressed.
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect((await res.text()).split('\n')[499]).toBe('499');
  });
});

describe('ClickHouse HTTP interface: refusals', () => {
  it('refuses requests without credentials, with a wrong token, and from non-superusers', async () => {
    const none = await get('SELECT 1', {});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(none.text).toMatch(/^Code: 194\. DB::Exception: .*\(REQUIRED_PASSWORD\)/);
    const wrong = await get('SELECT 1', { authorization: basic('admin', 'not-a-token') });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('x-clickhouse-exception-code')).toBe('516');
    const otherUser = await get('SELECT 1', { authorization: basic('alice', ADMIN_TOKEN) });
    expect(otherUser.status).toBe(401);
    const alice = await get('SELECT 1', { 'x-clickhouse-user': 'alice', 'x-clickhouse-key': aliceToken });
    expect(alice.status).toBe(403);
    expect(alice.text).toMatch(/^Code: 497\. DB::Exception: alice: Not enough privileges.*\(ACCESS_DENIED\)/);
  });

  const writes = [
    "INSERT INTO usage_logs (namespace, event_key) VALUES ('evil', 1)",
    'ALTER TABLE usage_logs DELETE WHERE 1',
    'CREATE TABLE pwned (x UInt8) ENGINE = Memory',
    'DROP TABLE usage_logs',
    'TRUNCATE TABLE usage_logs',
    'OPTIMIZE TABLE usage_logs FINAL',
    'SYSTEM DROP MARK CACHE',
    'SYSTEM SHUTDOWN',
    'SET readonly = 0',
    'KILL QUERY WHERE 1',
    'GRANT ALL ON *.* TO admin',
    "SELECT * FROM file('/etc/passwd', 'LineAsString')",
    "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')",
    "SELECT * FROM remote('127.0.0.1', system.one)",
    "SELECT * FROM s3('http://127.0.0.1:1/b/k', 'CSV')",
    "SELECT * FROM executable('id', 'LineAsString', 'x String')",
    'SELECT 1 INTO OUTFILE \'/tmp/quaylogs-bridge-out\'',
    'SELECT number FROM numbers(10) SETTINGS max_result_rows = 0',
    'SELECT 1; DROP TABLE usage_logs',
    // The read-only guard's known bypasses: a `#` comment hiding a table function, and a
    // subquery's SETTINGS lifting readonly.
    "SELECT * FROM (SELECT * FROM file# c\n('/etc/passwd', LineAsString) SETTINGS `readonly` = 0)",
    "SELECT * FROM url# c\n('http://127.0.0.1:1/', LineAsString)",
    'SELECT * FROM exports',
  ];
  it.each(writes)('refuses %s and changes nothing', async (sql) => {
    const res = await post(sql);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.text).toMatch(/^Code: \d+\. DB::Exception: /);
    expect(await countUsageLogs(f.store)).toBe(stored);
  });

  it('lets BI tools browse the catalog (system.databases, system.tables, system.columns) and nothing else of system', async () => {
    const tables = await get("SELECT name FROM system.tables WHERE database = 'quaylogs' AND name = 'usage_logs'");
    expect([tables.status, tables.text]).toEqual([200, 'usage_logs\n']);
    const columns = await get("SELECT type FROM system.columns WHERE database = 'quaylogs' AND table = 'usage_logs' AND name = 'namespace'");
    expect(columns.status).toBe(200);
    expect(columns.text).toMatch(/String/);
    expect((await get("SELECT name FROM system.databases WHERE name = 'quaylogs'")).text).toBe('quaylogs\n');
    const processes = await get('SELECT query FROM system.processes');
    expect(processes.status).toBe(403);
    expect(processes.text).toMatch(/system\.processes is not one ad-hoc SQL may read/);
  });

  const overrides = [
    ['readonly', '0'],
    ['readonly', '2'],
    ['max_result_rows', '0'],
    ['max_result_rows', '100000000'],
    ['max_execution_time', '3600'],
    ['max_result_bytes', '0'],
    ['allow_ddl', '1'],
    ['output_format_schema', '/tmp/schema.capnp'],
    ['format_template_resultset', '/etc/passwd'],
    ['max_threads', '1000'],
    ['compress', '1'],
  ];
  it.each(overrides)('refuses the setting override %s=%s', async (name, value) => {
    const res = await get('SELECT 1', ADMIN, `&${name}=${encodeURIComponent(value)}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.text).toContain(name);
  });

  it('the engine itself refuses writes and file access even if the guard let them through (readonly = 1)', async () => {
    const lax = await startBridge(async (sql) => ({ ok: true as const, sql }));
    try {
      for (const sql of ["INSERT INTO usage_logs (namespace, event_key) SELECT 'evil', 1", 'CREATE TABLE pwned (x UInt8) ENGINE = Memory', "SELECT * FROM file('/etc/passwd', 'LineAsString')"]) {
        const res = await fetch(`${lax.url}/`, { method: 'POST', headers: ADMIN, body: sql });
        const text = await res.text();
        expect([res.status, text]).toEqual([403, expect.stringMatching(/^Code: 164\. .*\(READONLY\)/)]);
      }
      expect(await countUsageLogs(f.store)).toBe(stored);
    } finally {
      await lax.b.close();
    }
  });

  it('refuses the test lane\'s writes outside the test switch', () => {
    const prev = process.env.QUAYLOGS_TEST_BRIDGE_WRITES;
    delete process.env.QUAYLOGS_TEST_BRIDGE_WRITES;
    try {
      expect(() =>
        createClickHouseHttpBridge({ engine, database: 'quaylogs', authenticate: async () => null, guard: (sql, explainAst) => guardReadOnlySql(f.store, sql, { extraTables: BI_CATALOG_TABLES, explainAst }), limits: LIMITS, testWrites: true }),
      ).toThrow(/accepts writes only in the test suite/);
    } finally {
      if (prev !== undefined) process.env.QUAYLOGS_TEST_BRIDGE_WRITES = prev;
    }
  });
});

describe('ClickHouse HTTP interface: limits', () => {
  it('stops a runaway query at its time limit while other requests keep being answered', async () => {
    const order: string[] = [];
    const runaway = post('SELECT count() FROM numbers(100000000000) WHERE number % 7 = 3').then((r) => {
      order.push('runaway');
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    const light = get('SELECT 42').then((r) => {
      order.push('light');
      return r;
    });
    const api = fetch(`${f.url}/readyz`).then((r) => {
      order.push('api');
      return r.status;
    });
    const [slow, quick, apiStatus] = await Promise.all([runaway, light, api]);
    expect(order.indexOf('runaway')).toBe(2);
    expect(quick.text).toBe('42\n');
    expect(apiStatus).toBe(200);
    expect(slow.status).toBe(408);
    expect(slow.text).toMatch(/^Code: 159\. DB::Exception: Timeout exceeded.*\(TIMEOUT_EXCEEDED\)/);
    // The next answers are exactly theirs (no leftover output of the stopped query).
    for (let i = 0; i < 4; i++) expect((await get(`SELECT ${i}`)).text).toBe(`${i}\n`);
  });

  it('answers 503 TOO_MANY_SIMULTANEOUS_QUERIES when every session is busy and the queue is full', async () => {
    const small = await openEngineSessions({ path: join(f.dir!, 'clickhouse'), size: 1, maxWaiting: 1 });
    const b = createClickHouseHttpBridge({ engine: small, database: 'quaylogs', authenticate: tokenAuthenticator(f.store), guard: (sql, explainAst) => guardReadOnlySql(f.store, sql, { extraTables: BI_CATALOG_TABLES, explainAst }), limits: LIMITS });
    const base = `http://127.0.0.1:${await b.listen(0, '127.0.0.1')}`;
    try {
      const send = (sql: string) => fetch(`${base}/`, { method: 'POST', headers: ADMIN, body: sql }).then(async (r) => ({ status: r.status, text: await r.text() }));
      const running = send('SELECT count() FROM numbers(100000000000) WHERE number % 7 = 3');
      await new Promise((r) => setTimeout(r, 150));
      const queued = send('SELECT 1');
      await new Promise((r) => setTimeout(r, 50));
      const refused = await send('SELECT 2');
      expect(refused.status).toBe(503);
      expect(refused.text).toMatch(/^Code: 202\. DB::Exception: Too many simultaneous queries.*\(TOO_MANY_SIMULTANEOUS_QUERIES\)/);
      expect((await running).status).toBe(408);
      expect(await queued).toEqual({ status: 200, text: '1\n' });
    } finally {
      await b.close();
      small.close();
    }
  });

  it('caps result rows at the configured limit', async () => {
    const res = await get('SELECT number FROM numbers(5000)');
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/Limit for result exceeded, max rows: 1\.00 thousand/);
  });
});
