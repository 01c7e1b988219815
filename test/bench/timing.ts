/**
 * Side-by-side timing: one warm-up run per side, then `runs` timed runs that
 * alternate which side goes first, with both answers checked equal.
 */
import type { AnswerCheck } from './types.ts';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export interface PairResult {
  pgRuns: number[];
  quaylogsRuns: number[];
  pg: number;
  quaylogs: number;
  check: AnswerCheck;
}

/**
 * Times the same question on both sides. The warm-up answers and the last
 * timed answers are checked; the first failing check is the one reported.
 */
export async function timePair<A, B>(opts: {
  runs: number;
  pg: () => Promise<A>;
  quaylogs: () => Promise<B>;
  check: (pg: A, quaylogs: B) => AnswerCheck;
}): Promise<PairResult> {
  const warmPg = await opts.pg();
  const warmQl = await opts.quaylogs();
  let check = opts.check(warmPg, warmQl);
  const pgRuns: number[] = [];
  const qlRuns: number[] = [];
  let lastPg: A = warmPg;
  let lastQl: B = warmQl;
  for (let i = 0; i < opts.runs; i++) {
    const order = i % 2 === 0 ? (['pg', 'ql'] as const) : (['ql', 'pg'] as const);
    for (const side of order) {
      if (side === 'pg') {
        const r = await timed(opts.pg);
        pgRuns.push(r.ms);
        lastPg = r.value;
      } else {
        const r = await timed(opts.quaylogs);
        qlRuns.push(r.ms);
        lastQl = r.value;
      }
    }
  }
  if (check.equal && opts.runs > 0) check = opts.check(lastPg, lastQl);
  return { pgRuns, quaylogsRuns: qlRuns, pg: median(pgRuns), quaylogs: median(qlRuns), check };
}
