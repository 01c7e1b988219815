/**
 * `npm run bench` — quaylogs against Quay's own logs store (PostgreSQL), side by
 * side on the same generated data. See docs/benchmarks.md.
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { Interrupted, runBench } from './harness.ts';
import { BENCH_DB, DEFAULT_PG_URL } from './pg/database.ts';
import { renderTable } from './report.ts';
import { FIGURE_IDS, type FigureId } from './types.ts';

/** A Redis database index no other suite uses (the ingest figures need the ingest stream's fixed keys to themselves). */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/12';

/** The default `now`: fixed, so every run generates the very same data. */
export const DEFAULT_NOW = '2025-06-15T13:00:00Z';

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v.replace(/[_,]/g, ''));
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function figureList(v: string): FigureId[] {
  const ids = v.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  for (const id of ids) {
    if (!(FIGURE_IDS as readonly string[]).includes(id)) throw new InvalidArgumentError(`unknown figure ${id} (known: ${FIGURE_IDS.join(', ')})`);
  }
  return ids as FigureId[];
}

function instant(v: string): Date {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError('must be an ISO-8601 instant, e.g. 2025-06-15T13:00:00Z');
  return d;
}

const program = new Command('bench')
  .description("quaylogs against Quay's logentry3 in PostgreSQL, on the same generated data")
  .addOption(new Option('--rows <n>', 'rows generated for both sides').default(10_000_000).argParser(positiveInt('--rows')))
  .addOption(new Option('--runs <n>', 'timed runs per side and figure, after a warm-up').default(5).argParser(positiveInt('--runs')))
  .addOption(new Option('--only <figures>', `comma-separated figures (${FIGURE_IDS.join(',')})`).argParser(figureList))
  .addOption(new Option('--json <file>', 'also write the results as JSON to this file'))
  .addOption(new Option('--seed <n>', 'demo generator seed').default(42).argParser(positiveInt('--seed')))
  .addOption(new Option('--now <iso>', 'end of the generated 90 days').default(instant(DEFAULT_NOW), DEFAULT_NOW).argParser(instant))
  .addOption(new Option('--settle <seconds>', 'longest wait for ClickHouse merges after the load').default(600).argParser(positiveInt('--settle')))
  .addOption(new Option('--pg-url <url>', 'PostgreSQL server').env('BENCH_PG_URL').default(DEFAULT_PG_URL))
  .addOption(new Option('--redis-url <url>', 'Redis database for the ingest figures (must hold no other keys)').env('BENCH_REDIS_URL').default(DEFAULT_REDIS_URL))
  .addOption(new Option('--pg-database <name>', 'scratch database for Quay\'s tables, created and dropped by the run').default(BENCH_DB))
  .showHelpAfterError();

program.parse();
const o = program.opts<{ rows: number; runs: number; only?: FigureId[]; json?: string; seed: number; now: Date; settle: number; pgUrl: string; pgDatabase: string; redisUrl: string }>();

const started = performance.now();
const report = await runBench({
  rows: o.rows,
  runs: o.runs,
  ...(o.only ? { only: o.only } : {}),
  seed: o.seed,
  now: o.now,
  pgUrl: o.pgUrl,
  pgDatabase: o.pgDatabase,
  redisUrl: o.redisUrl,
  settleSeconds: o.settle,
  log: (line) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`),
}).catch((err: unknown) => {
  if (err instanceof Interrupted) process.exit(130);
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

process.stdout.write(`\n${renderTable(report.results)}\n`);
const v = report.versions;
process.stdout.write(
  `\n${report.options.rows.toLocaleString('en-US')} rows, median of ${report.options.runs} runs; ` +
    `${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB; ` +
    `Node ${v.node}, PostgreSQL ${v.postgres ?? '?'}, ClickHouse ${v.clickhouse ?? '?'} (embedded)\n`,
);
if (o.json) {
  writeFileSync(o.json, JSON.stringify(report, null, 2) + '\n');
  process.stderr.write(`results written to ${o.json}\n`);
}
const broken = report.results.filter((r) => r.status === 'failed');
// The embedded engine's threads would keep the process alive a while; everything is closed.
process.exit(broken.length > 0 ? 1 : 0);
