/**
 * aggregateUsageLogs adds the rollups' stored rows up itself (not the engine's GROUP BY):
 * its counts must equal a recount of usage_logs for every window shape (whole days from a
 * rollup, partial edge days from usage_logs, every grouping), also when a purge has stored
 * negated counts (UInt64 two's complement, in parts of their own) that erase some keys entirely.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aggregateUsageLogs, type ClickHouseStore, type GroupBy, insertUsageLogs, type LogFilter } from '../src/index.ts';
import { openTestStore, resetStore, row } from '@quaylogs/testing';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterAll(async () => cleanup());
beforeEach(async () => resetStore(store));

const HOUR = 3_600_000;
const START = Date.parse('2024-06-10T00:00:00Z');

/** Entries over five days: alice pushes and pulls, bob alone deletes; one per 5 hours each. */
async function seed(): Promise<void> {
  const rows = [];
  let key = 1;
  for (let t = START; t < START + 5 * 24 * HOUR; t += 5 * HOUR) {
    const datetime = new Date(t).toISOString().replace('T', ' ').replace('Z', '');
    for (const [performer, kind, repository] of [['alice', 'push_repo', 'web'], ['alice', 'pull_repo', 'api'], ['bob', 'delete_tag', 'web'], ['bob', 'pull_repo', 'web']] as const) {
      rows.push(row({ namespace: 'acme', performer, kind, repository, datetime, event_key: String(key++) }));
    }
    rows.push(row({ namespace: 'other', performer: 'carol', kind: 'push_repo', datetime, event_key: String(key++) }));
  }
  await insertUsageLogs(store, rows);
}

/** What a purge of `performer` does to the rollups (negated counts, one insert per rollup), then to usage_logs. */
async function purge(performer: string): Promise<void> {
  const rollups: Record<string, string> = {
    usage_daily_kind: 'source, day, kind',
    usage_daily_namespace: 'source, namespace, day, kind',
    usage_daily_repo: 'source, namespace, day, kind, repository',
    usage_daily_performer: 'source, namespace, day, kind, performer',
  };
  for (const [table, cols] of Object.entries(rollups)) {
    await store.command({
      name: 'test.negate',
      sql: `INSERT INTO ${table} (${cols}, count)
            SELECT ${cols}, toUInt64(-count()) FROM (SELECT *, toDate(datetime) AS day FROM usage_logs WHERE performer = {p:String}) GROUP BY ${cols}`,
      params: { p: performer },
    });
  }
  await store.command({ name: 'test.delete', sql: 'ALTER TABLE usage_logs DELETE WHERE performer = {p:String}', params: { p: performer }, settings: { mutations_sync: 2 } });
}

/** The same counts straight from usage_logs. */
async function recount(f: LogFilter, groupBy?: GroupBy) {
  const rows = await store.query<{ kind: string; day: string; count: string; g: string }>({
    name: 'test.recount',
    sql: `SELECT kind, toString(toDate(datetime)) AS day, count() AS count, ${groupBy ?? "''"} AS g FROM usage_logs
          WHERE datetime >= {s:DateTime64(3, 'UTC')} AND datetime < {e:DateTime64(3, 'UTC')}
            AND (${f.namespace === undefined ? '1' : 'namespace = {ns:String}'})
          GROUP BY kind, day, g ORDER BY day, kind, g`,
    params: { s: f.start.toISOString().replace('T', ' ').replace('Z', ''), e: f.end.toISOString().replace('T', ' ').replace('Z', ''), ns: f.namespace ?? '' },
  });
  return rows.map((r) => ({ kind: r.kind, day: r.day, count: Number(r.count), ...(groupBy ? { group: r.g } : {}) }));
}

const windows: [string, LogFilter][] = [
  ['whole days, one namespace', { start: new Date(START), end: new Date(START + 5 * 24 * HOUR), namespace: 'acme' }],
  ['partial edge days, one namespace', { start: new Date(START + 7 * HOUR), end: new Date(START + 3 * 24 * HOUR + 11 * HOUR), namespace: 'acme' }],
  ['whole days, every namespace', { start: new Date(START), end: new Date(START + 5 * 24 * HOUR) }],
  ['within one day', { start: new Date(START + 26 * HOUR), end: new Date(START + 40 * HOUR), namespace: 'acme' }],
];

describe('aggregateUsageLogs', () => {
  it('equals a recount of usage_logs for every window shape and grouping', async () => {
    await seed();
    for (const [name, f] of windows) {
      for (const g of [undefined, 'performer', 'repository'] as const) {
        if (g && f.namespace === undefined) continue;
        expect(await aggregateUsageLogs(store, f, g), `${name}, grouped by ${g ?? 'nothing'}`).toEqual(await recount(f, g));
      }
    }
  });

  it('after a purge: counts lowered by the negated rows, keys left without entries absent', async () => {
    await seed();
    await purge('bob');
    for (const [name, f] of windows) {
      for (const g of [undefined, 'performer', 'repository'] as const) {
        if (g && f.namespace === undefined) continue;
        const got = await aggregateUsageLogs(store, f, g);
        expect(got, `${name}, grouped by ${g ?? 'nothing'}`).toEqual(await recount(f, g));
        // Only bob deleted tags: that kind is gone from every answer, no zero-count rows.
        expect(got.some((r) => r.kind === 'delete_tag' || r.count <= 0)).toBe(false);
      }
    }
    const whole = await aggregateUsageLogs(store, windows[0]![1]);
    expect(whole.find((r) => r.kind === 'pull_repo' && r.day === '2024-06-10')?.count).toBe(5);
  });
});
