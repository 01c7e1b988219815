/**
 * P1, P2: logs pages of 20, newest first, largest namespace, 30-day window.
 * PostgreSQL: Quay's lookup_logs (namespace lookup + logentry3 LEFT JOIN performer,
 * ORDER BY datetime DESC LIMIT 21, datetime cursor).
 * quaylogs: listLogPage, the function behind /logs ((datetime, event_key) keyset; the columns
 * Quay's entry shows, as Quay's own page reads its table's).
 */
import { listLogPage, type LogCursor, type LogFilter } from '@quaylogs/clickhouse';
import { LOG_GENERATIONS_KEY, quitRedis, redisForWorkers } from '@quaylogs/queue';
import { LogPageCache } from '../../../services/api/src/logPageCache.ts';
import { comparePages, pgEntry, qlEntry } from '../compare.ts';
import { naiveUtc } from '../dataset.ts';
import { statementFloor } from '../floors.ts';
import { explainAnalyze } from '../pg/database.ts';
import { getUserOrOrg, pageSql, quayPage, type QuayLogFilter, type QuayPageToken } from '../pg/quayQueries.ts';
import { profileStatements, recordingStore } from '../quaylogsStore.ts';
import { timed, timePair } from '../timing.ts';
import { type BenchContext, type Figure, type Measurement, NotMeasured } from '../types.ts';

export const PAGE_SIZE = 20;
export const DEEP_PAGE = 200;

function filters(ctx: BenchContext): { pg: QuayLogFilter; ql: LogFilter } {
  const w = ctx.data.last30;
  const ns = ctx.data.subjects.top.namespace;
  return {
    pg: { start: naiveUtc(w.start), end: naiveUtc(w.end), namespace: ns },
    ql: { start: w.start, end: w.end, namespace: ns },
  };
}

async function pgPlan(ctx: BenchContext, f: QuayLogFilter, token: QuayPageToken | null): Promise<string[]> {
  const ns = await getUserOrOrg(ctx.pg, f.namespace!);
  const q = pageSql({ start: f.start, end: f.end, accountId: ns!.id }, token);
  return explainAnalyze(ctx.pg, q.sql, q.params);
}

/**
 * The page read's profile (the statements it issued, replayed), and its floor in the same run:
 * the page timed interleaved with its last statement reduced to one column and one row.
 */
async function qlProfileAndFloor(ctx: BenchContext, f: LogFilter, cursor: LogCursor | null) {
  const read = () => listLogPage(ctx.store, f, cursor, PAGE_SIZE, { now: ctx.opts.now });
  const rec = recordingStore(ctx.store);
  await listLogPage(rec.store, f, cursor, PAGE_SIZE, { now: ctx.opts.now });
  const { floor, note } = await statementFloor(ctx.store, ctx.opts.runs, read, rec.specs, 'event_key');
  return { profile: await profileStatements(ctx.storePath, rec.specs), floor, note };
}

