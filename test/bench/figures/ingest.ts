/**
 * I1: ingest end to end — batched HEC posts → ingest stream → loader → rows
 * queryable (events/s, from the first post until the last row is countable).
 * I2: single-event HEC posts, Quay's pattern (one event per request), at a
 * steady 2,000/s: request latency p50 and p99 (the figure is p99).
 *
 * The server is a separate process (ingestChild.ts: store, API with the HEC
 * receiver, loader) on a Redis database of its own; this process is the client.
 * Events are the demo generator's rows in the body Quay's splunk_hec producer
 * sends (keys sorted, datetime in whole Unix seconds).
 */
import { createConnection } from 'node:net';
import type { UsageLogRow } from '@quaylogs/core';
import { demoRows } from '@quaylogs/demo';
import { startIngestServer, type IngestServer } from '../ingestServer.ts';
import { hecPoster, type Poster } from '../openLoop.ts';
import { postsFromChild } from '../postLoad.ts';
import { percentile } from '../timing.ts';
import type { BenchContext, BenchOptions, Figure, Measurement } from '../types.ts';
import { requirePaths, tryImport } from './codePaths.ts';

export const I2_RATE = 2_000;

/** Why the ingest figures cannot run, or null. */
export async function ingestUnavailable(opts: BenchOptions, extra: readonly string[] = []): Promise<string | null> {
  const paths = ['services/api/src/routes/hec.ts', 'services/ingest/src/loader.ts', ...extra];
  const gone = requirePaths(paths);
  if (gone) return gone;
  const hec = await tryImport<{ hecPlugin?: unknown }>('services/api/src/routes/hec.ts');
  if (!hec.mod) return hec.reason;
  if (typeof hec.mod.hecPlugin !== 'function') return 'services/api/src/routes/hec.ts has no hecPlugin';
  const loader = await tryImport<{ startLoader?: unknown }>('services/ingest/src/loader.ts');
  if (!loader.mod) return loader.reason;
  if (typeof loader.mod.startLoader !== 'function') return 'services/ingest/src/loader.ts has no startLoader';
  return redisUnreachable(opts.redisUrl);
}

async function redisUnreachable(url: string): Promise<string | null> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = createConnection({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
    const done = (reason: string | null) => {
      sock.destroy();
      resolve(reason);
    };
    sock.setTimeout(2000, () => done(`Redis at ${u.host} does not answer (set --redis-url / BENCH_REDIS_URL)`));
    sock.once('error', (e) => done(`Redis at ${u.host} is not reachable: ${e.message} (set --redis-url / BENCH_REDIS_URL)`));
    sock.once('connect', () => done(null));
  });
}

const nullable = (s: string) => (s === '' ? null : s);

/** Quay's splunk_hec body for one entry (keys sorted like Quay's json.dumps(sort_keys=True)). */
export function hecEnvelope(r: UsageLogRow): string {
  const extended = r.request_url !== '';
  const event: Record<string, unknown> = {
    account: nullable(r.namespace),
    auth_type: nullable(r.auth_type),
    datetime: Math.floor(Date.parse(`${r.datetime.replace(' ', 'T')}Z`) / 1000),
    http_method: nullable(r.http_method),
    ip: nullable(r.ip),
    kind: r.kind,
    metadata_json: JSON.parse(r.metadata) as unknown,
    namespace_name: nullable(r.namespace),
    performer: nullable(r.performer),
    ...(extended ? {} : { performer_email: null }),
    performer_kind: nullable(r.performer_kind),
    performer_username: nullable(r.performer),
    repository: nullable(r.repository),
    repository_name: nullable(r.repository),
    request_id: nullable(r.request_id),
    request_url: nullable(r.request_url),
    user_agent: nullable(r.user_agent),
    x_forwarded_for: nullable(r.x_forwarded_for),
  };
  return JSON.stringify({ event, host: 'quay.example.com', sourcetype: 'access_combined' });
}

export function eventsFor(ctx: BenchContext, count: number, seed: number): { bodies: string[]; kinds: Map<string, number> } {
  const bodies: string[] = [];
  const kinds = new Map<string, number>();
  for (const batch of demoRows({ rows: count, seed, now: ctx.opts.now, days: 1, source: 'hec' }, 10_000)) {
    for (const r of batch) {
      bodies.push(hecEnvelope(r));
      kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
    }
  }
  return { bodies, kinds };
}

/** HEC posts to the server's receiver on a keep-alive agent of `sockets` connections. */
export function poster(server: IngestServer, sockets: number): Poster {
  return hecPoster(server.url, server.hecToken, sockets);
}

