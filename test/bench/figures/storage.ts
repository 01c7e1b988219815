/**
 * S1: bytes on disk per stored entry.
 * PostgreSQL: pg_total_relation_size('logentry3') — heap, TOAST and Quay's five
 * indexes — after VACUUM ANALYZE.
 * quaylogs: bytes_on_disk of the active parts of usage_logs and its three
 * rollups (system.parts), after background merges settled.
 */
import { tableSizes } from '../quaylogsStore.ts';
import type { Figure, Measurement } from '../types.ts';

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

export const s1: Figure = {
  id: 'S1',
  title: 'bytes on disk per stored entry',
  unit: 'bytes/row',
  better: 'lower',
  target: { kind: 'ratio', min: 8, text: '≤ 1/8 of PostgreSQL (≥ 8×)' },
  unavailable: async () => null,
  async measure(ctx): Promise<Measurement> {
    const pgr = await ctx.pg.query<{ total: number; heap: number; indexes: number; toast: number; rows: number }>(
      `SELECT pg_total_relation_size('logentry3')::bigint AS total,
              pg_relation_size('logentry3')::bigint AS heap,
              pg_indexes_size('logentry3')::bigint AS indexes,
              (pg_total_relation_size('logentry3') - pg_relation_size('logentry3') - pg_indexes_size('logentry3'))::bigint AS toast,
              (SELECT count(*) FROM logentry3)::bigint AS rows`,
    );
    const p = pgr.rows[0]!;
    const idx = await ctx.pg.query<{ name: string; size: number }>(
      `SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid)::bigint AS size
       FROM pg_index WHERE indrelid = 'logentry3'::regclass ORDER BY 2 DESC`,
    );
    const sizes = await tableSizes(ctx.store);
    const ch = sizes.reduce((s, t) => s + t.bytesOnDisk, 0);
    const chRows = sizes.find((t) => t.table === 'usage_logs')?.rows ?? 0;
    const rows = ctx.opts.rows;
    const equal = p.rows === rows && chRows === rows;
    return {
      pg: p.total / rows,
      quaylogs: ch / rows,
      check: {
        equal,
        detail: `entries stored: PostgreSQL ${p.rows.toLocaleString('en-US')}, quaylogs ${chRows.toLocaleString('en-US')} (generated ${rows.toLocaleString('en-US')})`,
      },
      notes: [
        `PostgreSQL logentry3 ${mb(p.total)}: heap ${mb(p.heap)}, TOAST ${mb(p.toast)}, indexes ${mb(p.indexes)}`,
        `quaylogs ${mb(ch)}: ${sizes.map((t) => `${t.table} ${mb(t.bytesOnDisk)} (${t.parts} parts)`).join(', ')}`,
        'quaylogs also stores the extended-logging fields (request URL, method, user agent, request id, auth type, performer kind, X-Forwarded-For) that Quay\'s table model drops, plus source, namespace and repository names instead of ids',
      ],
      profile: {
        pg: idx.rows.map((r) => `${r.name}: ${mb(r.size)}`),
        quaylogs: sizes.map((t) => `${t.table}: ${t.rows.toLocaleString('en-US')} rows, ${mb(t.bytesOnDisk)}, ${t.parts} parts`),
      },
    };
  },
};
