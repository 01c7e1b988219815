/**
 * Several loader processes share the ingest stream and one real engine (lent by a
 * storeHost.ts process), while HEC-like entries and an import and a poll of the same
 * content (overlapping, cut into different entries) are appended; two loaders are killed
 * with SIGKILL mid-batch — one right after ClickHouse accepted its batch, before it
 * acknowledged — and replaced, and a third stalls (SIGSTOP) past its leases and resumes. Every entry is stored exactly once and every rollup equals
 * a recount from usage_logs. Redis database 6.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomEventKey, type UsageLogRow } from '@quaylogs/core';
import { appendIngestBatch, ingestBacklog, quitRedis, type Redis, redisForWorkers } from '@quaylogs/queue';
import { INSERT_INTENTS_KEY } from '../src/index.ts';
import { quayRows, REDIS_BASE } from './helpers.ts';
import { type JsonChild, killAllChildren, spawnJsonChild } from './support/children.ts';
import { remoteStore } from './support/remoteStore.ts';
import { ROLLUPS, rollupMismatchSql } from '@quaylogs/testing/processes';

const LOADER = fileURLToPath(new URL('./loaderChild.ts', import.meta.url));
const HOST = fileURLToPath(new URL('./support/storeHost.ts', import.meta.url));
const REDIS_URL = `${REDIS_BASE}/6`;
const HEC_ROWS = 20_000;
const CONTENT_ROWS = 10_000;

let redis: Redis;
let dir: string;
let host: JsonChild;
let port: number;

beforeAll(async () => {
  redis = redisForWorkers(REDIS_URL);
  await redis.flushdb();
  dir = mkdtempSync(join(tmpdir(), 'quaylogs-multi-'));
  host = spawnJsonChild(HOST, [dir]);
  port = (await host.waitFor((l) => typeof l.port === 'number')).port;
});
afterAll(async () => {
  await killAllChildren();
  await redis.flushdb();
  await quitRedis(redis);
  rmSync(dir, { recursive: true, force: true });
});

function loader(name: string, env: Record<string, string> = {}): JsonChild {
  return spawnJsonChild(LOADER, ['load', dir, REDIS_URL], { STORE_PORT: String(port), LOADER_NAME: name, BATCH_ROWS: '2000', LEASE_MS: '3000', ...env });
}

function hecRow(i: number, now: number): UsageLogRow {
  return {
    source: 'quay-prod', namespace: `org${i % 17}`, repository: `repo${i % 29}`, kind: i % 3 ? 'pull_repo' : 'push_repo',
    performer: i % 5 ? 'alice' : `org${i % 17}+ci`, ip: `10.1.${i % 200}.${i % 13}`,
    datetime: new Date(now - (HEC_ROWS - i) * 7_000).toISOString().replace('T', ' ').replace('Z', ''),
    metadata: JSON.stringify({ i }), event_key: randomEventKey(),
    request_url: '', http_method: '', user_agent: '', request_id: '', auth_type: '', performer_kind: '', x_forwarded_for: '',
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Appends, interleaved: HEC bodies of 200 events, an import in chunks of 500 and a poll of the same content in pages of 250. */
async function feed(hec: UsageLogRow[], content: UsageLogRow[]): Promise<void> {
  const jobs: (() => Promise<unknown>)[] = [];
  for (let i = 0; i < hec.length; i += 200) jobs.push(() => appendIngestBatch(redis, { v: 1, origin: 'hec', source: 'quay-prod', rows: hec.slice(i, i + 200) }));
  for (let i = 0; i < content.length; i += 500) jobs.push(() => appendIngestBatch(redis, { v: 1, origin: 'import', source: 'quay-test', rows: content.slice(i, i + 500) }));
  for (let i = 0; i < content.length; i += 250) jobs.push(() => appendIngestBatch(redis, { v: 1, origin: 'poll', source: 'quay-test', rows: content.slice(i, i + 250) }));
  for (let n = 0; jobs.length; n++) {
    await jobs.splice((n * 7919) % jobs.length, 1)[0]!();
    if (n % 10 === 0) await sleep(20);
  }
}