/** Polls until `n` rows of the server's source are queryable; fails when the count stalls for `stallMs`. */
export async function waitForCount(server: IngestServer, n: number, stallMs: number, source = server.source): Promise<number> {
  let have = 0;
  let last = -1;
  let since = performance.now();
  while ((have = (await server.call<{ n: number }>('count', { source })).n) < n) {
    if (have !== last) {
      last = have;
      since = performance.now();
    } else if (performance.now() - since > stallMs) {
      const diag = await server.diagnose();
      throw new Error(`only ${have} of ${n} rows became queryable; none more for ${stallMs / 1000} s${server.diagnostics() ? ` (server: ${server.diagnostics()})` : ''}; ${diag}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return have;
}

export function sameKinds(sent: Map<string, number>, stored: Record<string, number>): { equal: boolean; detail: string } {
  const keys = new Set([...sent.keys(), ...Object.keys(stored)]);
  for (const k of keys) {
    if ((sent.get(k) ?? 0) !== (stored[k] ?? 0)) return { equal: false, detail: `kind ${k}: sent ${sent.get(k) ?? 0}, stored ${stored[k] ?? 0}` };
  }
  return { equal: true, detail: '' };
}

type CpuSample = { receiver: { cpuMs: number; waitMs: number } | null; server: { cpuMs: number; waitMs: number } | null };

/**
 * Posts every body at `rate` per second on the clock, open loop, from a load generator in a
 * process of its own (postLoad.ts), and says where the time went: how late the generator
 * sent, what delayed its own event loop, and how much CPU the receiver used and how long it
 * waited for one, per post. `error` is set when any post failed (the caller throws it).
 */
export async function timedPosts(
  scratch: string,
  server: IngestServer,
  bodies: readonly string[],
  rate: number,
): Promise<{ latencies: number[]; elapsed: number; error: Error | null; notes: string[] }> {
  const cpu = () => server.call<{ cpu?: CpuSample }>('receiver').then((r) => r.cpu ?? { receiver: null, server: null });
  const before = await cpu();
  const r = await postsFromChild(scratch, server, bodies, rate);
  const after = await cpu();
  const failed = Object.values(r.failures).reduce((a, b) => a + b, 0);
  const error = failed
    ? new Error(`${failed} of ${bodies.length} single-event posts failed (${Object.entries(r.failures).map(([k, n]) => `${n}× ${k}`).join(', ')})`)
    : null;
  const g = r.generator;
  const perPost = (ms: number) => `${Math.round((ms * 1000) / bodies.length)} µs`;
  const notes = [
    `load generator (a process of its own): posts sent p99 ${percentile(r.lateness, 99).toFixed(2)} ms after their due time (max ${Math.max(...r.lateness).toFixed(1)} ms); ` +
      `its event-loop delay p99 ${g.loopDelayP99.toFixed(2)} ms, max ${g.loopDelayMax.toFixed(1)} ms; its longest GC ${g.gcMax.toFixed(1)} ms`,
  ];
  const rc = before.receiver && after.receiver ? { cpu: after.receiver.cpuMs - before.receiver.cpuMs, wait: after.receiver.waitMs - before.receiver.waitMs } : null;
  const sc = before.server && after.server ? { cpu: after.server.cpuMs - before.server.cpuMs, wait: after.server.waitMs - before.server.waitMs } : null;
  if (rc && sc) {
    notes.push(
      `CPU per post: receiver (main thread) ran ${perPost(rc.cpu)} and waited ${perPost(rc.wait)} for a CPU; ` +
        `server process (API, loader, engine; all threads) ran ${perPost(sc.cpu)}` +
        (g.cpuMs !== null && g.waitMs !== null ? `; load generator ran ${perPost(g.cpuMs)} and waited ${perPost(g.waitMs)}` : ''),
    );
  }
  return { latencies: r.latencies, elapsed: r.elapsed, error, notes };
}

/** The note saying at which CPU priorities the receiver and the server process ran (as `up` sets them, or as the environment asked). */
export async function priorityNote(server: IngestServer): Promise<string> {
  const r = await server.call<{ nice: number | null; apiNice: number }>('receiver');
  return `CPU priority: receiver process nice ${r.nice ?? '?'}, server process (API, loader, engine) nice ${r.apiNice} (QUAYLOGS_RECEIVER_NICE, QUAYLOGS_API_NICE)`;
}

export const i1: Figure = {
  id: 'I1',
  title: 'ingest end to end, batched HEC posts',
  unit: 'events/s',
  better: 'higher',
  target: {
    kind: 'all',
    text: '≥ 100,000 events/s and ≥ 80 % of I0',
    of: [
      { kind: 'min', value: 100_000, text: '≥ 100,000 events/s' },
      { kind: 'minOf', figure: 'I0', fraction: 0.8, text: '≥ 80 % of I0' },
    ],
  },
  unavailable: (opts) => ingestUnavailable(opts),
  async measure(ctx): Promise<Measurement> {
    const total = Math.min(500_000, Math.max(20_000, Math.round(ctx.opts.rows / 20)));
    const perPost = 500;
    const concurrency = 4;
    const { bodies, kinds } = eventsFor(ctx, total, ctx.opts.seed + 1);
    const posts: Buffer[] = [];
    for (let i = 0; i < bodies.length; i += perPost) posts.push(Buffer.from(bodies.slice(i, i + perPost).join('\n')));
    bodies.length = 0;
    const server = await startIngestServer(ctx.scratch, ctx.opts.redisUrl, 'hec-bench');
    const client = poster(server, concurrency);
    try {
      // Warm-up: one post, stored, so the first timed post does not pay for connection setup.
      const warm = eventsFor(ctx, perPost, ctx.opts.seed + 2);
      if ((await client.post(warm.bodies.join('\n'))) !== 200) throw new Error('HEC warm-up post refused');
      await waitForCount(server, perPost, 60_000);
      const t0 = performance.now();
      let next = 0;
      let refused = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < posts.length) {
            const status = await client.post(posts[next++]!);
            if (status !== 200) refused++;
          }
        }),
      );
      const accepted = performance.now() - t0;
      if (refused) throw new Error(`${refused} HEC posts were refused`);
      await waitForCount(server, perPost + total, 60_000);
      const seconds = (performance.now() - t0) / 1000;
      const stored = await server.call<{ kinds: Record<string, number> }>('kinds', { source: server.source });
      for (const [k, n] of warm.kinds) stored.kinds[k] = (stored.kinds[k] ?? 0) - n;
      const same = sameKinds(kinds, stored.kinds);
      return {
        pg: null,
        quaylogs: total / seconds,
        check: {
          equal: same.equal,
          detail: same.equal ? `${total.toLocaleString('en-US')} events posted, all stored, counts per kind equal` : same.detail,
        },
        notes: [
          `${total.toLocaleString('en-US')} events in ${posts.length} posts of ${perPost}, ${concurrency} connections; all accepted after ${(accepted / 1000).toFixed(2)} s (${Math.round(total / (accepted / 1000)).toLocaleString('en-US')} events/s), all queryable after ${seconds.toFixed(2)} s`,
          'one run (the figure is a throughput over the whole batch, not a median)',
        ],
      };
    } finally {
      client.close();
      await server.stop();
    }
  },
};

export const i2: Figure = {
  id: 'I2',
  title: 'single-event HEC posts at 2,000/s, p99 latency',
  unit: 'ms',
  better: 'lower',
  target: { kind: 'max', value: 3, text: 'p99 ≤ 3 ms' },
  unavailable: (opts) => ingestUnavailable(opts),
  async measure(ctx): Promise<Measurement> {
    const seconds = ctx.opts.rows >= 1_000_000 ? 15 : 3;
    const total = I2_RATE * seconds;
    const { bodies, kinds } = eventsFor(ctx, total, ctx.opts.seed + 3);
    const server = await startIngestServer(ctx.scratch, ctx.opts.redisUrl, 'hec-bench');
    const client = poster(server, 256);
    try {
      const warm = eventsFor(ctx, 200, ctx.opts.seed + 4);
      for (const b of warm.bodies) if ((await client.post(b)) !== 200) throw new Error('HEC warm-up post refused');
      await waitForCount(server, warm.bodies.length, 60_000);
      const { latencies, elapsed, error, notes } = await timedPosts(ctx.scratch, server, bodies, I2_RATE);
      if (error) throw error;
      await waitForCount(server, warm.bodies.length + total, 60_000);
      const stored = await server.call<{ kinds: Record<string, number> }>('kinds', { source: server.source });
      for (const [k, n] of warm.kinds) stored.kinds[k] = (stored.kinds[k] ?? 0) - n;
      const same = sameKinds(kinds, stored.kinds);
      const p50 = percentile(latencies, 50);
      const p99 = percentile(latencies, 99);
      const priority = await priorityNote(server);
      return {
        pg: null,
        quaylogs: p99,
        check: {
          equal: same.equal,
          detail: same.equal ? `${total.toLocaleString('en-US')} single-event posts, all stored, counts per kind equal` : same.detail,
        },
        notes: [
          `${total.toLocaleString('en-US')} posts over ${elapsed.toFixed(1)} s (target ${I2_RATE}/s, achieved ${Math.round(total / elapsed).toLocaleString('en-US')}/s), loader running`,
          `latency p50 ${p50.toFixed(2)} ms, p90 ${percentile(latencies, 90).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, p99.9 ${percentile(latencies, 99.9).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms`,
          priority,
          ...notes,
        ],
      };
    } finally {
      client.close();
      await server.stop();
    }
  },
};
