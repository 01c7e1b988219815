/**
 * I4: Quay's pattern — one event per HEC post at a steady 2,000/s — while the same
 * `up`-like server process (ingestChild.ts, on the bench's loaded store) serves a loop of
 * 90-day superuser aggregates over HTTP, an export of the most recent ~2M rows and a
 * `quay-db` import from the bench's PostgreSQL. The figure is the posts' p99; p99.9 and
 * the slowest post are in the notes with their targets. Every event must be stored once.
 *
 * It runs last: it adds the posted events and the imported rows to the bench store.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { formatMdy } from '@quaylogs/core';
import { startIngestServer } from '../ingestServer.ts';
import { withDatabase } from '../pg/database.ts';
import { percentile } from '../timing.ts';
import type { BenchContext, Figure, Measurement } from '../types.ts';
import { eventsFor, I2_RATE, ingestUnavailable, poster, priorityNote, sameKinds, timedPosts, waitForCount } from './ingest.ts';

const SOURCE = 'hec-i4';
const IMPORT_SOURCE = 'i4-import';
const EXPORT_ROWS = 2_000_000;
const DAY_MS = 86_400_000;

/** The most recent whole days that together hold at least `rows` entries. */
function recentWindow(ctx: BenchContext, rows: number): { start: Date; end: Date; rows: number } {
  const end = ctx.data.last90.end;
  let start = end;
  let total = 0;
  while (total < rows && start.getTime() > end.getTime() - 90 * DAY_MS) {
    start = new Date(start.getTime() - DAY_MS);
    total += ctx.data.perDay.get(start.toISOString().slice(0, 10)) ?? 0;
  }
  return { start, end, rows: total };
}

function get(url: string, token: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(120_000, () => req.destroy(new Error('aggregate: no answer within 120 s')));
    req.on('error', reject);
  });
}

