/**
 * Erasure on request against the real embedded ClickHouse, with a real loader storing
 * entries from a real Redis stream WHILE the purge runs, into the same days and namespace:
 * afterwards every rollup equals a recount of usage_logs, the erased performer's entries are
 * gone, nothing of other performers changed, and the erasure is audited.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { assignContentKeys, NO_EXTENDED_FIELDS, type UsageLogRow } from '@quaylogs/core';
import type { Redis } from '@quaylogs/queue';
import { useStoreAndRedis } from '@quaylogs/testing';
import { type Loader, PurgeError, purgeEntries, resumePurge, ROLLUPS, startLoader } from '../src/index.ts';
import { appendRows, streamState } from './helpers.ts';

const DAY = 86_400_000;
const START = Date.UTC(2026, 5, 1, 8);

// Store (every data table, data_purges and purge_rows included) and Redis emptied before each test.
const file = useStoreAndRedis();
let store: ClickHouseStore;
let redis: Redis;
let loader: Loader | null = null;

beforeAll(() => {
  ({ store, redis } = file);
});
beforeEach(async () => {
  loader = startLoader({ redis, store, consumer: 'purge-test', batchMs: 20, batchRows: 500 });
});
afterEach(async () => {
  await loader?.stop();
  loader = null;
});

const PEOPLE = [
  ['acme', 'alice'],
  ['acme', 'bob'],
  ['acme', 'carol'],
  ['other', 'alice'],
  ['other', 'bob'],
] as const;

/** `n` rows over five days, cycling through PEOPLE; `phase` makes each phase's rows distinct. */
function rows(n: number, phase: string): UsageLogRow[] {
  return assignContentKeys(
    Array.from({ length: n }, (_, i) => {
      const [namespace, performer] = PEOPLE[i % PEOPLE.length]!;
      return {
        source: 'quay-test',
        namespace,
        repository: `repo${i % 3}`,
        kind: i % 4 === 0 ? 'push_repo' : 'pull_repo',
        performer,
        ip: '10.0.0.1',
        datetime: new Date(START + (Math.floor(i / PEOPLE.length) % 5) * DAY + i * 997).toISOString().replace('T', ' ').replace('Z', ''),
        metadata: JSON.stringify({ phase, i }),
        ...NO_EXTENDED_FIELDS,
      };
    }),
  );
}

async function count(sql: string, params: Record<string, unknown> = {}): Promise<number> {
  const [r] = await store.query<{ n: string }>({ name: 'test.count', sql, params });
  return Number(r!.n);
}

