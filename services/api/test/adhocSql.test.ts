/**
 * Ad-hoc SQL: the engine decides what a statement is (EXPLAIN AST), so the
 * bypasses a red team found are refused; limits stop a runaway query with a 400
 * while /logs and /readyz keep answering; the row cap is exactly the documented one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardReadOnlySql, runAdhocSql, SQL_MAX_ROWS } from '../src/index.ts';
import { type ApiFixture, call, logRow, seed, startApi } from './fixtures.ts';

let f: ApiFixture;
beforeAll(async () => {
  f = await startApi({ QUAYLOGS_QUERY_TIMEOUT_S: '4' });
  await seed(f, [logRow(), logRow({ repository: 'api' })]);
});
afterAll(async () => f?.close());

const sql = (query: string) => call(f, 'POST', '/api/v1/superuser/sql', { body: { query } });

/** The red team's reproductions and their relatives: every one must be refused. */
export const SQL_BYPASSES = [
  "SELECT * FROM (SELECT * FROM file# c\n('/etc/passwd', LineAsString) SETTINGS `readonly` = 0)",
  "SELECT * FROM (SELECT * FROM url# c\n('http://127.0.0.1:1/', LineAsString) SETTINGS `readonly` = 0)",
  "SELECT * FROM (SELECT * FROM file('/etc/hostname', LineAsString) SETTINGS readonly = 0)",
  "SELECT * FROM file#\n('/etc/passwd', LineAsString)",
  "SELECT * FROM url#\n('http://127.0.0.1:1/', LineAsString)",
  "SELECT line FROM (SELECT * FROM `file`('/etc/passwd', LineAsString)) LIMIT 1",
  "SELECT count() FROM usage_logs WHERE 1 IN (SELECT 1 SETTINGS readonly = 0)",
  "SELECT 1 UNION ALL (SELECT 2 SETTINGS max_memory_usage = 0)",
  "SELECT * FROM system.users",
  "SELECT name FROM system.tables",
  "SELECT * FROM INFORMATION_SCHEMA.TABLES",
  'SELECT * FROM exports',
  'SELECT * FROM quaylogs.exports',
  'SELECT 1 WHERE 1 IN system.one',
  'SELECT 1 WHERE 1 IN exports',
  "SELECT * FROM merge('system', '.*')",
  'SELECT * FROM loop(exports)',
  "SELECT * FROM filesystem('/')",
  "SELECT * FROM view(SELECT * FROM file('/etc/passwd', LineAsString))",
  'SELECT * FROM (EXPLAIN SELECT 1)',
  "SELECT dictGet('d', 'x', 1)",
  "SELECT hasColumnInTable('127.0.0.1', 'system', 'one', 'dummy')",
  "SELECT joinGet('exports', 'x', 1)",
  "WITH (SELECT * FROM file('/etc/passwd', LineAsString) LIMIT 1) AS x SELECT x",
  "SELECT 1 FROM numbers(1) ARRAY JOIN [file('/etc/hostname')] AS x",
  "DESCRIBE TABLE file('/etc/passwd', CSVWithNames)",
  'DESCRIBE TABLE system.users',
  'SHOW TABLES FROM system',
  'SHOW CREATE TABLE exports',
  'EXISTS TABLE system.users',
  "EXPLAIN SELECT * FROM file('/etc/passwd')",
];