export const p1: Figure = {
  id: 'P1',
  title: 'logs page 1 uncached, largest namespace',
  unit: 'ms',
  better: 'lower',
  target: { kind: 'ratio', min: 1 / 3, text: '≤ 3× PostgreSQL (≥ 0.33×)' },
  unavailable: async () => null,
  async measure(ctx): Promise<Measurement> {
    const f = filters(ctx);
    const kinds = ctx.data.ids.kindName;
    // What /logs serves for page 1: the first-page cache, valid while the loader stores
    // nothing of this namespace (the warm-up fills it; nothing is stored during the figure).
    const redis = redisForWorkers(ctx.opts.redisUrl);
    try {
      const cache = new LogPageCache({ redis });
      const r = await timePair({
        runs: ctx.opts.runs,
        pg: () => quayPage(ctx.pg, f.pg, null),
        quaylogs: async () => {
          const page = await cache.firstPage(ctx.store, f.ql, PAGE_SIZE, { now: ctx.opts.now });
          if (!page.cached && cache.hits + cache.misses > 1) throw new Error('the first-page cache missed although nothing was stored');
          return page;
        },
        check: (a, b) => comparePages(a.rows.map((x) => pgEntry(x, kinds)), b.rows.map(qlEntry), 'page 1'),
      });
      // The miss: what page 1 costs right after the loader stored an entry of this namespace.
      const uncached = await timePair({
        runs: ctx.opts.runs,
        pg: () => quayPage(ctx.pg, f.pg, null),
        quaylogs: () => listLogPage(ctx.store, f.ql, null, PAGE_SIZE, { now: ctx.opts.now }),
        check: (a, b) => comparePages(a.rows.map((x) => pgEntry(x, kinds)), b.rows.map(qlEntry), 'page 1 (uncached)'),
      });
      // The figure is the uncached page (the first request after the loader stored an entry of
      // this namespace); what /logs serves from its first-page cache is in the notes.
      const ql = await qlProfileAndFloor(ctx, f.ql, null);
      return {
        ...uncached, // pg, quaylogs and their runs
        check: uncached.check.equal ? r.check : uncached.check,
        notes: [
          `namespace ${ctx.data.subjects.top.namespace}, 30-day window; function level (no HTTP, no avatars); listLogPage, nothing cached`,
          `served from the API's first-page cache (one Redis HGET of the namespace's log generation): ${r.quaylogs.toFixed(2)} ms (${(r.pg / r.quaylogs).toFixed(2)}× PostgreSQL's ${r.pg.toFixed(2)} ms in that pairing)`,
          ql.note,
        ],
        floor: ql.floor,
        profile: { pg: await pgPlan(ctx, f.pg, null), quaylogs: ql.profile },
      };
    } finally {
      await redis.del(LOG_GENERATIONS_KEY);
      await quitRedis(redis);
    }
  },
};

const READ_AHEAD_PAGES = 10;
const READ_AHEAD_WALKS = 3;

/**
 * Pages DEEP_PAGE… walked through the API's page cache (read-ahead), READ_AHEAD_PAGES × 3 pages
 * each time from an empty cache: what a deep walk costs per page when one statement serves
 * READ_AHEAD_PAGES pages. Every page is checked equal to listLogPage's own.
 */
async function readAheadWalk(ctx: BenchContext, f: LogFilter, from: LogCursor): Promise<{ perPage: number; queries: number; miss: number; hit: number }> {
  const redis = redisForWorkers(ctx.opts.redisUrl);
  const perPage: number[] = [];
  const misses: number[] = [];
  const hits: number[] = [];
  let queries = 0;
  try {
    for (let w = 0; w < READ_AHEAD_WALKS; w++) {
      const cache = new LogPageCache({ redis, readAheadPages: READ_AHEAD_PAGES, maxEntries: 10_000 });
      let cursor = from;
      let total = 0;
      for (let p = 0; p < READ_AHEAD_PAGES * READ_AHEAD_WALKS; p++) {
        const t = await timed(() => cache.page(ctx.store, f, cursor, PAGE_SIZE, { now: ctx.opts.now }));
        const direct = await listLogPage(ctx.store, f, cursor, PAGE_SIZE, { now: ctx.opts.now });
        if (JSON.stringify(t.value.rows) !== JSON.stringify(direct.rows) || t.value.hasMore !== direct.hasMore) {
          throw new Error(`read-ahead page ${DEEP_PAGE + p} differs from listLogPage's own`);
        }
        (t.value.cached ? hits : misses).push(t.ms);
        total += t.ms;
        const last = t.value.rows.at(-1);
        if (!t.value.hasMore || !last) break;
        cursor = { datetime: last.datetime, eventKey: last.event_key };
      }
      perPage.push(total / (READ_AHEAD_PAGES * READ_AHEAD_WALKS));
      queries = cache.misses;
    }
  } finally {
    await redis.del(LOG_GENERATIONS_KEY);
    await quitRedis(redis);
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1] ?? NaN;
  return { perPage: med(perPage), queries, miss: med(misses), hit: med(hits) };
}

