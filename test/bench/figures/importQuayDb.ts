/**
 * I3: `quaylogs import quay-db` — Quay's logentry3 (the bench's PostgreSQL side,
 * loaded with the run's data) read by the importer into the ingest stream and
 * stored by the loader: rows/s from the start of the import until the last row
 * is queryable. Runs in the ingest server process (ingestChild.ts).
 */
import { withDatabase } from '../pg/database.ts';
import { startIngestServer } from '../ingestServer.ts';
import type { Figure, Measurement } from '../types.ts';
import { tryImport } from './codePaths.ts';
import { ingestUnavailable, waitForCount } from './ingest.ts';

const IMPORTER = 'services/ingest/src/import/index.ts';
const SOURCE = 'quay-import';

export const i3: Figure = {
  id: 'I3',
  title: 'import quay-db',
  unit: 'rows/s',
  better: 'higher',
  target: { kind: 'minOf', figure: 'I0', fraction: 0.8, text: '≥ 80 % of I0' },
  async unavailable(opts) {
    const base = await ingestUnavailable(opts, [IMPORTER]);
    if (base) return base;
    const mod = await tryImport<{ importQuayDb?: unknown }>(IMPORTER);
    if (!mod.mod) return mod.reason;
    return typeof mod.mod.importQuayDb === 'function' ? null : `${IMPORTER} has no importQuayDb`;
  },
  async measure(ctx): Promise<Measurement> {
    const pgKinds = await ctx.pg.query<{ kind_id: number; n: number }>('SELECT kind_id, count(*)::bigint AS n FROM logentry3 GROUP BY kind_id');
    const expected = new Map<string, number>();
    let total = 0;
    for (const r of pgKinds.rows) {
      const name = ctx.data.ids.kindName.get(r.kind_id) ?? `#${r.kind_id}`;
      expected.set(name, Number(r.n));
      total += Number(r.n);
    }
    const server = await startIngestServer(ctx.scratch, ctx.opts.redisUrl, SOURCE);
    try {
      const t0 = performance.now();
      const res = await server.call<{ rows: number; skipped: number; completed: boolean; seconds: number }>('import', {
        pgUrl: withDatabase(ctx.opts.pgUrl, ctx.opts.pgDatabase),
        source: SOURCE,
      });
      const stored = await waitForCount(server, total, 120_000, SOURCE);
      const seconds = (performance.now() - t0) / 1000;
      const kinds = (await server.call<{ kinds: Record<string, number> }>('kinds', { source: SOURCE })).kinds;
      let diff = '';
      for (const k of new Set([...expected.keys(), ...Object.keys(kinds)])) {
        if ((expected.get(k) ?? 0) !== (kinds[k] ?? 0)) {
          diff = `kind ${k}: PostgreSQL ${expected.get(k) ?? 0}, imported ${kinds[k] ?? 0}`;
          break;
        }
      }
      return {
        pg: null,
        quaylogs: total / seconds,
        check: {
          equal: diff === '' && res.completed && stored === total,
          detail: diff || `${total.toLocaleString('en-US')} rows in logentry3, ${stored.toLocaleString('en-US')} imported, counts per kind equal`,
        },
        notes: [
          `${total.toLocaleString('en-US')} rows: handed to the ingest stream in ${res.seconds.toFixed(1)} s, all queryable after ${seconds.toFixed(1)} s`,
          'one run (a throughput over the whole table, not a median)',
        ],
      };
    } finally {
      await server.stop();
    }
  },
};
