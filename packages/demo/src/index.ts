/**
 * @quaylogs/demo — a deterministic, seeded generator of realistic Quay usage logs.
 */
import type { UsageLogRow } from '../../core/src/usageLog.ts';
import { accountKindHandlers } from './accountKinds.ts';
import { MAX_DEMO_ROWS } from './eventKey.ts';
import { repoKindHandlers } from './repoKinds.ts';
import { RowGen } from './rowGen.ts';
import { defaultOrganizations, worldModel, type DemoRepository, type DemoWorld } from './world.ts';

export type { DemoRepository, DemoWorld } from './world.ts';
export { KIND_MIX } from './kindMix.ts';

export interface DemoOptions {
  /** Total number of rows to generate. */
  rows: number;
  /** PRNG seed (default 42). */
  seed?: number;
  /** End of the time window, exclusive (default: the current time). */
  now?: Date;
  /** Length of the time window in days (default 90). */
  days?: number;
  /** `source` column of every row (default 'demo'). */
  source?: string;
  /** Number of organizations (default max(20, rows / 2000), at most 2000). */
  organizations?: number;
}

interface Resolved {
  rows: number;
  seed: number;
  now: number;
  days: number;
  source: string;
  organizations: number;
}

function resolve(opts: DemoOptions): Resolved {
  const { rows } = opts;
  if (!Number.isSafeInteger(rows) || rows < 0 || rows > MAX_DEMO_ROWS) throw new RangeError(`demo rows must be an integer in [0, 2^48], got ${rows}`);
  const seed = opts.seed ?? 42;
  if (!Number.isFinite(seed)) throw new RangeError(`demo seed must be a finite number, got ${seed}`);
  const now = (opts.now ?? new Date()).getTime();
  if (!Number.isFinite(now)) throw new RangeError('demo now must be a valid Date');
  const days = opts.days ?? 90;
  if (!(days > 0) || !Number.isFinite(days)) throw new RangeError(`demo days must be a positive number, got ${days}`);
  const source = opts.source ?? 'demo';
  const organizations = opts.organizations ?? defaultOrganizations(rows);
  if (!Number.isInteger(organizations) || organizations < 1) throw new RangeError(`demo organizations must be a positive integer, got ${organizations}`);
  return { rows, seed, now, days, source, organizations };
}

/** The accounts and repositories the demo rows refer to; depends only on the seed and the organization count. */
export function demoWorld(opts: DemoOptions): DemoWorld {
  const r = resolve(opts);
  const w = worldModel(r.seed, r.organizations).publicWorld;
  // Copies: callers may mutate what they get without disturbing the cached world.
  return {
    accounts: w.accounts.map((a) => ({ ...a })),
    repositories: w.repositories.map((x): DemoRepository => ({ ...x })),
    organizations: [...w.organizations],
    users: [...w.users],
    robots: [...w.robots],
  };
}

/**
 * Exactly `opts.rows` rows in batches of `batchSize` (the last may be shorter),
 * in time order. The rows do not depend on `batchSize`.
 */
export function* demoRows(opts: DemoOptions, batchSize = 10_000): Generator<UsageLogRow[]> {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const r = resolve(opts);
  if (r.rows === 0) return;
  const gen = new RowGen(r, worldModel(r.seed, r.organizations), { ...repoKindHandlers, ...accountKindHandlers });
  for (let done = 0; done < r.rows; ) {
    const n = Math.min(batchSize, r.rows - done);
    yield gen.batch(n);
    done += n;
  }
}
