/**
 * Quay's `splunk` logs model reading from quaylogs' Splunk search API, over HTTP on
 * loopback, with the exact requests splunk-sdk 2.1.0 sends (one new connection each):
 *
 * P4: a Quay UI logs page — create + status + results (count 21) for the largest
 *     namespace's 30 days — against Quay's own page 1 in PostgreSQL (P1's query). No
 *     target: like P3, the PostgreSQL column lacks Quay's Python/HTTP layer and its three
 *     HTTP requests to Splunk, so it is a lower bound that quaylogs' full path is set against.
 * E3: Quay's export of the largest namespace's 30 days through the search API in
 *     5,000-row batches at growing offsets (create + status + results per batch), the
 *     total time against Quay's cumulative 30 s export budget; PostgreSQL: Quay's own
 *     export walk (yield_logs_for_export's windows, rows fetched, nothing rendered).
 */
import { startApi } from '../apiServer.ts';
import { comparePages, type Entry, pgEntry } from '../compare.ts';
import { DAY_MS, naiveUtc, SOURCE } from '../dataset.ts';
import { getUserOrOrg, quayExportBatches, quayPage } from '../pg/quayQueries.ts';
import { timed, timePair } from '../timing.ts';
import type { BenchContext, Figure, Measurement } from '../types.ts';
import { exportBatches, exportSpl, lookupSpl } from '../../../services/api/test/splunkQuay.ts';
import { SplunkSdkClient } from '../../../services/api/test/splunkSdkClient.ts';

const SEARCH_TOKEN = 'bench-search-token-0123456789abcdef';
const EXPORT_BATCH = 5_000;
/** Searches on the mid-size namespace before P4's timed runs (see there). */
const WARM_UP_SEARCHES = 10;
/** Quay's EXPORT_ACTION_LOGS_MAXIMUM_QUERY_TIME_SECONDS default. */
const QUAY_EXPORT_BUDGET_MS = 30_000;

/** Python's `datetime.isoformat()` of a naive UTC datetime (microseconds only when non-zero). */
function isoformat(d: Date): string {
  const ms = d.getUTCMilliseconds();
  return d.toISOString().slice(0, 19) + (ms ? `.${String(ms * 1000).padStart(6, '0')}` : '');
}

/** JSON text with keys sorted at every depth, so both sides' metadata compare equal. */
function sortedJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`).join(',')}}`;
}

/** An entry of the search API's results, from its `_raw`. */
function rawEntry(row: Record<string, unknown>): Entry {
  const raw = JSON.parse(String(row._raw)) as { datetime: number; kind: string; performer: string | null; ip: string | null; metadata_json: unknown };
  return {
    datetime: naiveUtc(new Date(Math.round(raw.datetime * 1000))),
    kind: raw.kind,
    performer: raw.performer ?? '',
    ip: raw.ip ?? '',
    metadata: sortedJson(raw.metadata_json),
  };
}

async function withSearchApi<T>(ctx: BenchContext, fn: (client: SplunkSdkClient) => Promise<T>): Promise<T> {
  const api = await startApi(ctx.store, ctx.opts.now, { QUAYLOGS_SEARCH_TOKENS: `${SOURCE}=${SEARCH_TOKEN}` });
  try {
    const client = new SplunkSdkClient(api.url, SEARCH_TOKEN);
    // Once per Quay process (server/info twice); not part of any page.
    await client.jobsApi();
    return await fn(client);
  } finally {
    await api.close();
  }
}

export const p4: Figure = {
  id: 'P4',
  title: 'Quay UI logs page via the Splunk search API, largest namespace',
  unit: 'ms',
  better: 'lower',
  unavailable: async () => null,
  async measure(ctx): Promise<Measurement> {
    const w = ctx.data.last30;
    const ns = ctx.data.subjects.top.namespace;
    const kinds = ctx.data.ids.kindName;
    const spl = lookupSpl(null, { namespace: ns });
    return withSearchApi(ctx, async (client) => {
      // A first view: every run is a search the API has not seen — its window starts one more
      // whole day later (still a UI window of whole days; page 1, the newest entries, is the
      // same) — so no counts are reused.
      let fresh = 0;
      const page = (shiftDays: number) =>
        client.search(spl, { count: 21, offset: 0, earliest: isoformat(new Date(w.start.getTime() + shiftDays * DAY_MS)), latest: isoformat(w.end) });
      // A live API and Quay's client are warm: the first ~20 requests of a process (undici's
      // and the routes' JIT warm-up) are timed on another namespace, whose data the timed
      // searches never read, so no result or count of theirs is cached.
      const warmSpl = lookupSpl(null, { namespace: ctx.data.subjects.mid.namespace });
      for (let i = 0; i < WARM_UP_SEARCHES; i++) await client.search(warmSpl, { count: 21, offset: 0, earliest: isoformat(w.start), latest: isoformat(w.end) });
      const r = await timePair({
        runs: ctx.opts.runs,
        pg: () => quayPage(ctx.pg, { start: naiveUtc(w.start), end: naiveUtc(w.end), namespace: ns }, null),
        quaylogs: () => page(++fresh),
        check: (a, b) =>
          comparePages(
            a.rows.map((x) => ({ ...pgEntry(x, kinds), metadata: sortedJson(JSON.parse(x.metadata_json)) })),
            b.rows.slice(0, 20).map(rawEntry),
            'page 1 via the search API',
          ),
      });
      // The next page soon after (Quay's UI paging): the search's counts are reused.
      await page(0);
      const repeat = await timed(() => page(0));
      return {
        ...r, // pg, quaylogs, their runs and the answer check
        notes: [
          `first view of a search (no counts reused) ${r.quaylogs.toFixed(1)} ms; the same search again within 10 s (the counts reused, as when paging on) ${repeat.ms.toFixed(1)} ms`,
          `timed after ${WARM_UP_SEARCHES} warm-up searches on the mid-size namespace ${ctx.data.subjects.mid.namespace} (the API and the client warm, as when Quay has run a while; nothing of the timed namespace cached)`,
          `namespace ${ns}, 30-day window; SPL \`${spl}\`, count 21: POST search/v2/jobs/ + GET the job + POST its results, each on a new loopback connection (splunk-sdk 2.1.0's requests)`,
          "PostgreSQL column: Quay's database work for its own page 1 (P1's query, no Python/HTTP layer): a lower bound for Quay",
        ],
      };
    });
  },
};

