/**
 * listUsageLogs reads growing slices of the window (an hour, a day, a week back from the
 * cursor, or from "now" when the window reaches past it) and must answer exactly what one
 * query over the whole window answers, wherever the entries lie relative to "now".
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chTime, type ClickHouseStore, insertUsageLogs, listLogPage, listUsageLogs, LOG_PAGE_COLUMNS, type LogCursor } from '../src/index.ts';
import { row } from '@quaylogs/testing';
import { openTestStore, resetStore } from '@quaylogs/testing';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterAll(async () => cleanup());
beforeEach(async () => resetStore(store));

const NOW = new Date('2024-06-18T15:30:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Entries at these offsets from NOW (ms), distinct keys, three sharing one millisecond. */
async function seed(offsets: number[]): Promise<void> {
  const rows = offsets.map((o, i) => row({ namespace: 'acme', event_key: String(1000 + i), datetime: chTime(new Date(NOW.getTime() + o)) }));
  rows.push(row({ namespace: 'acme', event_key: '7', datetime: rows[5]!.datetime }), row({ namespace: 'acme', event_key: '8', datetime: rows[5]!.datetime }));
  rows.push(row({ namespace: 'other', event_key: '9', datetime: chTime(NOW) }));
  await insertUsageLogs(store, rows);
}

async function walk(start: Date, end: Date, now: Date): Promise<string[]> {
  const keys: string[] = [];
  let cursor: LogCursor | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await listUsageLogs(store, { start, end, namespace: 'acme' }, cursor, 20, { now });
    keys.push(...page.rows.map((r) => r.event_key));
    if (!page.hasMore) return keys;
    const last = page.rows.at(-1)!;
    cursor = { datetime: last.datetime, eventKey: last.event_key };
  }
  throw new Error('the walk did not end');
}

async function oneQuery(start: Date, end: Date): Promise<string[]> {
  const rows = await store.query<{ k: string }>({
    name: 'test.whole',
    sql: `SELECT toString(event_key) AS k FROM usage_logs WHERE namespace = 'acme'
          AND datetime >= {s:DateTime64(3, 'UTC')} AND datetime < {e:DateTime64(3, 'UTC')} ORDER BY datetime DESC, event_key DESC`,
    params: { s: chTime(start), e: chTime(end) },
  });
  return rows.map((r) => r.k);
}

describe('listUsageLogs', () => {
  it('walks a window that ends after "now" exactly, future-dated entries included', async () => {
    const offsets = [
      ...Array.from({ length: 12 }, (_, i) => (i + 1) * MIN), // up to 12 minutes ahead (HEC accepts a day ahead)
      ...Array.from({ length: 25 }, (_, i) => -(i + 1) * 2 * MIN), // the last hour
      ...Array.from({ length: 25 }, (_, i) => -HOUR - (i + 1) * 50 * MIN), // the last day or so
      ...Array.from({ length: 25 }, (_, i) => -2 * DAY - i * 20 * HOUR), // weeks back
    ];
    await seed(offsets);
    const start = new Date(NOW.getTime() - 30 * DAY);
    const end = new Date(Date.UTC(2024, 5, 19)); // Quay's window: through the next midnight
    const expected = await oneQuery(start, end);
    expect(expected).toHaveLength(offsets.length + 2);
    expect(await walk(start, end, NOW)).toEqual(expected);
    // The same walk with "now" far before or after the entries changes only the reads.
    expect(await walk(start, end, new Date(NOW.getTime() - 40 * DAY))).toEqual(expected);
    expect(await walk(start, end, new Date(NOW.getTime() + 400 * DAY))).toEqual(expected);
  });

  it('a window entirely in the past, and one with nothing in its last week, are walked exactly', async () => {
    await seed(Array.from({ length: 45 }, (_, i) => -10 * DAY - i * 7 * HOUR));
    const past = { start: new Date(NOW.getTime() - 60 * DAY), end: new Date(NOW.getTime() - 9 * DAY) };
    const expected = await oneQuery(past.start, past.end);
    expect(expected).toHaveLength(47);
    expect(await walk(past.start, past.end, NOW)).toEqual(expected);
    const open = { start: new Date(NOW.getTime() - 60 * DAY), end: new Date(NOW.getTime() + DAY) };
    expect(await walk(open.start, open.end, NOW)).toEqual(await oneQuery(open.start, open.end));
  });

  it("listLogPage (what /logs reads) answers listUsageLogs' pages, with Quay's fields only", async () => {
    await seed(Array.from({ length: 50 }, (_, i) => -i * 37 * MIN));
    const filter = { start: new Date(NOW.getTime() - 30 * DAY), end: new Date(NOW.getTime() + DAY), namespace: 'acme' };
    let cursor: LogCursor | null = null;
    for (let pages = 0; ; pages++) {
      const full = await listUsageLogs(store, filter, cursor, 20, { now: NOW });
      const page = await listLogPage(store, filter, cursor, 20, { now: NOW });
      expect(page.hasMore).toBe(full.hasMore);
      expect(page.rows).toEqual(full.rows.map((r) => Object.fromEntries(LOG_PAGE_COLUMNS.map((c) => [c, r[c]]))));
      expect(Object.keys(page.rows[0]!).sort()).toEqual(['datetime', 'event_key', 'ip', 'kind', 'metadata', 'namespace', 'performer', 'source']);
      if (!full.hasMore) break;
      expect(pages).toBeLessThan(5);
      const last = full.rows.at(-1)!;
      cursor = { datetime: last.datetime, eventKey: last.event_key };
    }
  });
});
