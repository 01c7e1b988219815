/**
 * I0: the embedded engine's own insert ceiling for `usage_logs` rows with its
 * materialized views, on this machine, in the same run as the ingest figures: ready-made
 * JSONCompactEachRow payloads (the format the store inserts) in 50,000-row batches, timed around
 * the insert statements alone. The notes add the loader's call (row objects, serialisation
 * included) and `INSERT … SELECT` from a Memory table (no parsing: the engine alone).
 * Runs in a fresh ingest server process (ingestChild.ts, engineCeiling.ts).
 */
import { startIngestServer } from '../ingestServer.ts';
import type { Figure, Measurement } from '../types.ts';
import { ingestUnavailable } from './ingest.ts';

export const i0: Figure = {
  id: 'I0',
  title: "the engine's own insert ceiling, usage_logs with its views",
  unit: 'rows/s',
  better: 'higher',
  unavailable: (opts) => ingestUnavailable(opts),
  async measure(ctx): Promise<Measurement> {
    // One batch per variant in small runs (the suite's own test), up to ten in the full run.
    const rows = ctx.opts.rows < 1_000_000 ? 50_000 : Math.min(500_000, Math.max(100_000, Math.round(ctx.opts.rows / 20 / 50_000) * 50_000));
    const server = await startIngestServer(ctx.scratch, ctx.opts.redisUrl, 'i0-bench');
    try {
      const r = await server.call<{ rows: number; payloadRowsPerS: number; jsonRowsPerS: number; loaderRowsPerS: number; engineRowsPerS: number }>('ceiling', {
        rows,
        seed: ctx.opts.seed + 7,
        now: ctx.opts.now.toISOString(),
      });
      const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
      return {
        pg: null,
        quaylogs: r.payloadRowsPerS,
        check: { equal: true, detail: `${fmt(r.rows)} rows per variant, 50,000-row batches, views included` },
        notes: [
          `ready-made JSONCompactEachRow payloads ${fmt(r.payloadRowsPerS)} rows/s (the figure; the same rows as JSONEachRow objects ${fmt(r.jsonRowsPerS)} rows/s); the loader's insertUsageLogs from row objects ${fmt(r.loaderRowsPerS)} rows/s; INSERT … SELECT from a Memory table (no parsing) ${fmt(r.engineRowsPerS)} rows/s`,
          'one run per variant (a throughput over all batches, not a median); a fresh store, rows of the last 30 days',
        ],
      };
    } finally {
      await server.stop();
    }
  },
};
