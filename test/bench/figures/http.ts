/**
 * P3: logs page 1 of the largest namespace over HTTP —
 * GET /api/v1/organization/{ns}/logs?starttime=MM/DD/YYYY&endtime=MM/DD/YYYY
 * against quaylogs' API on loopback (auth, query, avatars, Quay's JSON).
 * PostgreSQL: the database work of the same Quay request (lookup_logs). Quay's own
 * Python/HTTP layer is not running here, so that column is a lower bound for Quay.
 */
import { formatMdy } from '@quaylogs/core';
import { startApi } from '../apiServer.ts';
import { comparePages, httpEntry, pgEntry, toSeconds } from '../compare.ts';
import { DAY_MS, naiveUtc } from '../dataset.ts';
import { quayPage } from '../pg/quayQueries.ts';
import { timePair } from '../timing.ts';
import type { Figure, Measurement } from '../types.ts';

type QuayLogsBody = { logs: Parameters<typeof httpEntry>[0][]; next_page?: string };

export const p3: Figure = {
  id: 'P3',
  title: 'logs page 1 over HTTP, largest namespace',
  unit: 'ms',
  better: 'lower',
  target: {
    kind: 'all',
    text: '≤ 5 ms and ≤ 3 ms over P1 (the same page at function level)',
    of: [
      { kind: 'max', value: 5, text: '≤ 5 ms' },
      { kind: 'maxOver', figure: 'P1', plus: 3, text: '≤ 3 ms over P1' },
    ],
  },
  unavailable: async () => null,
  async measure(ctx): Promise<Measurement> {
    const w = ctx.data.last30;
    const ns = ctx.data.subjects.top.namespace;
    // Quay's dates: starttime is the first day, endtime the last day (served through its end).
    const path =
      `/api/v1/organization/${encodeURIComponent(ns)}/logs` +
      `?starttime=${encodeURIComponent(formatMdy(w.start))}&endtime=${encodeURIComponent(formatMdy(new Date(w.end.getTime() - DAY_MS)))}`;
    const api = await startApi(ctx.store, ctx.opts.now);
    try {
      const kinds = ctx.data.ids.kindName;
      const r = await timePair({
        runs: ctx.opts.runs,
        pg: () => quayPage(ctx.pg, { start: naiveUtc(w.start), end: naiveUtc(w.end), namespace: ns }, null),
        quaylogs: async () => {
          const res = await api.get(path);
          if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
          return res.body as QuayLogsBody;
        },
        check: (a, b) =>
          comparePages(a.rows.map((x) => toSeconds(pgEntry(x, kinds))), b.logs.map(httpEntry), 'page 1 over HTTP (datetimes to the second)'),
      });
      return {
        ...r, // pg, quaylogs, their runs and the answer check
        notes: [
          `GET ${path} on loopback, bearer token, keep-alive`,
          "PostgreSQL column: Quay's database work for this request only (Quay's Python/HTTP layer is not running in the bench): a lower bound for Quay",
        ],
      };
    } finally {
      await api.close();
    }
  },
};