async function drained(expectedRows?: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = await streamState(redis);
    const stored = await count('SELECT count() AS n FROM usage_logs');
    if (s.length === 0 && s.pending === 0 && (expectedRows === undefined || stored >= expectedRows)) return;
    if (Date.now() > deadline) throw new Error(`loader did not drain: ${JSON.stringify(s)}, ${stored} stored`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every rollup, key by key, against a recount of usage_logs (zero sums are no rows). */
async function expectRollupsEqualRecount(): Promise<void> {
  for (const [table, keys] of Object.entries(ROLLUPS)) {
    const cols = keys.map((k) => (k === 'day' ? 'toString(day)' : k)).join(', ');
    const recountCols = keys.map((k) => (k === 'day' ? 'toString(toDate(datetime))' : k)).join(', ');
    const rollup = await store.query<{ k: string; n: string }>({
      name: 'test.rollup',
      sql: `SELECT concat(${cols.split(', ').map((c) => `toString(${c})`).join(", '|', ")}) AS k, toString(sum(count)) AS n
            FROM ${table} GROUP BY ${cols} HAVING sum(count) != 0 ORDER BY k`,
    });
    const recount = await store.query<{ k: string; n: string }>({
      name: 'test.recount',
      sql: `SELECT concat(${recountCols.split(', ').map((c) => `toString(${c})`).join(", '|', ")}) AS k, toString(count()) AS n
            FROM usage_logs GROUP BY ${recountCols} ORDER BY k`,
    });
    expect(rollup, table).toEqual(recount);
  }
}

const perPerson = (rs: UsageLogRow[]) => {
  const m: Record<string, number> = {};
  for (const r of rs) m[`${r.namespace}/${r.performer}`] = (m[`${r.namespace}/${r.performer}`] ?? 0) + 1;
  return m;
};

describe('purge', () => {
  it('erases a performer in a namespace while a loader stores more entries into the same days: rollups equal a recount, others unchanged, audited', async () => {
    const before = rows(5_000, 'before');
    await appendRows(redis, before, 500);
    await drained(before.length);
    await expectRollupsEqualRecount();

    // Entries keep arriving, for every person (alice included), in the very days being corrected.
    const during = rows(4_000, 'during');
    const ingest = (async () => {
      for (let i = 0; i < during.length; i += 100) {
        await appendRows(redis, during.slice(i, i + 100), 100);
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    const result = await purgeEntries(store, { performer: 'alice', namespace: 'acme', requestedBy: 'test-admin' });
    // The loader stored entries while the purge ran (both started together).
    expect(await count("SELECT count() AS n FROM usage_logs WHERE JSONExtractString(metadata, 'phase') = 'during'")).toBeGreaterThan(0);
    await ingest;
    await drained(before.length + during.length - result.rows_deleted);

    // alice's entries in acme that existed when the purge began are all gone.
    expect(await count("SELECT count() AS n FROM usage_logs WHERE namespace = 'acme' AND performer = 'alice' AND JSONExtractString(metadata, 'phase') = 'before'")).toBe(0);
    const aliceBefore = before.filter((r) => r.namespace === 'acme' && r.performer === 'alice').length;
    expect(result.rows_deleted).toBeGreaterThanOrEqual(aliceBefore);
    expect(result.days).toEqual(['2026-06-01', '2026-06-02', '2026-06-03', '2026-06-04', '2026-06-05']);

    // Every rollup, key by key, equals a recount — whatever interleaved with the purge.
    await expectRollupsEqualRecount();

    // Nothing of anyone else changed: every other (namespace, performer) holds all it was sent.
    const sent = perPerson([...before, ...during]);
    const stored = await store.query<{ who: string; n: string }>({
      name: 'test.perPerson',
      sql: "SELECT concat(namespace, '/', performer) AS who, toString(count()) AS n FROM usage_logs GROUP BY who ORDER BY who",
    });
    for (const { who, n } of stored) {
      if (who !== 'acme/alice') expect(Number(n), who).toBe(sent[who]);
    }
    expect(stored.map((s) => s.who)).toEqual(expect.arrayContaining(['acme/bob', 'acme/carol', 'other/alice', 'other/bob']));
    // alice's entries stored after the purge's last round are the only alice@acme left (≤ what arrived during it).
    const aliceLeft = await count("SELECT count() AS n FROM usage_logs WHERE namespace = 'acme' AND performer = 'alice'");
    expect(aliceLeft + result.rows_deleted).toBe(aliceBefore + during.filter((r) => r.namespace === 'acme' && r.performer === 'alice').length);

    // Audited: who, what (the performer only as a hash), how many; the copied rows are gone.
    const audit = await store.query<Record<string, string>>({
      name: 'test.audit',
      sql: 'SELECT purge_id, requested_by, namespace, performer_sha256, status, toString(rows_deleted) AS rows_deleted FROM data_purges FINAL',
    });
    expect(audit).toEqual([
      {
        purge_id: result.purge_id,
        requested_by: 'test-admin',
        namespace: 'acme',
        performer_sha256: createHash('sha256').update('alice').digest('hex'),
        status: 'done',
        rows_deleted: String(result.rows_deleted),
      },
    ]);
    expect(await count('SELECT count() AS n FROM purge_rows')).toBe(0);
  });

  it('erases a namespace before a date only, and keeps the rest of it and every other namespace', async () => {
    const all = rows(2_000, 'x');
    await appendRows(redis, all, 500);
    await drained(all.length);
    const cut = new Date(START + 2 * DAY - 8 * 3_600_000); // 2026-06-03 00:00 UTC
    const result = await purgeEntries(store, { namespace: 'other', before: cut, requestedBy: 'test-admin' });
    const expected = all.filter((r) => r.namespace === 'other' && Date.parse(`${r.datetime.replace(' ', 'T')}Z`) < cut.getTime()).length;
    expect(result.rows_deleted).toBe(expected);
    expect(result.days).toEqual(['2026-06-01', '2026-06-02']);
    expect(await count("SELECT count() AS n FROM usage_logs WHERE namespace = 'other' AND datetime < '2026-06-03 00:00:00'")).toBe(0);
    expect(await count("SELECT count() AS n FROM usage_logs WHERE namespace = 'other'")).toBe(all.filter((r) => r.namespace === 'other').length - expected);
    expect(await count("SELECT count() AS n FROM usage_logs WHERE namespace = 'acme'")).toBe(all.filter((r) => r.namespace === 'acme').length);
    await expectRollupsEqualRecount();
  });

  it('a purge cut off between deleting and correcting the rollups is completed by resumePurge, counting nothing twice', async () => {
    const all = rows(1_500, 'z');
    await appendRows(redis, all, 500);
    await drained(all.length);
    // The process "dies" after the delete and the first rollup's correction, before the second's.
    let corrections = 0;
    const crashing: ClickHouseStore = {
      ...store,
      backend: store.backend,
      database: store.database,
      query: (spec) => store.query(spec),
      stream: (spec) => store.stream(spec),
      insert: (spec) => store.insert(spec),
      insertStream: (spec) => store.insertStream(spec),
      ping: () => store.ping(),
      close: () => store.close(),
      command: async (spec) => {
        if (spec.name.startsWith('purge.correct.') && ++corrections === 2) throw new Error('simulated crash');
        return store.command(spec);
      },
    };
    await expect(purgeEntries(crashing, { performer: 'bob', requestedBy: 'test-admin' })).rejects.toThrow('simulated crash');
    const [running] = await store.query<{ purge_id: string; status: string }>({ name: 'test.audit', sql: 'SELECT purge_id, status FROM data_purges FINAL' });
    expect(running!.status).toBe('running');
    expect(await count("SELECT count() AS n FROM usage_logs WHERE performer = 'bob'")).toBe(0);

    const resumed = await resumePurge(store, running!.purge_id);
    expect(resumed.rows_deleted).toBe(all.filter((r) => r.performer === 'bob').length);
    await expectRollupsEqualRecount();
    const [done] = await store.query<{ status: string; rows_deleted: string }>({ name: 'test.audit', sql: 'SELECT status, toString(rows_deleted) AS rows_deleted FROM data_purges FINAL' });
    expect(done).toEqual({ status: 'done', rows_deleted: String(resumed.rows_deleted) });
    expect(await count('SELECT count() AS n FROM purge_rows')).toBe(0);
    await expect(resumePurge(store, running!.purge_id)).rejects.toThrow(/already done/);
  });

  it('refuses a purge without a performer or a namespace, and changes nothing', async () => {
    await appendRows(redis, rows(100, 'y'), 100);
    await drained(100);
    await expect(purgeEntries(store, { requestedBy: 'x' })).rejects.toThrow(PurgeError);
    await expect(purgeEntries(store, { performer: '', requestedBy: 'x' })).rejects.toThrow(PurgeError);
    // A rollup the purge would not correct: refused rather than leaving its counts wrong.
    await store.command({ name: 'test.rollup', sql: 'CREATE TABLE usage_daily_extra (day Date, count UInt64) ENGINE = SummingMergeTree(count) ORDER BY day' });
    try {
      await expect(purgeEntries(store, { performer: 'alice', requestedBy: 'x' })).rejects.toThrow(/usage_daily_extra would not be corrected/);
    } finally {
      await store.command({ name: 'test.rollup', sql: 'DROP TABLE usage_daily_extra' });
    }
    expect(await count('SELECT count() AS n FROM usage_logs')).toBe(100);
    expect(await count('SELECT count() AS n FROM data_purges')).toBe(0);
  });
});
