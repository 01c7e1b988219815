/**
 * The embedded engine's traps, measured on this kind of machine, stay neutralised.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UsageLogRow } from '@quaylogs/core';
import { type ClickHouseStore, countUsageLogs, insertUsageLogs, listUsageLogs, migrate } from '../src/index.ts';
import { openTestStore, resetStore, TEST_BACKEND } from '@quaylogs/testing';
import { row as baseRow } from '@quaylogs/testing';

let store: ClickHouseStore;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ store, dir, cleanup } = await openTestStore());
});
afterAll(async () => cleanup());
beforeEach(async () => resetStore(store));

function row(over: Partial<UsageLogRow> = {}): UsageLogRow {
  return baseRow({ source: 'test', namespace: 'acme', repository: 'web', kind: 'pull_repo', performer: 'alice', ip: '10.0.0.1', datetime: '2024-06-18 18:59:13.000', ...over });
}

describe(`embedded ClickHouse traps (${TEST_BACKEND} backend)`, () => {
  it('runs on the backend the lane asks for', () => {
    expect(store.backend).toBe(TEST_BACKEND);
  });

  it('a dedup token on one insert does not leak into the next insert on the same connection', async () => {
    await insertUsageLogs(store, [row({ event_key: '1' })], 'batch-a');
    await insertUsageLogs(store, [row({ event_key: '2' })]);
    await insertUsageLogs(store, [row({ event_key: '3' })]);
    expect(await countUsageLogs(store)).toBe(3);
  });

  it('a retried insert with the same dedup token is stored once (synchronous inserts honour the token)', async () => {
    const batch = [row({ event_key: '10' }), row({ event_key: '11' })];
    await insertUsageLogs(store, batch, 'loader-batch-42');
    await insertUsageLogs(store, batch, 'loader-batch-42');
    expect(await countUsageLogs(store)).toBe(2);
    // and it is visible the moment insert() resolves (no async insert buffer)
    const page = await listUsageLogs(store, { start: new Date('2024-06-18'), end: new Date('2024-06-19') }, null, 20);
    expect(page.rows.map((r) => r.event_key).sort()).toEqual(['10', '11']);
  });

  it('rejects rows with unknown fields instead of silently dropping them', async () => {
    await expect(store.insert({ table: 'usage_logs', rows: [{ ...row(), surprise: 1 }] })).rejects.toThrow(/Unknown field|No such column surprise/i);
    expect(await countUsageLogs(store)).toBe(0);
  });

  it('stores every value as sent, whatever the rows\' shapes (positional fast path or keyed fallback)', async () => {
    const odd = 'tab\there "quoted" back\\slash\nnewline \u2028 ünïcödé 🐳 {"json":[1,2]}';
    await insertUsageLogs(store, [row({ event_key: '1', metadata: odd }), row({ event_key: '2', user_agent: odd })]);
    // Shapes differ: an extra field anywhere is still refused, a missing one takes the column default.
    await expect(store.insert({ table: 'usage_logs', rows: [row({ event_key: '3' }), { ...row({ event_key: '4' }), surprise: 1 }] })).rejects.toThrow(/Unknown field/i);
    const { ip: _dropped, ...noIp } = row({ event_key: '5', performer: 'carol' });
    await store.insert({ table: 'usage_logs', rows: [row({ event_key: '6' }), noIp] });
    const rows = await store.query<{ event_key: string; metadata: string; user_agent: string; ip: string; performer: string }>({
      name: 'test.values',
      sql: 'SELECT toString(event_key) AS event_key, metadata, user_agent, ip, performer FROM usage_logs ORDER BY event_key',
    });
    expect(rows.map((r) => r.event_key)).toEqual(['1', '2', '5', '6']);
    expect(rows[0]!.metadata).toBe(odd);
    expect(rows[1]!.user_agent).toBe(odd);
    expect(rows[2]).toMatchObject({ ip: '', performer: 'carol' });
    expect(rows[3]).toMatchObject({ ip: '10.0.0.1', performer: 'alice' });
  });

  it('returns 64-bit and 128-bit integers exactly, as strings', async () => {
    const max = (2n ** 128n - 1n).toString();
    await insertUsageLogs(store, [row({ event_key: max })]);
    const [r] = await store.query<{ event_key: string; n: string; big: string }>({
      name: 'test.ints',
      sql: 'SELECT event_key, count() OVER () AS n, toUInt64(18446744073709551615) AS big FROM usage_logs',
    });
    expect(r).toEqual({ event_key: max, n: '1', big: '18446744073709551615' });
  });

  it('a failed read or write leaves nothing behind: the next answers on those connections are exactly theirs', async () => {
    const failing = { name: 'test.fails', sql: "SELECT throwIf(number = 70000, 'boom') AS t FROM numbers(100000)", settings: { max_block_size: 1000 } };
    // Every reader fails once (each query goes to the least busy reader), then each answers its own query.
    for (let i = 0; i < 3; i++) await expect(store.query(failing)).rejects.toThrow(/boom/);
    for (let i = 0; i < 3; i++) expect(await store.query({ name: 'test.after', sql: `SELECT ${i} AS x` })).toEqual([{ x: i }]);
    // Queries queued behind a failing one on the same connection get their own answers too.
    const [f1, f2, g1, g2] = await Promise.allSettled([
      store.query(failing),
      store.query(failing),
      store.query({ name: 'test.queued', sql: 'SELECT 11 AS x' }),
      store.query({ name: 'test.queued', sql: 'SELECT 12 AS x' }),
    ]);
    expect([f1.status, f2.status]).toEqual(['rejected', 'rejected']);
    expect([g1, g2]).toEqual([
      { status: 'fulfilled', value: [{ x: 11 }] },
      { status: 'fulfilled', value: [{ x: 12 }] },
    ]);
    await expect(store.command({ name: 'test.failsWrite', sql: "INSERT INTO usage_logs (namespace) SELECT toString(throwIf(number = 70000, 'boom')) FROM numbers(100000) SETTINGS max_block_size = 1000" })).rejects.toThrow(/boom/);
    await insertUsageLogs(store, [row({ event_key: '1' })]);
    expect(await countUsageLogs(store)).toBe(1);
  });

  it('answers a small query while a heavy one runs (separate read connections)', async () => {
    const order: string[] = [];
    const heavy = store
      .query({ name: 'test.heavy', sql: 'SELECT count() AS n FROM numbers(600000000) WHERE number % 7 = 3', settings: { max_threads: 1 } })
      .then(() => order.push('heavy'));
    await new Promise((r) => setTimeout(r, 50));
    const light = store.query({ name: 'test.light', sql: 'SELECT 1 AS ok' }).then(() => order.push('light'));
    await Promise.all([heavy, light]);
    expect(order).toEqual(['light', 'heavy']);
  });

  it('streams a large result in chunks instead of buffering it', async () => {
    let rows = 0;
    let chunks = 0;
    let last = -1n;
    for await (const chunk of store.stream<{ number: string }>({
      name: 'test.stream',
      sql: 'SELECT number FROM numbers({n:UInt64}) ORDER BY number',
      params: { n: 1_500_000 },
    })) {
      chunks++;
      rows += chunk.length;
      last = BigInt(chunk[chunk.length - 1]!.number);
    }
    expect(rows).toBe(1_500_000);
    expect(last).toBe(1_499_999n);
    expect(chunks).toBeGreaterThan(1);
  });

  it('writes a large stream in bounded batches', async () => {
    const n = 300_000;
    function* lines() {
      let buf = '';
      for (let i = 0; i < n; i++) {
        buf += JSON.stringify(row({ event_key: String(i + 1), datetime: '2024-06-18 12:00:00.000' })) + '\n';
        if (buf.length > 1 << 20) {
          yield buf;
          buf = '';
        }
      }
      if (buf) yield buf;
    }
    let progressCalls = 0;
    const res = await store.insertStream({ table: 'usage_logs', source: lines(), batchBytes: 8 << 20, onProgress: () => progressCalls++ });
    expect(res.rows).toBe(n);
    expect(progressCalls).toBeGreaterThan(1);
    expect(await countUsageLogs(store)).toBe(n);
  });

  it.skipIf(TEST_BACKEND === 'server')('a second process on the same data directory fails with one clear line', () => {
    const script = `
      import { openEmbeddedStore } from ${JSON.stringify(join(process.cwd(), 'packages/clickhouse/src/index.ts'))};
      try { await openEmbeddedStore({ path: ${JSON.stringify(join(dir, 'clickhouse'))}, database: 'quaylogs' }); console.log('opened'); }
      catch (e) { console.log(e.name + ': ' + e.message); process.exitCode = 3; }
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(3);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^StoreLockedError: the embedded ClickHouse data directory .* is in use by process ${process.pid} `));
  });

  it('migrations are recorded and a second run applies nothing', async () => {
    const again = await migrate(store);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied.length).toBeGreaterThanOrEqual(3);
    const recorded = await store.query<{ name: string }>({ name: 'test.migrations', sql: 'SELECT name FROM schema_migrations FINAL ORDER BY version' });
    expect(recorded.map((r) => r.name)).toEqual(again.alreadyApplied);
  });
});

describe('rollup backfill', () => {
  it('a rollup added by a later migration is filled from the entries already stored, exactly, even when re-run', async () => {
    await insertUsageLogs(store, [row({ event_key: '1' }), row({ event_key: '2' }), row({ event_key: '3', kind: 'push_repo' })]);
    // as if 0008 had never run on this store: its table empty and its record gone
    await store.command({ name: 'test.truncate', sql: 'TRUNCATE TABLE usage_daily_namespace' });
    await store.command({ name: 'test.forget', sql: "ALTER TABLE schema_migrations DELETE WHERE name = '0008_create_usage_daily_namespace' SETTINGS mutations_sync = 2" });
    for (let run = 0; run < 2; run++) {
      await migrate(store);
      const counts = await store.query<{ kind: string; n: string }>({
        name: 'test.rollup',
        sql: 'SELECT kind, sum(count) AS n FROM usage_daily_namespace GROUP BY kind ORDER BY kind',
      });
      expect(counts).toEqual([
        { kind: 'pull_repo', n: '2' },
        { kind: 'push_repo', n: '1' },
      ]);
      await store.command({ name: 'test.forget', sql: "ALTER TABLE schema_migrations DELETE WHERE name = '0008_create_usage_daily_namespace' SETTINGS mutations_sync = 2" });
    }
  });
});

describe('retention', () => {
  it('QUAYLOGS_RETENTION_DAYS drops old entries and keeps the daily rollups; 0 keeps everything', async () => {
    const { applyRetention } = await import('../src/index.ts');
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString().replace('T', ' ').replace('Z', '');
    const recent = new Date(Date.now() - 86_400_000).toISOString().replace('T', ' ').replace('Z', '');
    await insertUsageLogs(store, [row({ event_key: '1', datetime: old }), row({ event_key: '2', datetime: recent })]);
    await applyRetention(store, 30);
    await store.command({ name: 'test.materialize', sql: 'ALTER TABLE usage_logs MATERIALIZE TTL SETTINGS mutations_sync = 2' });
    await store.command({ name: 'test.optimize', sql: 'OPTIMIZE TABLE usage_logs FINAL' });
    expect(await countUsageLogs(store)).toBe(1);
    const [r] = await store.query<{ n: string }>({ name: 'test.rollup', sql: 'SELECT sum(count) AS n FROM usage_daily_kind' });
    expect(r!.n).toBe('2');
    await applyRetention(store, 0);
    await insertUsageLogs(store, [row({ event_key: '3', datetime: old })]);
    await store.command({ name: 'test.optimize', sql: 'OPTIMIZE TABLE usage_logs FINAL' });
    expect(await countUsageLogs(store)).toBe(2);
  });
});
