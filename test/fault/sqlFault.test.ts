/**
 * The ad-hoc SQL guard under attack: the red team's bypass strings as fixed cases, and
 * statements assembled at random from the pieces such bypasses are made of (comments of
 * every kind, quoting, SETTINGS in subqueries, file/url/remote readers, other databases).
 * Properties: never a 5xx, never the content of a local file, tables unchanged. Then a
 * statement hitting each limit while /logs keeps answering.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call } from '@quaylogs/api/testing';
import { count, type FaultApi, report, SEED, snapshot, startFaultApi, tally } from './support.ts';

let api: FaultApi;
beforeAll(async () => {
  api = await startFaultApi();
});
afterAll(async () => api?.close());

const sql = (query: string) => call(api.f, 'POST', '/api/v1/superuser/sql', { body: { query } });

/** Issue 9's reproductions, verbatim. */
const REPRODUCTIONS = [
  "SELECT * FROM (SELECT * FROM file# c\n('/etc/passwd', LineAsString) SETTINGS `readonly` = 0)",
  "SELECT * FROM (SELECT * FROM url# c\n('http://127.0.0.1:1/', LineAsString) SETTINGS `readonly` = 0)",
  "SELECT * FROM (SELECT * FROM file('/etc/hostname', LineAsString) SETTINGS readonly = 0)",
];

const LEAK = /root:x:0:0|daemon:/;

it('the reproductions are refused with 400 and nothing is read', async () => {
  for (const q of REPRODUCTIONS) {
    const res = await sql(q);
    expect([q, res.status]).toEqual([q, 400]);
    expect(JSON.stringify(res.body)).not.toMatch(LEAK);
  }
});

it('random statements built from bypass pieces: no 5xx, no file content, tables unchanged', async () => {
  const gap = fc.constantFrom(' ', '\n', '/**/', '/* x */', '-- c\n', '# c\n', '#!c\n', '\t');
  const fn = fc.constantFrom('file', 'url', 'remote', 'mysql', 's3', 'executable', 'merge', 'loop', 'view', 'filesystem', 'dictionary', 'numbers', 'input', 'jdbc');
  const quoted = fn.chain((name) => fc.constantFrom(name, `\`${name}\``, `"${name}"`, name.toUpperCase(), `\`${name.replace('i', '\\x69')}\``));
  const source = fc.oneof(
    fc.tuple(quoted, gap).map(([f, g]) => `${f}${g}('/etc/passwd', LineAsString)`),
    fc.constantFrom('usage_logs', 'system.users', 'system.tables', 'exports', 'quaylogs.exports', 'INFORMATION_SCHEMA.TABLES', 'numbers(3)'),
  );
  const settings = fc.constantFrom('', ' SETTINGS readonly = 0', ' SETTINGS `readonly` = 0', ' SETTINGS readonly=0, allow_ddl=1', ' SETTINGS max_memory_usage = 0');
  const inner = fc.tuple(source, settings, gap).map(([s, set, g]) => `(SELECT *${g}FROM ${s}${set})`);
  const statement = fc.oneof(
    fc.tuple(gap, fc.oneof(inner, source), settings).map(([g, from, set]) => `SELECT *${g}FROM ${from}${set}`),
    fc.tuple(inner, gap).map(([i, g]) => `WITH x AS ${i}${g}SELECT * FROM x`),
    fc.tuple(source, gap).map(([s, g]) => `SELECT 1;${g}SELECT * FROM ${s}`),
    fc.tuple(source, fc.constantFrom(" INTO OUTFILE '/tmp/quaylogs-fault-out'", ' FORMAT TSV', ' UNION ALL SELECT 1')).map(([s, tail]) => `SELECT * FROM ${s}${tail}`),
    fc.string({ unit: 'binary', maxLength: 60 }),
  );
  const t = tally();
  const before = await snapshot(api);
  const offenders: string[] = [];
  await fc.assert(
    fc.asyncProperty(statement, async (q) => {
      t.cases++;
      const res = await sql(q);
      count(t, res.status);
      if (res.status >= 500 || LEAK.test(JSON.stringify(res.body))) offenders.push(`${res.status} ${JSON.stringify(q)}: ${JSON.stringify(res.body).slice(0, 200)}`);
      return offenders.length === 0;
    }),
    { seed: SEED, numRuns: 250, endOnFailure: true },
  ).catch((err: unknown) => offenders.push(`property failed: ${String(err).slice(0, 2000)}`));
  report('sql-guard', t);
  expect(offenders).toEqual([]);
  expect(await snapshot(api)).toEqual(before);
}, 300_000);

it('a statement hitting each limit is stopped with a 400 while /logs keeps answering', async () => {
  const t = tally();
  const limits: [string, RegExp][] = [
    ['SELECT sum(number) AS s FROM numbers(1000000000000)', /longer than 5 s/],
    ["SELECT length(groupArray(repeat('x', 10000))) AS n FROM numbers(1000000)", /memory/],
    ["SELECT repeat('x', 100000) AS big FROM numbers(1000)", /result is larger than/],
  ];
  for (const [q, says] of limits) {
    t.cases++;
    const running = sql(q);
    const during: number[] = [];
    let settled = false;
    void running.finally(() => (settled = true));
    do {
      const logs = await call(api.f, 'GET', '/api/v1/superuser/logs');
      const ready = await call(api.f, 'GET', '/readyz', { token: null });
      count(t, logs.status);
      count(t, ready.status);
      during.push(logs.status, ready.status);
    } while (!settled);
    const res = await running;
    count(t, res.status);
    expect([q, res.status]).toEqual([q, 400]);
    expect(res.body.detail).toMatch(says);
    expect(new Set(during)).toEqual(new Set([200]));
  }
  report('sql-limits', t);
}, 180_000);
