/**
 * One benchmark run: build both stores from the same generated data, run each
 * selected figure (or report why it cannot be measured), tear everything down.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { loadBoth, type Subjects } from './dataset.ts';
import { allFigures } from './figures/index.ts';
import { createBenchDatabase, dropBenchDatabase, serverSettings, serverVersion } from './pg/database.ts';
import { engineVersion, openBenchStore, reopenBenchStore, settleMerges } from './quaylogsStore.ts';
import { failed, judge, measuredSoFar, notMeasured } from './report.ts';
import { type BenchContext, type BenchOptions, FIGURE_IDS, type FigureResult, NotMeasured } from './types.ts';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  options: { rows: number; runs: number; seed: number; now: string; only: string[] | null };
  machine: Machine;
  versions: { node: string; postgres: string | null; clickhouse: string | null };
  postgresSettings: Record<string, string> | null;
  load: { seconds: number; vacuumSeconds: number; mergeSettleSeconds: number; mergesSettled: boolean; usageLogParts: number } | null;
  subjects: Subjects | null;
  results: FigureResult[];
}

/** The run was stopped by a signal (after tearing down). */
export class Interrupted extends Error {
  override name = 'Interrupted';
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

export function machine(): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    /* not Linux */
  }
  return {
    cpus: cpus().length,
    cpuModel,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const selected = allFigures.filter((f) => !opts.only || opts.only.includes(f.id));
  selected.sort((a, b) => FIGURE_IDS.indexOf(a.id) - FIGURE_IDS.indexOf(b.id));
  const unavailable = new Map<string, string>();
  opts.log('checking which figures have their code');
  for (const f of selected) {
    const reason = await f.unavailable(opts);
    if (reason !== null) unavailable.set(f.id, reason);
  }
  const report: BenchReport = {
    startedAt,
    finishedAt: startedAt,
    options: { rows: opts.rows, runs: opts.runs, seed: opts.seed, now: opts.now.toISOString(), only: opts.only ?? null },
    machine: machine(),
    versions: { node: process.version, postgres: null, clickhouse: null },
    postgresSettings: null,
    load: null,
    subjects: null,
    results: [],
  };
  const measurable = selected.filter((f) => !unavailable.has(f.id));
  if (measurable.length === 0) {
    report.results = selected.map((f) => notMeasured(f, unavailable.get(f.id)!));
    report.finishedAt = new Date().toISOString();
    return report;
  }

  const scratch = mkdtempSync(join(tmpdir(), 'quaylogs-bench-'));
  // The embedded engine's background threads may still write parts after the store is
  // closed; the last word is the process's exit.
  process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
  let client: pg.Client | null = null;
  let store: ClickHouseStore | null = null;
  // Ctrl-C / SIGTERM: dropping the scratch database ends whatever PostgreSQL work is in
  // flight, so the run unwinds through its normal teardown (store closed, scratch
  // directory removed) and then reports the interruption. Child processes see their
  // command channel close and stop on their own. If nothing unwinds within 20 s, exit anyway.
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = signal;
    opts.log(`${signal}: stopping`);
    void dropBenchDatabase(opts.pgUrl, opts.pgDatabase).catch(() => undefined);
    setTimeout(() => {
      rmSync(scratch, { recursive: true, force: true });
      process.exit(130);
    }, 20_000).unref();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    opts.log(`PostgreSQL: creating ${opts.pgDatabase} with Quay's schema`);
    client = await createBenchDatabase(opts.pgUrl, opts.pgDatabase);
    const opened = await openBenchStore(scratch);
    store = opened.store;
    report.versions.postgres = await serverVersion(client);
    report.versions.clickhouse = await engineVersion(store);
    report.postgresSettings = await serverSettings(client);
    opts.log(`loading ${opts.rows.toLocaleString('en-US')} generated rows (seed ${opts.seed}, now ${opts.now.toISOString()}) into both stores`);
    const data = await loadBoth({ rows: opts.rows, seed: opts.seed, now: opts.now, pg: client, store, log: opts.log });
    opts.log(`  waiting for ClickHouse merges to settle (at most ${opts.settleSeconds} s)`);
    const settle = await settleMerges(store, opts.settleSeconds);
    report.load = {
      seconds: data.load.seconds,
      vacuumSeconds: data.load.vacuumSeconds,
      mergeSettleSeconds: settle.seconds,
      mergesSettled: settle.settled,
      usageLogParts: settle.parts,
    };
    report.subjects = data.subjects;
    const ctx: BenchContext = {
      opts,
      pg: client,
      store,
      storePath: opened.path,
      data,
      scratch,
      async withStoreReleased(fn) {
        await ctx.store.close();
        store = null;
        try {
          return await fn();
        } finally {
          store = await reopenBenchStore(opened.path);
          ctx.store = store;
        }
      },
    };

    for (const f of selected) {
      const reason = unavailable.get(f.id);
      if (reason !== undefined) {
        report.results.push(notMeasured(f, reason));
        opts.log(`${f.id}: not measured (${reason})`);
        continue;
      }
      opts.log(`${f.id}: ${f.title}…`);
      const t0 = performance.now();
      try {
        const m = await f.measure(ctx);
        const r = judge(f, m, (performance.now() - t0) / 1000, measuredSoFar(report.results));
        report.results.push(r);
        opts.log(`${f.id}: ${r.status}${r.check ? ` — ${r.check.detail}` : ''}`);
      } catch (err) {
        const seconds = (performance.now() - t0) / 1000;
        if (interrupted) throw err;
        if (err instanceof NotMeasured) {
          report.results.push({ ...notMeasured(f, err.message), seconds });
          opts.log(`${f.id}: not measured (${err.message})`);
        } else {
          const msg = (err as Error).stack ?? String(err);
          report.results.push(failed(f, (err as Error).message ?? String(err), seconds));
          opts.log(`${f.id}: FAILED ${msg}`);
        }
      }
    }
  } finally {
    opts.log('tearing down');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Let background merges finish first: the engine would otherwise write their parts
    // into the scratch directory after it was removed.
    if (store) await settleMerges(store, 30).catch(() => undefined);
    if (store) await store.close().catch(() => {});
    if (client) await client.end().catch(() => {});
    await dropBenchDatabase(opts.pgUrl, opts.pgDatabase).catch((err: Error) => opts.log(`could not drop ${opts.pgDatabase}: ${err.message}`));
    rmSync(scratch, { recursive: true, force: true });
    opts.log('torn down');
    // eslint-disable-next-line no-unsafe-finally -- deliberate: an interrupted run ends with Interrupted after the teardown
    if (interrupted) throw new Interrupted(interrupted);
  }
  report.finishedAt = new Date().toISOString();
  return report;
}
