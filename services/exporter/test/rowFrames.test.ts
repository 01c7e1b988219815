/**
 * RowFrames: a streamed RowBinary result of one String column read back into its values,
 * however the stream is cut (the engine's and HTTP's chunk boundaries fall anywhere, also
 * inside a length or a multi-byte character). Bytes from the real engine.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestStore } from '@quaylogs/testing';
import { RowFrames } from '../src/rowFrames.ts';

const opening = openTestStore();
let store: Awaited<typeof opening>['store'];
beforeAll(async () => void ({ store } = await opening), 120_000);
afterAll(async () => (await opening).cleanup());

// Lengths 0 to 40,000 bytes: one-, two- and three-byte varints.
const SQL = `SELECT if(number % 7 = 0, '', repeat(concat('é', toString(number), unhex('00')), (number * number) % 3000)) FROM numbers(60) ORDER BY number`;

function decode(stream: Buffer, cut: number): string[] {
  const frames = new RowFrames();
  const values: string[] = [];
  for (let at = 0; at < stream.length; at += cut) {
    const { bodies, ends } = frames.push(stream.subarray(at, at + cut));
    ends.forEach((end, i) => values.push(bodies.toString('utf8', i === 0 ? 0 : ends[i - 1], end)));
  }
  frames.finish();
  return values;
}

it('every value once, in order, whatever the chunk size', async () => {
  const parts: Buffer[] = [];
  for await (const c of store.streamRaw({ name: 'test.frames', sql: SQL, format: 'RowBinary' })) parts.push(Buffer.from(c));
  const stream = Buffer.concat(parts);
  const expected = await store.query<{ v: string }>({ name: 'test.values', sql: SQL.replace('FROM numbers', 'AS v FROM numbers') });
  expect(expected).toHaveLength(60);
  for (const cut of [1, 2, 3, 5, 64, 4096, 65_536, stream.length]) {
    expect(decode(stream, cut), `chunks of ${cut}`).toEqual(expected.map((r) => r.v));
  }
});

it('a stream that ends inside a value is an error, not a short export', async () => {
  const parts: Buffer[] = [];
  for await (const c of store.streamRaw({ name: 'test.frames', sql: SQL, format: 'RowBinary' })) parts.push(Buffer.from(c));
  const stream = Buffer.concat(parts);
  const frames = new RowFrames();
  frames.push(stream.subarray(0, stream.length - 3));
  expect(() => frames.finish()).toThrow(/ended inside a value/);
});
