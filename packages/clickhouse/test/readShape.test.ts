/**
 * What `query` hands back, on both backends (the embedded engine read through a chDB session;
 * the server backend over HTTP in the server lane): rows as the engine wrote them (newlines,
 * quotes and non-ASCII inside values, 64-bit integers as text), no rows as an empty list, and
 * a statement the engine refuses as an error carrying the engine's code and name, after which
 * the same reader answers the next statement with its own rows.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestStore } from '@quaylogs/testing';

const opening = openTestStore();
let store: Awaited<typeof opening>['store'];
beforeAll(async () => void ({ store } = await opening), 120_000);
afterAll(async () => (await opening).cleanup());

it('returns every row as written, values holding newlines and quotes included', async () => {
  const rows = await store.query<{ n: string; s: string }>({
    name: 'test.readRows',
    sql: 'SELECT number AS n, concat({text:String}, toString(number)) AS s FROM numbers(3) ORDER BY n',
    params: { text: 'a\nb "c"\\ é\r\n' },
  });
  expect(rows).toEqual([0, 1, 2].map((n) => ({ n: String(n), s: `a\nb "c"\\ é\r\n${n}` })));
});

it('a large result keeps every row, in order, multi-byte text and empty strings included', async () => {
  const rows = await store.query<{ n: string; s: string }>({
    name: 'test.readMany',
    sql: "SELECT number AS n, if(number % 7 = 0, '', concat({text:String}, toString(number))) AS s FROM numbers(20000) ORDER BY n",
    params: { text: 'ñ→漢字 🚢 {"k":[1,2]}\t' },
  });
  expect(rows).toHaveLength(20000);
  rows.forEach((r, i) => {
    if (r.n !== String(i) || r.s !== (i % 7 === 0 ? '' : `ñ→漢字 🚢 {"k":[1,2]}\t${i}`)) throw new Error(`row ${i} came back as ${JSON.stringify(r)}`);
  });
});

it('no rows is an empty list', async () => {
  expect(await store.query({ name: 'test.readNone', sql: 'SELECT number FROM numbers(5) WHERE number > {n:UInt8}', params: { n: 9 } })).toEqual([]);
});

it("a refused statement rejects with the engine's code and name; the next read gets its own answer", async () => {
  // Both readers, so whichever one the refused statement ran on is checked afterwards.
  const refused = [1, 2].map(() => store.query({ name: 'test.readUnknownTable', sql: 'SELECT * FROM no_such_table_here WHERE x = {x:UInt8}', params: { x: 1 } }));
  for (const r of refused) await expect(r).rejects.toMatchObject({ code: '60', type: 'UNKNOWN_TABLE', message: expect.stringMatching(/no_such_table_here/) });
  const after = await Promise.all([1, 2].map((i) => store.query<{ i: number }>({ name: 'test.readAfter', sql: 'SELECT {i:UInt8} AS i', params: { i } })));
  expect(after).toEqual([[{ i: 1 }], [{ i: 2 }]]);
});