describe('the SQL guard (engine-parsed)', () => {
  it.each(SQL_BYPASSES.map((q) => [q]))('refuses %j with 400 and no file content', async (query) => {
    const res = await sql(query);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ error_type: 'invalid_request', status: 400 });
    expect(JSON.stringify(res.body)).not.toMatch(/root:x:0:0/);
  });

  it('allows what a reader needs: documented tables, WITH names, generators, comments, DESCRIBE, SHOW TABLES', async () => {
    const ok = [
      "SELECT u.repository FROM usage_logs AS u WHERE u.namespace = 'acme' ORDER BY 1",
      'WITH repos AS (SELECT repository FROM usage_logs) SELECT count() AS n FROM repos',
      "SELECT count() AS n FROM usage_logs # a hash comment\nWHERE namespace IN (SELECT namespace FROM usage_daily_repo) -- another",
      'SELECT count() AS n FROM quaylogs.usage_logs WHERE repository IN usage_daily_repo',
      "SELECT sum(number) AS s FROM numbers(10) WHERE number IN (1, 2)",
      "SELECT format('{}-{}', 'a', 'b') AS f",
      'DESCRIBE TABLE usage_logs',
      'SHOW TABLES',
    ];
    for (const q of ok) {
      const res = await sql(q);
      expect(res.status, `${q}: ${JSON.stringify(res.body)}`).toBe(200);
    }
    expect((await sql("SELECT format('{}-{}', 'a', 'b') AS f")).body.rows).toEqual([{ f: 'a-b' }]);
  });

  it('guardReadOnlySql returns the canonical statement it checked (comments gone), or the reason', async () => {
    const g = await guardReadOnlySql(f.store, 'SELECT 1 AS one -- comment\n# another\n;');
    expect(g).toEqual({ ok: true, sql: 'SELECT 1 AS one', kind: 'select' });
    const multi = await guardReadOnlySql(f.store, 'SELECT 1; SELECT 2');
    expect(multi.ok).toBe(false);
    if (!multi.ok) expect(multi.reason).toMatch(/Multi-statements/);
  });
});

describe('the row cap', () => {
  it(`returns exactly ${SQL_MAX_ROWS} rows and says truncated when there are more`, async () => {
    const more = await sql('SELECT number FROM numbers(70000)');
    expect(more.status).toBe(200);
    expect(more.body.row_count).toBe(SQL_MAX_ROWS);
    expect(more.body.rows).toHaveLength(SQL_MAX_ROWS);
    expect(more.body.truncated).toBe(true);
    const exact = await sql(`SELECT number FROM numbers(${SQL_MAX_ROWS})`);
    expect([exact.body.row_count, exact.body.truncated]).toEqual([SQL_MAX_ROWS, false]);
    const one = await sql(`SELECT number FROM numbers(${SQL_MAX_ROWS + 1})`);
    expect([one.body.row_count, one.body.truncated]).toEqual([SQL_MAX_ROWS, true]);
    const union = await sql(`SELECT number FROM numbers(6000) UNION ALL SELECT number FROM numbers(6000)`);
    expect([union.body.row_count, union.body.truncated]).toEqual([SQL_MAX_ROWS, true]);
  });
});

describe('limits', () => {
  it('a query past the memory limit is stopped with a 400 that says so', async () => {
    const res = await runAdhocSql(f.store, 'SELECT length(groupArray(number)) AS n FROM numbers(250000000)', {
      timeoutS: 60,
      maxMemoryBytes: 64 * 1024 * 1024,
      maxResultBytes: 1024 * 1024,
    }).then(
      () => 'ran',
      (err: Error) => err.message,
    );
    expect(res).toMatch(/more than 67108864 bytes of memory/);
  });

  it('a result larger than the byte limit is refused', async () => {
    const res = await sql("SELECT repeat('x', 100000) AS big FROM numbers(1000)");
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/result is larger than/);
  });

  it('a query past the time limit is stopped with a 400, while /logs and /readyz keep answering', async () => {
    const slow = sql('SELECT sum(number) AS s FROM numbers(1000000000000)');
    const during: number[] = [];
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const [logs, ready] = await Promise.all([
        call(f, 'GET', '/api/v1/organization/acme/logs', { headers: {} }),
        call(f, 'GET', '/readyz', { token: null }),
      ]);
      during.push(logs.status, ready.status);
    }
    const res = await slow;
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/longer than 4 s/);
    expect(during.length).toBeGreaterThan(2);
    expect(new Set(during)).toEqual(new Set([200]));
  });

  it('more ad-hoc queries than may wait are refused with 429; none is a 5xx', async () => {
    const many = await Promise.all(Array.from({ length: 8 }, () => sql('SELECT sum(number) AS s FROM numbers(30000000)')));
    const statuses = many.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
  });
});
