/**
 * The loader's insert stores every string exactly as given (whatever format it sends): tabs, newlines, carriage returns, backslashes, NUL, a literal
 * `\N`, non-ASCII and astral characters, empty strings. Real embedded ClickHouse.
 */
import { expect, it } from 'vitest';
import type { UsageLogRow } from '@quaylogs/core';
import { insertUsageLogs, USAGE_LOG_COLUMNS } from '../src/index.ts';
import { useTestStore } from '@quaylogs/testing';

const file = useTestStore();

const AWKWARD = ['a\tb', 'line\nbreak', 'cr\rhere', 'back\\slash', 'nul\0byte', '\\N', '\\t literal', 'café 😀', '', ' lead and trail ', '"quoted"', "it's"];

function row(i: number, text: string): UsageLogRow {
  return {
    source: `s${text}`,
    namespace: `ns-${text}`,
    repository: text,
    kind: `k${text}`,
    performer: text,
    ip: text,
    datetime: `2024-06-0${1 + (i % 3)} 12:34:56.${String(i).padStart(3, '0')}`,
    metadata: JSON.stringify({ text }),
    event_key: String(340_282_366_920_938_463_463_374_607_431_768_211_455n - BigInt(i)),
    request_url: `/v2/${text}`,
    http_method: text,
    user_agent: text,
    request_id: text,
    auth_type: text,
    performer_kind: text,
    x_forwarded_for: text,
  };
}

it('stores every field exactly as given, escapes and all', async () => {
  const rows = AWKWARD.map((t, i) => row(i, t));
  await insertUsageLogs(file.store, rows, 'roundtrip');
  const back = await file.store.query<UsageLogRow>({
    name: 'test.roundtrip',
    sql: `SELECT ${USAGE_LOG_COLUMNS.map((c) => (c === 'event_key' ? 'toString(event_key) AS event_key' : c === 'datetime' ? 'toString(datetime) AS datetime' : c)).join(', ')} FROM usage_logs ORDER BY event_key DESC`,
  });
  expect(back).toEqual(rows);
  // The same token again is a retry: ClickHouse drops it.
  await insertUsageLogs(file.store, rows, 'roundtrip');
  const [n] = await file.store.query<{ n: string }>({ name: 'test.count', sql: 'SELECT count() AS n FROM usage_logs' });
  expect(Number(n!.n)).toBe(rows.length);
});

it('refuses a column list that is not plain column names, and inserts nothing', async () => {
  const [before] = await file.store.query<{ n: string }>({ name: 'test.count', sql: 'SELECT count() AS n FROM usage_logs' });
  await expect(file.store.insert({ table: 'usage_logs', rows: [row(50, 'x')], columns: ['source', 'namespace) SELECT 1 --'] })).rejects.toThrow(/invalid column list/);
  await expect(file.store.insert({ table: 'usage_logs', rows: [row(51, 'x')], columns: [] })).rejects.toThrow(/invalid column list/);
  const [after] = await file.store.query<{ n: string }>({ name: 'test.count', sql: 'SELECT count() AS n FROM usage_logs' });
  expect(after!.n).toBe(before!.n);
});

it('a row the engine cannot parse fails with the engine’s error name (what the loader classifies), and the next insert is stored', async () => {
  const [before] = await file.store.query<{ n: string }>({ name: 'test.count', sql: 'SELECT count() AS n FROM usage_logs' });
  const bad = { ...row(60, 'bad'), datetime: 'not a datetime' };
  const err = (await insertUsageLogs(file.store, [row(61, 'ok'), bad], 'bad-batch').catch((e: unknown) => e)) as { type?: string; message?: string };
  expect(err).toBeInstanceOf(Error);
  // The embedded engine's raw insert names the error; a server's HTTP answer to a streamed body
  // can arrive without it (the loader then falls back to retries and bisection).
  if (file.store.backend === 'embedded') expect(`${err.type} ${err.message}`).toMatch(/CANNOT_PARSE_[A-Z_]+/);
  await insertUsageLogs(file.store, [row(62, 'after')], 'after-bad');
  const [after] = await file.store.query<{ n: string }>({ name: 'test.count', sql: 'SELECT count() AS n FROM usage_logs' });
  expect(Number(after!.n)).toBe(Number(before!.n) + 1);
});
