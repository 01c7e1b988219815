/**
 * Keeps the benchmark from rotting: a small run of the real runner (200,000 rows,
 * one timed run per side) must complete, every figure must be reported with a
 * status, and every figure it measured must have both sides giving the same
 * answer. No speed is asserted here; speed lives in the full run (docs/benchmarks.md).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from './harness.ts';
import { FIGURE_IDS } from './types.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'quaylogs-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Figures whose code exists today; they must be measured, not skipped. */
const ALWAYS_MEASURED = ['Q1', 'Q2', 'Q3', 'Q4', 'Q5', 'Q6', 'P1', 'P2', 'P3', 'S1'];

describe('benchmark suite (small run)', () => {
  let report: BenchReport;

  it('runs to completion on 200,000 rows and writes its JSON', async () => {
    const json = join(dir, 'bench.json');
    // Own PostgreSQL and Redis databases, so this test never disturbs a full run in progress.
    const res = await run(
      process.execPath,
      ['--import', 'tsx', 'test/bench/run.ts', '--rows', '200000', '--runs', '1', '--settle', '30', '--json', json, '--pg-database', `quaylogs_bench_test_${process.pid}`, '--redis-url', `${process.env.QUAYLOGS_TEST_REDIS ?? 'redis://127.0.0.1:6379'}/15`],
      // I0 and I4 added about 20 s to the small run on a quiet machine.
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 170_000 },
    ).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`bench run failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    });
    expect(res.stdout).toContain('figure');
    report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.options.rows).toBe(200_000);
  }, 180_000);

  it('reports every figure with a status, and a reason for any figure it did not measure', () => {
    expect(report.results.map((r) => r.id).sort()).toEqual([...FIGURE_IDS].sort());
    for (const r of report.results) {
      expect(['met', 'missed', 'measured', 'not measured', 'failed'], r.id).toContain(r.status);
      if (r.status === 'not measured') expect(r.reason, r.id).toBeTruthy();
    }
    for (const id of ALWAYS_MEASURED) {
      expect(report.results.find((r) => r.id === id)?.status, id).not.toBe('not measured');
    }
  });

  it('gets the same answer from PostgreSQL and quaylogs for every figure it measured', () => {
    for (const r of report.results) {
      if (r.status === 'not measured') continue;
      expect(r.status, `${r.id}: ${r.reason ?? ''}`).not.toBe('failed');
      expect(r.check?.equal, `${r.id}: ${r.check?.detail}`).toBe(true);
    }
  });
});
