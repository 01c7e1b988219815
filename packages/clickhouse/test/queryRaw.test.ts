/**
 * `queryRaw`: the bytes ClickHouse writes in RawBLOB format, nothing decoded — the values of
 * the one selected String column back to back, whatever they hold (NUL, CR LF, bytes that are
 * not UTF-8), with typed parameters, on both backends (real embedded engine; the server
 * backend over HTTP in the server lane). A failed statement rejects, and the next one answers
 * with its own result.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestStore } from '@quaylogs/testing';

const opening = openTestStore();
let store: Awaited<typeof opening>['store'];
beforeAll(async () => void ({ store } = await opening), 120_000);
afterAll(async () => (await opening).cleanup());

it('returns the selected values back to back, byte for byte, in the query order', async () => {
  const out = await store.queryRaw({
    name: 'test.raw',
    sql: `SELECT concat({prefix:String}, toString(number), if(number = 1, unhex('00ff0d0a'), ''), 'é|')
          FROM numbers(3) ORDER BY number DESC`,
    params: { prefix: 'n=' },
  });
  expect(out).toEqual(Buffer.concat([Buffer.from('n=2é|'), Buffer.from('n=1'), Buffer.from([0x00, 0xff, 0x0d, 0x0a]), Buffer.from('é|n=0é|')]));
});

it('an empty result is an empty buffer', async () => {
  const out = await store.queryRaw({ name: 'test.rawEmpty', sql: 'SELECT toString(number) FROM numbers(10) WHERE number > {n:UInt32}', params: { n: 100 } });
  expect(out.length).toBe(0);
});

it('a failed statement rejects, and the next one gets its own answer', async () => {
  await expect(store.queryRaw({ name: 'test.rawBad', sql: 'SELECT toString(throwIf(number = 2, {msg:String})) FROM numbers(5)', params: { msg: 'boom' } })).rejects.toThrow(/boom/);
  const out = await store.queryRaw({ name: 'test.rawAfter', sql: "SELECT 'after'" });
  expect(out.toString()).toBe('after');
});
