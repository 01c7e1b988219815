/**
 * The loader against a real Redis and the real embedded ClickHouse:
 * every entry stored exactly once whatever is re-delivered, poison entries dead-lettered
 * and replayable, the shards of a dead loader taken over.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseStore, insertUsageLogs } from '@quaylogs/clickhouse';
import { appendIngestBatch, DEADLETTER_STREAM, INGEST_SHARDS, INGEST_STREAM, ingestBacklog, ingestShardKey, fenceOf, type Redis, shardOf, tryAcquireLease } from '@quaylogs/queue';
import { useStoreAndRedis } from '@quaylogs/testing';
import {
  INSERT_INTENTS_KEY,
  leaseKeyOf,
  ingestStatus,
  listDeadLetters,
  loadOnce,
  replayDeadLetters,
  startLoader,
  type Loader,
} from '../src/index.ts';
import { appendRows, batchOf, quayRows, storedCounts, streamState } from './helpers.ts';

const file = useStoreAndRedis();
let store: ClickHouseStore;
let redis: Redis;
const loaders: Loader[] = [];

beforeAll(() => {
  ({ store, redis } = file);
});
afterEach(async () => {
  while (loaders.length) await loaders.pop()!.stop();
});

function run(opts: Partial<Parameters<typeof startLoader>[0]> = {}): Loader {
  const l = startLoader({ redis, store, consumer: 'loader-a', batchMs: 50, retryBaseMs: 10, ...opts });
  loaders.push(l);
  return l;
}

describe('loader', () => {
  it('stores every entry once: re-sent rows, duplicates inside a batch and a second pass add nothing', async () => {
    const rows = quayRows(3_000);
    await appendRows(redis, rows, 250);
    const entries = await ingestBacklog(redis);
    expect(entries).toBeGreaterThanOrEqual(12); // each entry split by shard
    const first = await loadOnce({ redis, store, consumer: 'loader-a' });
    expect(first).toMatchObject({ entries, rows: 3_000, inserted: 3_000, duplicates: 0, deadLettered: 0 });

    // A poller re-reading an overlapping window, an entry holding the same row twice,
    // and one new row.
    const fresh = quayRows(1, { tag: 'new' });
    await appendRows(redis, rows.slice(1_000, 2_500), 500);
    await appendIngestBatch(redis, batchOf([rows[7]!, rows[7]!, fresh[0]!, fresh[0]!]));
    const second = await loadOnce({ redis, store, consumer: 'loader-a' });
    expect(second).toMatchObject({ rows: 1_504, inserted: 1, duplicates: 1_503 });

    expect(await storedCounts(store)).toEqual({ rows: 3_001, keys: 3_001, rollup: 3_001 });
    expect(await streamState(redis)).toEqual({ length: 0, pending: 0 });
    expect(await loadOnce({ redis, store, consumer: 'loader-a' })).toMatchObject({ entries: 0 });
  });

  it('entries a dead loader stored but never acknowledged are not stored twice by the loader that takes its shards over', async () => {
    const rows = quayRows(900);
    await appendRows(redis, rows, 300);
    // Loader "crashed" owned every shard, stored the first 300 rows, and died before acknowledging.
    for (let s = 0; s < INGEST_SHARDS; s++) expect(await tryAcquireLease(redis, leaseKeyOf(ingestShardKey(s)), 'crashed', 3_000)).not.toBeNull();
    expect(await loadOnce({ redis, store, consumer: 'survivor' })).toMatchObject({ entries: 0 }); // its shards are not free yet
    await insertUsageLogs(store, rows.slice(0, 300));
    const leases = Array.from({ length: INGEST_SHARDS }, (_, s) => leaseKeyOf(ingestShardKey(s)));
    while ((await redis.exists(...leases)) > 0) await new Promise((r) => setTimeout(r, 100));
    const stats = await loadOnce({ redis, store, consumer: 'survivor' });
    expect(stats).toMatchObject({ rows: 900, inserted: 600, duplicates: 300 });
    expect(await storedCounts(store)).toEqual({ rows: 900, keys: 900, rollup: 900 });
    expect(await streamState(redis)).toEqual({ length: 0, pending: 0 });
  });

  it('a batch that reached usage_logs but not every rollup is completed by its retry, and counted once', async () => {
    // A rollup whose view fails while a gate is closed: the insert commits its usage_logs part,
    // then fails in the views — what a loader killed between the two leaves behind.
    await store.command({ name: 'test.gate', sql: 'CREATE TABLE IF NOT EXISTS gate (x UInt8) ENGINE = MergeTree ORDER BY x' });
    await store.command({ name: 'test.gate', sql: 'TRUNCATE TABLE gate' });
    await store.command({ name: 'test.gate', sql: 'INSERT INTO gate VALUES (1)' });
    await store.command({
      name: 'test.probe',
      sql: 'CREATE TABLE IF NOT EXISTS rollup_probe (n UInt64) ENGINE = SummingMergeTree ORDER BY tuple() SETTINGS non_replicated_deduplication_window = 100',
    });
    await store.command({ name: 'test.probe', sql: 'TRUNCATE TABLE rollup_probe' });
    await store.command({
      name: 'test.probe',
      sql: "CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_probe_mv TO rollup_probe AS SELECT count() AS n FROM usage_logs WHERE throwIf((SELECT count() FROM gate) > 0, 'rollup unavailable') = 0",
    });
    try {
      const rows = quayRows(1_000);
      await appendRows(redis, rows, 250);
      const loader = run({ consumer: 'loader-a', maxAttempts: 1_000, retryBaseMs: 50 });
      const count = async (sql: string) => Number((await store.query<{ n: string }>({ name: 'test.n', sql }))[0]!.n);
      for (let i = 0; i < 200 && (await count('SELECT count() AS n FROM usage_logs')) < 1_000; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await count('SELECT count() AS n FROM usage_logs')).toBe(1_000);
      expect(await count('SELECT sum(n) AS n FROM rollup_probe')).toBe(0);
      expect(await redis.hexists(INSERT_INTENTS_KEY, 'loader-a')).toBe(1);
      await store.command({ name: 'test.gate', sql: 'TRUNCATE TABLE gate' });
      await loader.drain();
      expect(await storedCounts(store)).toEqual({ rows: 1_000, keys: 1_000, rollup: 1_000 });
      expect(await count('SELECT sum(n) AS n FROM rollup_probe')).toBe(1_000);
      expect(await streamState(redis)).toEqual({ length: 0, pending: 0 });
      expect(await redis.hlen(INSERT_INTENTS_KEY)).toBe(0);
    } finally {
      await store.command({ name: 'test.probe', sql: 'DROP VIEW IF EXISTS rollup_probe_mv' });
      await store.command({ name: 'test.probe', sql: 'DROP TABLE IF EXISTS rollup_probe' });
      await store.command({ name: 'test.gate', sql: 'DROP TABLE IF EXISTS gate' });
    }
  });

  it('a running loader takes over the shards of a dead loader once its leases expire', async () => {
    const rows = quayRows(1_200);
    await appendRows(redis, rows, 100);
    const deadFences: number[] = [];
    for (let s = 0; s < INGEST_SHARDS; s++) deadFences.push(fenceOf((await tryAcquireLease(redis, leaseKeyOf(ingestShardKey(s)), 'dead-one', 300))!));
    await insertUsageLogs(store, rows.slice(0, 100)); // it had stored its first entry
    const loader = run({ consumer: 'survivor', leaseMs: 300 });
    await loader.drain();
    expect(await storedCounts(store)).toEqual({ rows: 1_200, keys: 1_200, rollup: 1_200 });
    expect(await streamState(redis)).toEqual({ length: 0, pending: 0 });
    // Every shard was acquired again after the dead loader (a later fence), and not by it.
    for (let s = 0; s < INGEST_SHARDS; s++) {
      expect(Number(await redis.get(`${leaseKeyOf(ingestShardKey(s))}:fence`))).toBeGreaterThan(deadFences[s]!);
      expect(String(await redis.get(leaseKeyOf(ingestShardKey(s))))).not.toMatch(/^dead-one#/);
    }
  });

  it('dead-letters an unparseable entry with its reason and payload, and replays it on demand', async () => {
    const rows = quayRows(40);
    await appendRows(redis, rows.slice(0, 20), 10);
    await redis.xadd(INGEST_STREAM, '*', 'b', '{"v":1,"origin":"hec","rows":"oops"');
    await redis.xadd(INGEST_STREAM, '*', 'b', JSON.stringify({ v: 2, origin: 'hec', source: 's', rows: [] }));
    await appendRows(redis, rows.slice(20), 10);
    const stats = await loadOnce({ redis, store, consumer: 'loader-a' });
    expect(stats).toMatchObject({ inserted: 40, deadLettered: 2 });
    expect(await storedCounts(store)).toMatchObject({ rows: 40 });
    expect(await streamState(redis)).toEqual({ length: 0, pending: 0 });

    const dead = await listDeadLetters(redis, { limit: 10 });
    expect(dead).toHaveLength(2);
    expect(dead[0]).toMatchObject({ consumer: 'loader-a', payload: '{"v":1,"origin":"hec","rows":"oops"' });
    expect(dead[0]!.reason).toMatch(/^unparseable entry: /);
    expect(dead[1]!.reason).toMatch(/unparseable entry/);
    expect(dead[0]!.originalId).toMatch(/^\d+-\d+$/);

    // Replaying puts the payload back in the ingest stream; still poison, it comes back.
    const replay = await replayDeadLetters(redis, { ids: [dead[0]!.id, '1-1'] });
    expect(replay).toMatchObject({ replayed: 1, missing: ['1-1'] });
    expect(await redis.xlen(DEADLETTER_STREAM)).toBe(1);
    expect(await redis.xlen(INGEST_STREAM)).toBe(1);
    await loadOnce({ redis, store, consumer: 'loader-a' });
    expect((await listDeadLetters(redis)).map((d) => d.payload)).toEqual([
      dead[1]!.payload,
      '{"v":1,"origin":"hec","rows":"oops"',
    ]);
  });

  it('an entry ClickHouse keeps refusing is isolated and dead-lettered, the rest is stored; fixed and replayed it is stored', async () => {
    await store.command({ name: 'test.constraint', sql: "ALTER TABLE usage_logs ADD CONSTRAINT IF NOT EXISTS no_forbidden CHECK kind != 'forbidden_kind'" });
    try {
      const rows = quayRows(80);
      rows[45] = { ...rows[45]!, kind: 'forbidden_kind' };
      await appendRows(redis, rows, 10); // 8 entries, the 5th holds the refused row
      const logs: string[] = [];
      const loader = run({ maxAttempts: 2, batchRows: 1_000, log: (_o, msg) => logs.push(msg) });
      await loader.drain();
      // Entries are split by shard: the refused row's part holds the rows of its shard.
      const shardOfRow = (r: (typeof rows)[number]) => shardOf(r.source, r.namespace);
      const part = rows.slice(40, 50).filter((r) => shardOfRow(r) === shardOfRow(rows[45]!));
      expect(await storedCounts(store)).toMatchObject({ rows: 80 - part.length, keys: 80 - part.length });
      expect(await streamState(redis)).toEqual({ length: 0, pending: 0 });
      const [dead, ...more] = await listDeadLetters(redis);
      expect(more).toHaveLength(0);
      expect(dead!.reason).toMatch(/^insert failed 2 times: .*(no_forbidden|VIOLATED_CONSTRAINT)/);
      expect(JSON.parse(dead!.payload).rows.map((r: { event_key: string }) => r.event_key)).toEqual(
        part.map((r) => r.event_key),
      );
      expect(logs).toContain('loader: entry dead-lettered');

      await store.command({ name: 'test.constraint', sql: 'ALTER TABLE usage_logs DROP CONSTRAINT IF EXISTS no_forbidden' });
      await replayDeadLetters(redis);
      await loader.drain();
      expect(await storedCounts(store)).toEqual({ rows: 80, keys: 80, rollup: 80 });
      expect(await redis.xlen(DEADLETTER_STREAM)).toBe(0);
    } finally {
      await store.command({ name: 'test.constraint', sql: 'ALTER TABLE usage_logs DROP CONSTRAINT IF EXISTS no_forbidden' });
    }
  });

  it('runs as a loop: batches by rows and time, upserts accounts, reports status, and stop() leaves nothing pending', async () => {
    const logs: { obj: any; msg: string }[] = [];
    const loader = run({ batchRows: 2_000, batchMs: 100, log: (obj, msg) => logs.push({ obj, msg }) });
    const rows = quayRows(10_000, { start: new Date(Date.now() - 30 * 60_000), stepMs: 100 });
    await appendRows(redis, rows, 500);
    await appendIngestBatch(redis, batchOf(quayRows(3, { tag: 'acct', start: new Date(Date.now() - 40 * 60_000) }), {
      accounts: [{ name: 'org1+bot', kind: 'robot', email: null }, { name: 'org1', kind: 'org', email: 'org1@example.com' }],
    }));
    await loader.drain();
    expect(await storedCounts(store)).toEqual({ rows: 10_003, keys: 10_003, rollup: 10_003 });
    const batches = logs.filter((l) => l.msg === 'loader: batch stored');
    expect(batches.length).toBeGreaterThanOrEqual(5);
    for (const b of batches) expect(b.obj.rows).toBeLessThanOrEqual(2_500);
    const accounts = await store.query<{ name: string; kind: string }>({ name: 'test.accounts', sql: 'SELECT name, kind FROM accounts FINAL ORDER BY name' });
    expect(accounts).toEqual([{ name: 'org1', kind: 'org' }, { name: 'org1+bot', kind: 'robot' }]);

    await redis.xadd(DEADLETTER_STREAM, '*', 'reason', 'x', 'b', '{}');
    const status = await ingestStatus(store, redis);
    expect(status.sources).toHaveLength(1);
    expect(status.sources[0]).toMatchObject({ source: 'quay-test', entries_last_hour: 10_003 });
    expect(status.sources[0]!.lag_seconds).toBeLessThan(3_600);
    expect(status.sources[0]!.last_entry_time).toBe(`${rows.at(-1)!.datetime.replace(' ', 'T')}Z`);
    expect(status.stream).toMatchObject({ length: 0, pending: 0, undelivered: 0 });
    expect(status.dead_letters).toBe(1);

    await loader.stop();
    await appendRows(redis, quayRows(5, { tag: 'after-stop', namespace: 'org0' }), 5);
    expect(await streamState(redis)).toEqual({ length: 1, pending: 0 });
  });
});