export const e3: Figure = {
  id: 'E3',
  title: "Quay's export via the Splunk search API, 5,000-row batches, largest namespace, 30 days",
  unit: 'ms',
  better: 'lower',
  target: { kind: 'max', value: QUAY_EXPORT_BUDGET_MS, text: "whole export within Quay's 30 s budget" },
  unavailable: async () => null,
  async measure(ctx): Promise<Measurement> {
    const w = ctx.data.last30;
    const ns = ctx.data.subjects.top.namespace;
    // Quay's export window: the start day through the end day, "+1 day − 1 ms".
    const end = new Date(w.end.getTime() - 1);
    const nsRow = await getUserOrOrg(ctx.pg, ns);
    if (!nsRow) throw new Error(`namespace ${ns} has no user row`);
    const spl = exportSpl(null, { namespace: ns });
    return withSearchApi(ctx, async (client) => {
      const qlSide = async () => {
        const batches = await exportBatches(client, spl, EXPORT_BATCH, isoformat(w.start), isoformat(end));
        return { rows: batches.reduce((n, b) => n + b.length, 0), batches: batches.length };
      };
      const pgSide = async () => {
        let rows = 0;
        const stats = { queries: 0 };
        for await (const batch of quayExportBatches(ctx.pg, nsRow.id, w.start.getTime(), end.getTime(), stats)) rows += batch.length;
        return { rows, batches: stats.queries };
      };
      let info = { pg: { rows: 0, batches: 0 }, ql: { rows: 0, batches: 0 } };
      const r = await timePair({
        runs: ctx.opts.runs,
        pg: pgSide,
        quaylogs: qlSide,
        check: (a, b) => {
          info = { pg: a, ql: b };
          return { equal: a.rows === b.rows && a.rows > 0, detail: `exported rows: PostgreSQL ${a.rows.toLocaleString('en-US')}, search API ${b.rows.toLocaleString('en-US')} in ${b.batches} batches` };
        },
      });
      // The last batch alone: the deepest offset, the one an O(offset) design would make slowest.
      const lastOffset = Math.max(0, (info.ql.batches - 1) * EXPORT_BATCH);
      const last = await timed(() => client.search(spl, { count: EXPORT_BATCH, offset: lastOffset, earliest: isoformat(w.start), latest: isoformat(end) }));
      const first = await timed(() => client.search(spl, { count: EXPORT_BATCH, offset: 0, earliest: isoformat(w.start), latest: isoformat(end) }));
      const rate = (ms: number) => Math.round(info.ql.rows / (ms / 1000)).toLocaleString('en-US');
      return {
        ...r, // pg, quaylogs, their runs and the answer check
        notes: [
          `namespace ${ns}, ${info.ql.rows.toLocaleString('en-US')} rows in ${info.ql.batches} batches of ${EXPORT_BATCH.toLocaleString('en-US')} (create + status + results each): ${rate(r.quaylogs)} rows/s via the search API, ${rate(r.pg)} rows/s for Quay's own PostgreSQL walk (${info.pg.batches} window queries)`,
          `one batch: ${(r.quaylogs / Math.max(1, info.ql.batches)).toFixed(0)} ms on average; offset 0 ${first.ms.toFixed(0)} ms, the deepest offset (${lastOffset.toLocaleString('en-US')}) ${last.ms.toFixed(0)} ms`,
          `target: the whole export within Quay's cumulative ${QUAY_EXPORT_BUDGET_MS / 1000} s budget (EXPORT_ACTION_LOGS_MAXIMUM_QUERY_TIME_SECONDS); PostgreSQL column: rows fetched only, nothing rendered — a lower bound for Quay`,
        ],
      };
    });
  },
};
