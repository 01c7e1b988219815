/**
 * The benchmark's vocabulary: options, the shared context every figure gets,
 * a figure module, and what a figure reports.
 */
import type pg from 'pg';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import type { BenchData } from './dataset.ts';

export const FIGURE_IDS = [
  'Q1', 'Q2', 'Q3', 'Q4', 'Q5', 'Q6',
  'P1', 'P2', 'P3', 'P4',
  'E1', 'E2', 'E3',
  'I0', 'I1', 'I2', 'I3',
  'S1',
  // Last: it adds the events it posts and the rows it imports to the bench store.
  'I4',
] as const;
export type FigureId = (typeof FIGURE_IDS)[number];

export interface BenchOptions {
  /** Rows generated for both sides. */
  rows: number;
  /** Timed runs per side and figure (after one warm-up run per side). */
  runs: number;
  /** Only these figures (all when undefined). */
  only?: FigureId[];
  /** Demo generator seed (one seed for both sides). */
  seed: number;
  /** End of the generated 90-day window (one fixed instant per run). */
  now: Date;
  /** PostgreSQL server; the bench creates and drops the database `pgDatabase` on it. */
  pgUrl: string;
  /** Scratch database for Quay's tables (default `quaylogs_bench`). */
  pgDatabase: string;
  /** Redis for the ingest figures (a database index of its own: it is flushed). */
  redisUrl: string;
  /** Longest wait for ClickHouse background merges after the load, in seconds. */
  settleSeconds: number;
  /** Progress lines (stderr by default). */
  log: (line: string) => void;
}

/** Everything the figures share: both loaded stores and the dataset facts. */
export interface BenchContext {
  opts: BenchOptions;
  /** Connected to `quaylogs_bench`, Quay's tables loaded. */
  pg: pg.Client;
  /** The quaylogs store (embedded ClickHouse), loaded and settled. */
  store: ClickHouseStore;
  /** Data directory of the embedded engine (for a chDB session used by profiles). */
  storePath: string;
  /**
   * Closes the store, runs `fn` (which may open the data directory in another
   * process: the engine binds it to one process at a time), then reopens it as `store`.
   */
  withStoreReleased<T>(fn: () => Promise<T>): Promise<T>;
  data: BenchData;
  /** Scratch directory removed at the end of the run. */
  scratch: string;
}

export type Target =
  /** quaylogs must beat PostgreSQL by at least this factor (PostgreSQL time ÷ quaylogs time, or the inverse for throughput). */
  | { kind: 'ratio'; min: number; text: string }
  /** quaylogs' own value must be at most / at least this. */
  | { kind: 'max'; value: number; text: string }
  | { kind: 'min'; value: number; text: string }
  /**
   * Judged against another figure's quaylogs value in the same run: at least `fraction` of it
   * (`min`, throughputs: I1 ≥ 80 % of I0), or at most `plus` above it (`maxOver`, latencies: P3
   * within 3 ms of the function-level page). Unjudged when that figure was not measured.
   */
  | { kind: 'minOf'; figure: FigureId; fraction: number; text: string }
  | { kind: 'maxOver'; figure: FigureId; plus: number; text: string }
  /** One of the measurement's secondary values (`Measurement.values[key]`) must be at most this (I4's p99.9 and max). */
  | { kind: 'maxValue'; key: string; value: number; text: string }
  /** Every one of these; the text names them all. */
  | { kind: 'all'; of: Exclude<Target, { kind: 'all' }>[]; text: string };

export interface AnswerCheck {
  equal: boolean;
  /** What was compared, e.g. "412 (kind, day) counts, 1,903,211 entries". */
  detail: string;
}

/** What a figure module measures. */
export interface Measurement {
  /** PostgreSQL (Quay's logs model) value in `unit`; null when the figure has no baseline. */
  pg: number | null;
  quaylogs: number | null;
  /** Individual timed runs, in `unit`. */
  pgRuns?: number[];
  quaylogsRuns?: number[];
  check: AnswerCheck;
  /** Secondary values in `unit` that targets may judge (e.g. I4's `p99.9` and `max`). */
  values?: Record<string, number>;
  notes?: string[];
  /** Where the time goes on each side (plans, rows read), for the report of a miss. */
  profile?: { pg?: string[]; quaylogs?: string[] };
  /**
   * The figure's physical floor on this machine, measured in the same run (floors.ts): `value`,
   * timed interleaved with the figure's own path, which took `at` in those same runs. A missed
   * target is reported with how far `at` lies above `value` (the issue: within 20 %).
   */
  floor?: { value: number; at: number; text: string };
}

export interface Figure {
  id: FigureId;
  title: string;
  /** Unit of `pg` / `quaylogs`. */
  unit: 'ms' | 'bytes/row' | 'rows/s' | 'events/s' | 'MB';
  /** Which direction is better for the values (decides how the ratio is formed). */
  better: 'lower' | 'higher';
  target?: Target;
  /**
   * null when the code this figure measures exists; otherwise why it cannot be
   * measured yet (reported as "not measured (reason)", never faked).
   */
  unavailable(opts: BenchOptions): Promise<string | null>;
  measure(ctx: BenchContext): Promise<Measurement>;
}

export type FigureStatus = 'met' | 'missed' | 'measured' | 'not measured' | 'failed';

export interface FigureResult {
  id: FigureId;
  title: string;
  unit: string;
  status: FigureStatus;
  pg: number | null;
  quaylogs: number | null;
  /** How many times better quaylogs is than PostgreSQL (>1: quaylogs better). */
  ratio: number | null;
  target: string | null;
  met: boolean | null;
  /** For a miss: by how much. */
  miss?: string;
  /** For "not measured" and "failed": why. */
  reason?: string;
  check?: AnswerCheck;
  pgRuns?: number[];
  quaylogsRuns?: number[];
  notes?: string[];
  profile?: { pg?: string[]; quaylogs?: string[] };
  floor?: Measurement['floor'];
  seconds: number;
}

/** Thrown by a figure that cannot be measured on this data or machine; reported as "not measured (reason)". */
export class NotMeasured extends Error {
  override name = 'NotMeasured';
}