describe('several loader processes', () => {
  it('share the stream with SIGKILLs mid-batch: every entry stored once, every rollup equal to a recount', async () => {
    const now = Date.now();
    const hec = Array.from({ length: HEC_ROWS }, (_, i) => hecRow(i, now));
    const content = quayRows(CONTENT_ROWS, { start: new Date(now - 5 * 86_400_000), stepMs: 30_000 });

    const a = loader('loader-a', { PAUSE_AFTER_FIRST_INSERT: '1' });
    const b = loader('loader-b');
    const c = loader('loader-c');
    await Promise.all([a, b, c].map((l) => l.waitFor((x) => x.msg === 'child: started')));
    const feeding = feed(hec, content);

    // loader-a freezes right after ClickHouse accepted its first batch, before acknowledging.
    const first = await a.waitFor((l) => l.msg === 'loader: batch stored' && l.inserted > 0);
    expect(first.inserted).toBeGreaterThan(0);
    await a.kill();
    // loader-b dies at an arbitrary point after it stored a batch. (Not "after three": how many
    // batches it gets depends on which shards it drew and how fast the others drain theirs; a CI
    // run saw it store two and then wait for a third that never came.)
    await b.waitFor((l) => l.msg === 'loader: batch stored' && l.inserted > 0);
    await sleep(Math.floor(Math.random() * 150));
    await b.kill();
    const d = loader('loader-d');
    // loader-c stalls (as in a long GC pause or a frozen VM) for longer than its leases, then
    // goes on where it was: whatever it had in hand, its shards were taken over meanwhile.
    c.proc.kill('SIGSTOP');
    await sleep(4_500);
    c.proc.kill('SIGCONT');
    await feeding;

    // A survivor finished loader-a's insert (same rows, same token) after its shard leases expired:
    // loader-b too, when it outlived those leases (it is killed only after storing a fresh batch,
    // which can come after a's leases expired). Waiting on c and d alone then timed out.
    await Promise.any([b, c, d].map((l) => l.waitFor((x) => x.replayedFrom === 'loader-a')));
    expect(a.lines.some((l) => l.replayedFrom)).toBe(false);
    for (let i = 0; i < 600 && ((await ingestBacklog(redis)) > 0 || (await redis.hlen(INSERT_INTENTS_KEY)) > 0); i++) await sleep(200);
    expect(await ingestBacklog(redis)).toBe(0);
    expect(await redis.hlen(INSERT_INTENTS_KEY)).toBe(0);

    const store = remoteStore(port);
    const [counts] = await store.query<{ rows: string; keys: string }>({
      name: 'test.counts',
      sql: 'SELECT count() AS rows, uniqExact(event_key) AS keys FROM usage_logs',
    });
    expect({ rows: Number(counts!.rows), keys: Number(counts!.keys) }).toEqual({ rows: HEC_ROWS + CONTENT_ROWS, keys: HEC_ROWS + CONTENT_ROWS });
    const stored = new Set((await store.query<{ k: string }>({ name: 'test.keys', sql: 'SELECT toString(event_key) AS k FROM usage_logs' })).map((r) => r.k));
    expect([...hec, ...content].filter((r) => !stored.has(r.event_key))).toHaveLength(0);

    for (const rollup of ROLLUPS) {
      const [m] = await store.query<{ n: string }>({ name: 'test.rollupVsRecount', sql: rollupMismatchSql(rollup) });
      expect({ table: rollup.table, mismatches: Number(m!.n) }).toEqual({ table: rollup.table, mismatches: 0 });
    }
    const [total] = await store.query<{ n: string }>({ name: 'test.rollupTotal', sql: 'SELECT sum(count) AS n FROM usage_daily_kind' });
    expect(Number(total!.n)).toBe(HEC_ROWS + CONTENT_ROWS);

    await Promise.all([c, d].map((l) => l.kill('SIGTERM')));
  }, 300_000);
});
