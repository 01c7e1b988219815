/**
 * Versions of control-plane rows (ReplacingMergeTree(version, …) read with FINAL), taken
 * from the rows' own state, never from a process clock — two hosts whose clocks disagree
 * must not reorder a row's history:
 * - a row with a fixed life of transitions (an app token or a schedule: created, then
 *   deleted) gets a version derived from the transition, so a deleted row stays deleted
 *   whatever write lands late;
 * - any other row (exports and their deliveries, users, grants, checkpoints, accounts)
 *   gets the next number of its own sequence: the largest version stored for it, plus one,
 *   so a write replaces the state its writer could have read. Two writers racing on one
 *   row may pick the same number; ClickHouse then keeps the one it inserted last — one
 *   order, the engine's, never a clock's.
 *
 * Versions written by earlier quaylogs were microseconds since 1970 (below 2^52 until
 * 2112); transition versions start at 2^52, so the first new write of a row replaces them.
 */
import type { ClickHouseStore, Params } from '../store.ts';

export const TRANSITION_VERSION_BASE = 2 ** 52;

/** The version of the `step`-th transition of a row (steps ordered as the row's life is). */
export function transitionVersion(step: number): number {
  if (!Number.isSafeInteger(step) || step < 0 || step >= 2 ** 52) throw new Error(`transition step out of range: ${step}`);
  return TRANSITION_VERSION_BASE + step;
}

const TABLES = new Set(['users', 'grants', 'accounts', 'poll_checkpoints', 'import_checkpoints', 'exports', 'export_deliveries']);

/** The next version of the rows `where` selects in `table`: the largest stored, plus one. */
export async function nextRowVersion(store: ClickHouseStore, table: string, where: string, params: Params): Promise<number> {
  if (!TABLES.has(table)) throw new Error(`nextRowVersion: ${table} is not a sequenced table`);
  const [r] = await store.query<{ v: string | number }>({
    name: `versions.${table}`,
    sql: `SELECT max(version) AS v FROM ${table} WHERE ${where}`,
    params,
  });
  return Number(r?.v ?? 0) + 1;
}
