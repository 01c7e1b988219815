/**
 * Migrations that read usage_logs to fill what the writers also fill — the backfill of a
 * rollup (0008) and the layout rebuilds that copy usage_logs and usage_daily_namespace and
 * swap the copies in (0010, 0011) — applied while a loader keeps storing entries: the loader
 * pauses between batches for each (no new insert starts, the one in flight finishes) and
 * resumes after; afterwards every entry fed is stored once and every rollup equals a
 * recount. Redis database 8.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseStore, DEFAULT_MIGRATIONS_DIR, migrate, openEmbeddedStore } from '@quaylogs/clickhouse';
import { randomEventKey, NO_EXTENDED_FIELDS, type UsageLogRow } from '@quaylogs/core';
import { appendIngestBatch, quitRedis, type Redis, redisForWorkers } from '@quaylogs/queue';
import { quiesceWriters, startLoader } from '../src/index.ts';
import { testRedisUrl } from '@quaylogs/testing';

let redis: Redis;
let store: ClickHouseStore;
let dir: string;

beforeAll(async () => {
  redis = redisForWorkers(testRedisUrl());
  await redis.flushdb();
  dir = mkdtempSync(join(tmpdir(), 'quaylogs-backfill-'));
  store = await openEmbeddedStore({ path: join(dir, 'clickhouse'), database: 'quaylogs' });
  // The schema as it was before 0008.
  const before = join(dir, 'migrations');
  mkdirSync(before);
  for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR)) if (/^000[1-7]_/.test(f)) copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(before, f));
  await migrate(store, { dir: before });
});
afterAll(async () => {
  await redis.flushdb();
  await quitRedis(redis);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function rows(n: number, i0: number): UsageLogRow[] {
  return Array.from({ length: n }, (_, j) => {
    const i = i0 + j;
    return {
      source: 'quay-prod', namespace: `org${i % 11}`, repository: `repo${i % 5}`, kind: i % 4 ? 'pull_repo' : 'push_repo',
      performer: 'alice', ip: '10.0.0.1', datetime: new Date(Date.now() - (i % 5) * 86_400_000).toISOString().replace('T', ' ').replace('Z', ''),
      metadata: '{}', event_key: randomEventKey(), ...NO_EXTENDED_FIELDS,
    };
  });
}

describe('a backfilling migration with a loader running', () => {
  it('pauses the loader between batches, and the new rollup equals a recount', async () => {
    const logs: string[] = [];
    const loader = startLoader({ redis, store, consumer: 'writer', batchRows: 400, batchMs: 20, log: (_o, msg) => logs.push(msg) });
    let fed = 0;
    let feeding = true;
    const feeder = (async () => {
      while (feeding) {
        await appendIngestBatch(redis, { v: 1, origin: 'hec', source: 'quay-prod', rows: rows(100, fed) });
        fed += 100;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    while (fed < 3_000) await new Promise((r) => setTimeout(r, 50));

    const steps: string[] = [];
    const res = await migrate(store, {
      quiesceWriters: async (m) => {
        steps.push(`quiesce ${m}`);
        const resume = await quiesceWriters(redis, store, { owner: 'test-migrator' });
        return async () => {
          steps.push('resume');
          await resume();
        };
      },
    });
    expect(res.applied).toContain('0008_create_usage_daily_namespace');
    expect(steps).toEqual([
      'quiesce 0008_create_usage_daily_namespace', 'resume',
      'quiesce 0010_rebuild_usage_logs', 'resume',
      'quiesce 0011_rebuild_usage_daily_namespace', 'resume',
    ]);
    const mark = fed;
    while (fed < mark + 2_000) await new Promise((r) => setTimeout(r, 50));
    feeding = false;
    await feeder;
    await loader.drain();
    await loader.stop();
    expect(logs).toContain('loader: writers quiesced by a migration, waiting');

    const [c] = await store.query<{ n: string; r: string; bad: string }>({
      name: 'test.recount',
      sql: `SELECT (SELECT count() FROM usage_logs) AS n, (SELECT sum(count) FROM usage_daily_namespace) AS r,
              (SELECT count() FROM (SELECT source, namespace, day, kind, sum(count) AS c FROM usage_daily_namespace GROUP BY ALL) AS a
                 FULL OUTER JOIN (SELECT source, namespace, toDate(datetime) AS day, kind, count() AS c FROM usage_logs GROUP BY ALL) AS b
                 USING (source, namespace, day, kind) WHERE a.c != b.c) AS bad`,
    });
    expect({ n: Number(c!.n), r: Number(c!.r), bad: Number(c!.bad) }).toEqual({ n: fed, r: fed, bad: 0 });
    // The rollups fed only by the views (before and after the swap) count every entry once too.
    const [d] = await store.query<{ keys: string; repo: string; perf: string; kind: string }>({
      name: 'test.recountViews',
      sql: `SELECT uniqExact(event_key) AS keys, (SELECT sum(count) FROM usage_daily_repo) AS repo,
              (SELECT sum(count) FROM usage_daily_performer) AS perf, (SELECT sum(count) FROM usage_daily_kind) AS kind FROM usage_logs`,
    });
    expect({ keys: Number(d!.keys), repo: Number(d!.repo), perf: Number(d!.perf), kind: Number(d!.kind) }).toEqual({ keys: fed, repo: fed, perf: fed, kind: fed });
  }, 180_000);
});
