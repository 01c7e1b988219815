/**
 * Event keys computed in worker threads are the keys the importing thread computes: the
 * same function over the same rows, split by second so every ordinal counts the same rows.
 */
import { afterAll, expect, it } from 'vitest';
import { assignContentKeys } from '@quaylogs/core';
import { quayRows } from '@quaylogs/testing';
import { ContentKeyPool } from '../src/import/contentKeys.ts';
import type { UnkeyedRow } from '../src/import/eventKeys.ts';

const pools: ContentKeyPool[] = [];
afterAll(async () => {
  for (const p of pools) await p.close();
});

/** Rows over a few minutes with many identical entries in one second, interleaved with others. */
function rows(n: number): UnkeyedRow[] {
  const base: UnkeyedRow[] = quayRows(n, { stepMs: 37, start: new Date('2024-06-18T10:00:00Z') }).map(({ event_key: _, ...r }) => r);
  // Every 5th row repeats a row a few places before it, later in the same second.
  return base.map((r, i) => (i % 5 === 4 ? { ...base[i - 3]!, datetime: `${base[i - 3]!.datetime.slice(0, 19)}.999` } : r));
}

it('gives the keys assignContentKeys gives, identical entries of a second included, with 1 to 3 workers', async () => {
  const list = rows(12_000);
  const expected = assignContentKeys(list.map((r) => ({ ...r }))).map((r) => r.event_key);
  // Twins share their content: only their ordinals tell them apart.
  expect(new Set(expected).size).toBe(list.length);
  expect(new Set(list.map((r) => `${r.metadata} ${r.datetime.slice(0, 19)}`)).size).toBe(list.length - list.length / 5);
  for (const threads of [1, 2, 3]) {
    const pool = new ContentKeyPool(threads);
    pools.push(pool);
    expect(await pool.keys(list)).toEqual(expected);
    // Again on the same workers (message ids, reused parts).
    expect(await pool.keys(list.slice(100))).toEqual(assignContentKeys(list.slice(100).map((r) => ({ ...r }))).map((r) => r.event_key));
    // Both lists went to the workers (a pool whose workers cannot start hashes in the calling thread).
    expect(pool.inWorkers).toBe(2);
  }
}, 60_000);
