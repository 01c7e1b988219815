/**
 * `streamRaw`: a result's bytes in RawBLOB or RowBinary, chunk by chunk, nothing decoded, on
 * both backends (real embedded engine; the server backend over HTTP in the server lane). The
 * chunks concatenated are exactly what `queryRaw` returns; a large result arrives in many
 * chunks; leaving the loop early ends the statement and the store answers the next one; a
 * failed statement throws; a format outside the list is refused before anything runs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RawFormat } from '@quaylogs/clickhouse';
import { openTestStore } from '@quaylogs/testing';

const opening = openTestStore();
let store: Awaited<typeof opening>['store'];
beforeAll(async () => void ({ store } = await opening), 120_000);
afterAll(async () => (await opening).cleanup());

async function collect(format: RawFormat, sql: string, params: Record<string, unknown> = {}): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const c of store.streamRaw({ name: 'test.streamRaw', sql, params, format })) chunks.push(Buffer.from(c));
  return chunks;
}

it('RawBLOB: the same bytes queryRaw returns, in the query order', async () => {
  const sql = `SELECT concat({prefix:String}, toString(number), if(number = 1, unhex('00ff0d0a'), ''), 'é|') FROM numbers(3) ORDER BY number DESC`;
  const chunks = await collect('RawBLOB', sql, { prefix: 'n=' });
  expect(Buffer.concat(chunks)).toEqual(await store.queryRaw({ name: 'test.raw', sql, params: { prefix: 'n=' } }));
  expect(Buffer.concat(chunks)).toEqual(Buffer.concat([Buffer.from('n=2é|n=1'), Buffer.from([0x00, 0xff, 0x0d, 0x0a]), Buffer.from('é|n=0é|')]));
});

it('RowBinary: each value after its length as a varint (one and two bytes long)', async () => {
  const chunks = await collect('RowBinary', `SELECT repeat('x', number * 100) FROM numbers(3) ORDER BY number`);
  expect(Buffer.concat(chunks)).toEqual(Buffer.concat([Buffer.from([0]), Buffer.from([100]), Buffer.from('x'.repeat(100)), Buffer.from([0xc8, 0x01]), Buffer.from('x'.repeat(200))]));
});

it('a large result comes in many chunks, every byte once', async () => {
  const chunks = await collect('RawBLOB', `SELECT concat(leftPad(toString(number), 8, '0'), repeat('.', 92)) FROM numbers(200000) ORDER BY number SETTINGS max_block_size = 1000`);
  expect(chunks.length).toBeGreaterThan(10);
  const all = Buffer.concat(chunks);
  expect(all.length).toBe(200_000 * 100);
  expect(all.toString('latin1', 199_999 * 100, 199_999 * 100 + 8)).toBe('00199999');
});

it('leaving the loop early ends the statement; the store answers the next one', async () => {
  let seen = 0;
  for await (const c of store.streamRaw({ name: 'test.early', sql: `SELECT repeat('y', 100) FROM numbers(300000) SETTINGS max_block_size = 1000`, format: 'RawBLOB' })) {
    seen += c.length;
    break;
  }
  expect(seen).toBeGreaterThan(0);
  expect(await store.query({ name: 'test.after', sql: 'SELECT 7 AS n' })).toEqual([{ n: 7 }]);
  expect(Buffer.concat(await collect('RawBLOB', "SELECT 'next'")).toString()).toBe('next');
});

it('a failed statement throws; a format outside the list is refused', async () => {
  await expect(collect('RawBLOB', 'SELECT toString(throwIf(number = 2, {msg:String})) FROM numbers(5)', { msg: 'boom' })).rejects.toThrow(/boom/);
  await expect(collect('TSV' as RawFormat, "SELECT 'x'")).rejects.toThrow(/invalid raw format/);
  expect(Buffer.concat(await collect('RawBLOB', "SELECT 'after'")).toString()).toBe('after');
});
