/**
 * Group commit into the ingest stream, against a real Redis: batches appended in the
 * same turn go out as one transaction; those of one origin, source and shard share a stream
 * entry (every row exactly once, in order), others keep their own. (A full Redis is tested with
 * a redis-server of its own in services/api/test/hecIsolation.test.ts: maxmemory is server-wide.)
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { UsageLogRow } from '@quaylogs/core';
import { groupAppender, type IngestBatch, ingestShardKey, ingestStreamKeys, MERGE_ROWS, parseIngestBatch, type Redis, redisForWorkers, shardOf } from '../src/index.ts';
import { testRedisUrl } from '@quaylogs/testing';

const redis: Redis = redisForWorkers(testRedisUrl());
beforeAll(async () => redis.flushdb());
beforeEach(async () => redis.del(...ingestStreamKeys()));
afterAll(async () => {
  await redis.flushdb();
  redis.disconnect();
});

function batch(source: string, n: number, tag: string, extra: Partial<IngestBatch> = {}): IngestBatch {
  const rows: UsageLogRow[] = Array.from({ length: n }, (_, i) => ({
    source, namespace: 'acme', repository: 'web', kind: 'pull_repo', performer: 'alice', ip: '10.0.0.1',
    datetime: '2025-06-15 12:00:00.000', metadata: JSON.stringify({ tag, i, note: 'é "q"' }), event_key: String(BigInt(1e12) + BigInt(i) + BigInt(tag.length * 1e6)),
    request_url: '', http_method: '', user_agent: '', request_id: '', auth_type: '', performer_kind: '', x_forwarded_for: '',
  }));
  return { v: 1, origin: 'hec', source, rows, ...extra };
}

/** Every entry of every shard, shard after shard (in each shard, in stream order). */
async function entries(): Promise<IngestBatch[]> {
  const out: IngestBatch[] = [];
  for (const key of ingestStreamKeys()) out.push(...(await redis.xrange(key, '-', '+')).map(([, f]) => parseIngestBatch(f[1]!)));
  return out;
}

it('merges concurrent batches of one source into one entry, every row once and in order', async () => {
  const appender = groupAppender(redis);
  const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => appender.append(batch('prod', 1, `t${i}`))));
  expect(new Set(ids).size).toBe(1);
  const got = await entries();
  expect(got).toHaveLength(1);
  expect(got[0]!.rows.map((r) => JSON.parse(r.metadata).tag)).toEqual(Array.from({ length: 50 }, (_, i) => `t${i}`));
  expect(appender.stats).toMatchObject({ groups: 1, batches: 50, entries: 1 });
});

it('keeps sources apart, batches with accounts whole, and entries within MERGE_ROWS', async () => {
  const appender = groupAppender(redis);
  const withAccounts = batch('prod', 2, 'acc', { origin: 'poll', accounts: [{ name: 'alice', kind: 'user', email: null }] });
  await Promise.all([
    appender.append(batch('prod', MERGE_ROWS - 1, 'big')),
    appender.append(batch('prod', 2, 'next')),
    appender.append(batch('dev', 1, 'other')),
    appender.append(withAccounts),
  ]);
  const got = await entries();
  const shape = (source: string) => got.filter((b) => b.source === source).map((b) => [b.origin, b.rows.length, b.accounts?.length ?? 0]);
  expect(shape('prod')).toEqual([
    ['hec', MERGE_ROWS - 1, 0],
    ['poll', 2, 1],
    ['hec', 2, 0],
  ]);
  expect(shape('dev')).toEqual([['hec', 1, 0]]);
  // Each in the shard of its tenant.
  expect(await redis.xlen(ingestShardKey(shardOf('dev', 'acme')))).toBeGreaterThanOrEqual(1);
});

it('does not fail a group whose reply arrived while the event loop was stalled past the timeout', async () => {
  const appender = groupAppender(redis, { timeoutMs: 50 });
  const appended = appender.append(batch('prod', 1, 'stalled'));
  // The group goes out in the next turn; then this loop is starved for 300 ms (a busy CPU) while
  // Redis answers. When it runs again, its timer is due before the reply has been read.
  await new Promise<void>((resolve) =>
    setImmediate(() => {
      const until = Date.now() + 300;
      while (Date.now() < until) {
        /* starve the event loop */
      }
      resolve();
    }),
  );
  await expect(appended).resolves.toBe(`${ingestShardKey(shardOf('prod', 'acme'))}/${(await redis.xrange(ingestShardKey(shardOf('prod', 'acme')), '-', '+'))[0]?.[0]}`);
  expect((await entries()).length).toBe(1);
});