export const p2: Figure = {
  id: 'P2',
  title: `logs page ${DEEP_PAGE}, largest namespace`,
  unit: 'ms',
  better: 'lower',
  target: { kind: 'ratio', min: 1 / 3, text: '≤ 3× PostgreSQL (≥ 0.33×)' },
  unavailable: async () => null,
  async measure(ctx): Promise<Measurement> {
    const f = filters(ctx);
    const kinds = ctx.data.ids.kindName;
    if (ctx.data.subjects.top.rows <= (DEEP_PAGE - 1) * PAGE_SIZE) {
      throw new NotMeasured(`the largest namespace has ${ctx.data.subjects.top.rows} entries in 30 days; page ${DEEP_PAGE} needs more than ${(DEEP_PAGE - 1) * PAGE_SIZE}`);
    }
    // Walk both cursors to page DEEP_PAGE (not timed).
    let token: QuayPageToken | null = null;
    const pgWalk = await timed(async () => {
      for (let page = 1; page < DEEP_PAGE; page++) {
        const res = await quayPage(ctx.pg, f.pg, token);
        if (!res.next) throw new Error(`PostgreSQL walk ended at page ${page}`);
        token = res.next;
      }
    });
    let cursor: LogCursor | null = null;
    const qlWalk = await timed(async () => {
      for (let page = 1; page < DEEP_PAGE; page++) {
        const res = await listLogPage(ctx.store, f.ql, cursor, PAGE_SIZE, { now: ctx.opts.now });
        const last = res.rows[res.rows.length - 1];
        if (!res.hasMore || !last) throw new Error(`quaylogs walk ended at page ${page}`);
        cursor = { datetime: last.datetime, eventKey: last.event_key };
      }
    });
    const pgToken = token as QuayPageToken | null;
    const qlCursor = cursor as LogCursor | null;
    const r = await timePair({
      runs: ctx.opts.runs,
      pg: () => quayPage(ctx.pg, f.pg, pgToken),
      quaylogs: () => listLogPage(ctx.store, f.ql, qlCursor, PAGE_SIZE, { now: ctx.opts.now }),
      check: (a, b) => comparePages(a.rows.map((x) => pgEntry(x, kinds)), b.rows.map(qlEntry), `page ${DEEP_PAGE}`),
    });
    const readAhead = await readAheadWalk(ctx, f.ql, qlCursor!);
    const ql = await qlProfileAndFloor(ctx, f.ql, qlCursor);
    return {
      ...r, // pg, quaylogs, their runs and the answer check
      notes: [
        `only the page-${DEEP_PAGE} request is timed, given its cursor; walking pages 1–${DEEP_PAGE - 1} took ${(pgWalk.ms / 1000).toFixed(2)} s on PostgreSQL, ${(qlWalk.ms / 1000).toFixed(2)} s on quaylogs`,
        `PostgreSQL cursor: datetime <= ${pgToken?.start_index} OFFSET ${pgToken?.offset_val ?? 0} (Quay's intended offset; see pg/quayQueries.ts)`,
        `what /logs serves with its page cache (read-ahead of ${READ_AHEAD_PAGES} pages per statement): pages ${DEEP_PAGE}–${DEEP_PAGE + READ_AHEAD_PAGES * READ_AHEAD_WALKS - 1} walked ${READ_AHEAD_WALKS} times from a cold cache, median ${readAhead.perPage.toFixed(2)} ms per page (${readAhead.queries} statement(s) per walk; one page ${readAhead.miss.toFixed(2)} ms when read ahead, ${readAhead.hit.toFixed(2)} ms when served from the cache)`,
        ql.note,
      ],
      floor: ql.floor,
      profile: { pg: await pgPlan(ctx, f.pg, pgToken), quaylogs: ql.profile },
    };
  },
};
