/**
 * The loader killed with SIGKILL mid-work and restarted, in a child process with its own
 * embedded store (the engine binds one data directory per process): every entry that was
 * in the stream ends up stored exactly once and nothing stays pending.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomEventKey, type UsageLogRow } from '@quaylogs/core';
import { appendIngestBatch, ingestBacklog, quitRedis, type Redis } from '@quaylogs/queue';
import { row, testRedis, testRedisUrl } from '@quaylogs/testing';
import { type JsonChild, killAllChildren, spawnJsonChild } from '@quaylogs/testing/children';

const CHILD = fileURLToPath(new URL('./loaderChild.ts', import.meta.url));
const REDIS_URL = testRedisUrl();
const ROWS = 200_000;
const PER_ENTRY = 400;

let redis: Redis;
let dir: string;

beforeAll(async () => {
  redis = testRedis();
  await redis.flushdb();
  dir = mkdtempSync(join(tmpdir(), 'quaylogs-crash-'));
});
afterAll(async () => {
  await killAllChildren();
  await redis.flushdb();
  await quitRedis(redis);
  rmSync(dir, { recursive: true, force: true });
});

const child = (mode: 'load' | 'count', env: Record<string, string> = {}): JsonChild => spawnJsonChild(CHILD, [mode, dir, REDIS_URL], env);
const kill = (c: JsonChild) => c.kill('SIGKILL');

function hecRow(i: number, now: number): UsageLogRow {
  return row({
    source: 'quay-prod', namespace: `org${i % 17}`, repository: `repo${i % 29}`, kind: i % 3 ? 'pull_repo' : 'push_repo',
    performer: i % 5 ? 'alice' : `org${i % 17}+ci`, ip: `10.1.${i % 200}.${i % 13}`,
    datetime: new Date(now - (ROWS - i) * 10).toISOString().replace('T', ' ').replace('Z', ''),
    metadata: JSON.stringify({ repo: `repo${i % 29}`, tag: 'latest', i }), event_key: randomEventKey(),
  });
}

describe('loader crash safety', () => {
  it('killed with SIGKILL between insert and acknowledgement and again mid-run, restarted: every entry stored exactly once, nothing pending', async () => {
    const now = Date.now();
    for (let i = 0; i < ROWS; i += PER_ENTRY) {
      const rows = Array.from({ length: PER_ENTRY }, (_, j) => hecRow(i + j, now));
      await appendIngestBatch(redis, { v: 1, origin: 'hec', source: 'quay-prod', rows });
    }
    const entries = await ingestBacklog(redis); // each batch split by shard
    expect(entries).toBeGreaterThanOrEqual(ROWS / PER_ENTRY);

    // 1: frozen right after ClickHouse accepted its first batch, before acknowledging it.
    const first = child('load', { PAUSE_AFTER_FIRST_INSERT: '1' });
    const stored = await first.waitFor((l) => l.msg === 'loader: batch stored');
    expect(stored.inserted).toBeGreaterThan(0);
    await kill(first);
    expect(await ingestBacklog(redis)).toBe(entries); // nothing acknowledged

    // 2: restarted, killed at an arbitrary point a few batches later.
    const second = child('load');
    const again = await second.waitFor((l) => l.msg === 'loader: batch stored');
    expect(again.duplicates).toBe(stored.inserted); // the unacknowledged batch, found already stored
    await second.waitFor((l) => l.msg === 'loader: batch stored' && l.duplicates === 0);
    await new Promise((r) => setTimeout(r, 40 + Math.floor(Math.random() * 200)));
    await kill(second);
    const left = await ingestBacklog(redis);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(entries);

    // 3: restarted, drains and counts.
    const third = child('count');
    const counts = await third.waitFor((l) => l.msg === 'child: counts');
    expect(await third.exited).toBe(0);
    expect(counts).toMatchObject({ rows: ROWS, keys: ROWS, rollup: ROWS, length: 0, pending: 0 });
  }, 240_000); // three child processes each load the embedded engine (tens of seconds on a busy machine)
});
