/**
 * Physical floors, measured in the same run as the figure they bound: what the engine
 * cannot go below for the same question on this machine. The issue allows a target that
 * cannot be met here to be judged "within 20 % of a physical floor measured in the same
 * run"; a floor is timed interleaved with the figure's own quaylogs path (A, B, C, A, B, C…),
 * so both see the same machine.
 *
 * A statement's floor is the same statement reduced to its smallest read: the statement
 * quaylogs issued (recorded), one column, one row — the same table, the same WHERE (sort-key
 * range, partitions, parts), the same ORDER BY. What remains above it is the columns and
 * rows the answer needs. `SELECT 1` through the same store is the per-statement cost of the
 * embedded engine and its client alone.
 */
import type { ClickHouseStore, QuerySpec } from '@quaylogs/clickhouse';
import { median } from './timing.ts';
import type { Measurement } from './types.ts';

/** Timed runs of each function, alternating their order; the median of each (after one warm-up each). */
export async function timeInterleaved<K extends string>(runs: number, fns: Record<K, () => Promise<unknown>>): Promise<Record<K, number>> {
  const names = Object.keys(fns) as K[];
  for (const n of names) await fns[n]();
  const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as unknown as Record<K, number[]>;
  for (let i = 0; i < runs; i++) {
    for (const n of i % 2 === 0 ? names : [...names].reverse()) {
      const t0 = performance.now();
      await fns[n]();
      times[n].push(performance.now() - t0);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(times[n])])) as Record<K, number>;
}

/**
 * The smallest read a recorded statement can be reduced to: its last SELECT (a UNION's last
 * part: the rollup body of an aggregate), `column` only, one row.
 */
export function smallestRead(spec: QuerySpec, column: string): QuerySpec {
  const last = spec.sql.split(/\sUNION ALL\s/).at(-1)!.trim();
  const reduced = last.replace(/^SELECT\s[\s\S]+?\sFROM\s/, `SELECT ${column} FROM `);
  if (reduced === last) throw new Error(`cannot reduce statement ${spec.name} to its smallest read`);
  const limited = /LIMIT \{limit:UInt32\}$/.test(reduced);
  return {
    name: `${spec.name}.floor`,
    sql: limited ? reduced : `${reduced} LIMIT 1`,
    params: { ...spec.params, ...(limited ? { limit: 1 } : {}) },
  };
}

export const SELECT_ONE: QuerySpec = { name: 'bench.selectOne', sql: 'SELECT 1 AS one' };

/** Runs at least this many times: floors are cheap, and a median of 5 is noisy on a shared machine. */
export const FLOOR_RUNS = 15;

/**
 * Times `path` (the figure's quaylogs side) interleaved with the smallest read of its last
 * recorded statement and with `SELECT 1`; the result for Measurement.floor, and a note.
 */
export async function statementFloor(
  store: ClickHouseStore,
  runs: number,
  path: () => Promise<unknown>,
  recorded: readonly QuerySpec[],
  column: string,
): Promise<{ floor: NonNullable<Measurement['floor']>; note: string }> {
  const spec = recorded.at(-1);
  if (!spec) throw new Error('the figure issued no statement to take a floor of');
  const small = smallestRead(spec, column);
  const rows = await store.query(small);
  if (rows.length !== 1) throw new Error(`the floor statement of ${spec.name} read ${rows.length} rows, not 1`);
  const t = await timeInterleaved(Math.max(runs, FLOOR_RUNS), {
    path,
    smallest: () => store.query(small),
    selectOne: () => store.query(SELECT_ONE),
  });
  const text = `${spec.name} reduced to ${column}, 1 row`;
  return {
    floor: { value: t.smallest, at: t.path, text },
    note:
      `floor, interleaved in the same run (${Math.max(runs, FLOOR_RUNS)} runs each): the figure's path ${t.path.toFixed(2)} ms; ` +
      `its statement reduced to its smallest read (${text}) ${t.smallest.toFixed(2)} ms; SELECT 1 through the store ${t.selectOne.toFixed(2)} ms`,
  };
}