export const i4: Figure = {
  id: 'I4',
  title: 'single-event HEC posts at 2,000/s under aggregates, an export and an import, p99',
  unit: 'ms',
  better: 'lower',
  target: {
    kind: 'all',
    text: 'p99 ≤ 5 ms, p99.9 ≤ 20 ms, none over 250 ms',
    of: [
      { kind: 'max', value: 5, text: 'p99 ≤ 5 ms' },
      { kind: 'maxValue', key: 'p99.9', value: 20, text: 'p99.9 ≤ 20 ms' },
      { kind: 'maxValue', key: 'max', value: 250, text: 'none over 250 ms' },
    ],
  },
  unavailable: (opts) => ingestUnavailable(opts, ['services/ingest/src/import/index.ts', 'services/api/src/receiver/isolatedReceiver.ts']),
  async measure(ctx): Promise<Measurement> {
    const seconds = ctx.opts.rows >= 1_000_000 ? 30 : 5;
    const total = I2_RATE * seconds;
    const { bodies, kinds } = eventsFor(ctx, total, ctx.opts.seed + 5);
    const warm = eventsFor(ctx, 200, ctx.opts.seed + 6);
    const adminToken = `bench-admin-${randomBytes(24).toString('hex')}`;
    const win = recentWindow(ctx, EXPORT_ROWS);
    const aggPath =
      `/api/v1/superuser/aggregatelogs?starttime=${encodeURIComponent(formatMdy(ctx.data.last90.start))}` +
      `&endtime=${encodeURIComponent(formatMdy(new Date(ctx.data.last90.end.getTime() - DAY_MS)))}`;

    return ctx.withStoreReleased(async () => {
      const server = await startIngestServer(ctx.scratch, ctx.opts.redisUrl, SOURCE, { storePath: ctx.storePath, adminToken });
      const client = poster(server, 256);
      const aggAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (const b of warm.bodies) if ((await client.post(b)) !== 200) throw new Error('HEC warm-up post refused');
        await waitForCount(server, warm.bodies.length, 60_000);
        if ((await get(server.url + aggPath, adminToken, aggAgent)) !== 200) throw new Error('the superuser aggregate was refused');

        // The background load, all inside the server process.
        let loading = true;
        const aggMs: number[] = [];
        const aggLoop = (async () => {
          while (loading) {
            const t = performance.now();
            const status = await get(server.url + aggPath, adminToken, aggAgent);
            if (status !== 200) throw new Error(`aggregate answered ${status}`);
            aggMs.push(performance.now() - t);
          }
        })();
        aggLoop.catch(() => undefined); // awaited (and its failure reported) after the posts
        const exported = server.call<{ rows: number; bytes: number; seconds: number }>('export', { start: win.start.toISOString(), end: win.end.toISOString() });
        exported.catch(() => undefined); // awaited (and its failure reported) after the posts; a stall before must not crash the run
        await server.call('importStart', { pgUrl: withDatabase(ctx.opts.pgUrl, ctx.opts.pgDatabase), source: IMPORT_SOURCE });

        // The posts' outcome is thrown only after the background load is stopped and awaited.
        const posted = timedPosts(ctx.scratch, server, bodies, I2_RATE).catch((error: Error) => ({ latencies: [] as number[], elapsed: 0, error, notes: [] as string[] }));
        const { latencies, elapsed, error: postError, notes: postNotes } = await posted;
        loading = false;
        await aggLoop;
        const imported = await server.call<{ rows: number; completed: boolean; seconds: number }>('importStop');
        const exp = await exported;
        if (postError) throw postError;

        // Every event stored once: the count of its source is exact, and so is each kind's.
        const stored = await waitForCount(server, warm.bodies.length + total, 120_000);
        const storedKinds = (await server.call<{ kinds: Record<string, number> }>('kinds', { source: SOURCE })).kinds;
        for (const [k, n] of warm.kinds) storedKinds[k] = (storedKinds[k] ?? 0) - n;
        const same = sameKinds(kinds, storedKinds);
        const importedStored = imported.rows > 0 ? await waitForCount(server, imported.rows, 120_000, IMPORT_SOURCE) : 0;
        const exact = stored === warm.bodies.length + total && importedStored === imported.rows;

        const priority = await priorityNote(server);
        const p = (q: number) => percentile(latencies, q);
        const max = Math.max(...latencies);
        const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
        return {
          pg: null,
          quaylogs: p(99),
          values: { 'p99.9': p(99.9), max },
          check: {
            equal: same.equal && exact,
            detail: !same.equal
              ? same.detail
              : exact
                ? `${fmt(total)} posts, each stored once (counts per kind equal); ${fmt(imported.rows)} imported rows, each stored once`
                : `stored ${fmt(stored)} of ${fmt(warm.bodies.length + total)} events and ${fmt(importedStored)} of ${fmt(imported.rows)} imported rows`,
          },
          notes: [
            `${fmt(total)} posts over ${elapsed.toFixed(1)} s (target ${I2_RATE}/s, achieved ${fmt(total / elapsed)}/s), receiver in its own process, loader running`,
            `latency p50 ${p(50).toFixed(2)} ms, p99 ${p(99).toFixed(2)} ms, p99.9 ${p(99.9).toFixed(2)} ms (target ≤ 20), max ${max.toFixed(2)} ms (target ≤ 250)`,
            `meanwhile in the server process: ${aggMs.length} superuser aggregates over 90 days (median ${percentile(aggMs, 50).toFixed(0)} ms); ` +
              `an export of ${fmt(exp.rows)} rows (${(exp.bytes / 1e6).toFixed(0)} MB, ${exp.seconds.toFixed(1)} s); ` +
              `import quay-db handed ${fmt(imported.rows)} rows in ${imported.seconds.toFixed(1)} s${imported.completed ? ' (complete)' : ' (stopped with the posts)'}`,
            priority,
            ...postNotes,
          ],
        };
      } finally {
        client.close();
        aggAgent.destroy();
        await server.stop();
      }
    });
  },
};
