/**
 * The run's data: the demo generator (one seed, one fixed `now`) streamed once
 * into both stores — Quay's logentry3 by COPY and quaylogs' usage_logs through
 * the store's streaming insert — while counting what the figures need to pick
 * their subjects (largest namespace, a mid-size one, a busy repository and
 * performer).
 */
import type pg from 'pg';
import { type ClickHouseStore, upsertAccounts } from '@quaylogs/clickhouse';
import type { UsageLogRow } from '@quaylogs/core';
import { demoRows, demoWorld, type DemoOptions, type DemoWorld, KIND_MIX } from '@quaylogs/demo';
import { endCopy, finishLoad, LOGENTRY3_COLUMNS, logentry3Copy, loadWorld, openCopy, type QuayIds, writeWithBackpressure } from './pg/load.ts';

export const DAY_MS = 86_400_000;
export const SOURCE = 'demo';

export interface Window {
  start: Date;
  end: Date;
}

export interface Subjects {
  /** The namespace with the most entries in the 30-day window. */
  top: { namespace: string; rows: number };
  /** The namespace whose 30-day count is closest to 1 % of all entries in the window. */
  mid: { namespace: string; rows: number };
  /** The busiest repository of the top namespace. */
  repository: { namespace: string; name: string; rows: number };
  /** The busiest performer in the top namespace. */
  performer: { namespace: string; name: string; rows: number };
}

export interface BenchData {
  demo: DemoOptions;
  world: DemoWorld;
  ids: QuayIds;
  /** Whole UTC days: the 30 ending with `now`'s day, and the 90 ending with it. */
  last30: Window;
  last90: Window;
  rowsIn30: number;
  rowsIn90: number;
  /** Entries per UTC day (`YYYY-MM-DD`), all namespaces. */
  perDay: Map<string, number>;
  subjects: Subjects;
  load: { seconds: number; vacuumSeconds: number };
}

export function utcMidnight(d: Date): Date {
  return new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
}

/** Naive UTC text, PostgreSQL `timestamp` and ClickHouse DateTime64 parameter form. */
export function naiveUtc(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

function windows(now: Date): { last30: Window; last90: Window } {
  const end = new Date(utcMidnight(now).getTime() + DAY_MS);
  return {
    last30: { start: new Date(end.getTime() - 30 * DAY_MS), end },
    last90: { start: new Date(end.getTime() - 90 * DAY_MS), end },
  };
}

class Counter {
  readonly m = new Map<string, number>();
  add(k: string): void {
    this.m.set(k, (this.m.get(k) ?? 0) + 1);
  }
  top(filter: (k: string) => boolean = () => true): [string, number] {
    let best: [string, number] = ['', -1];
    for (const e of this.m) if (filter(e[0]) && e[1] > best[1]) best = e;
    return best;
  }
}

export async function loadBoth(opts: {
  rows: number;
  seed: number;
  now: Date;
  pg: pg.Client;
  store: ClickHouseStore;
  log: (line: string) => void;
}): Promise<BenchData> {
  const demo: DemoOptions = { rows: opts.rows, seed: opts.seed, now: opts.now, days: 90, source: SOURCE };
  const world = demoWorld(demo);
  const { last30, last90 } = windows(opts.now);
  const t0 = performance.now();
  const ids = await loadWorld(opts.pg, world, KIND_MIX.map(([k]) => k), opts.now);
  await upsertAccounts(opts.store, SOURCE, world.accounts);

  const start30 = naiveUtc(last30.start);
  const end30 = naiveUtc(last30.end);
  const start90 = naiveUtc(last90.start);
  const nsCount = new Counter();
  const repoCount = new Counter();
  const perfCount = new Counter();
  const dayCount = new Counter();
  let rowsIn30 = 0;
  let rowsIn90 = 0;
  const count = (rows: UsageLogRow[]) => {
    for (const r of rows) {
      dayCount.add(r.datetime.slice(0, 10));
      // Fixed-width text compares in time order.
      if (r.datetime >= start90 && r.datetime < end30) rowsIn90++;
      if (r.datetime < start30 || r.datetime >= end30) continue;
      rowsIn30++;
      if (r.namespace === '') continue;
      nsCount.add(r.namespace);
      if (r.repository !== '') repoCount.add(`${r.namespace}\u0000${r.repository}`);
      if (r.performer !== '') perfCount.add(`${r.namespace}\u0000${r.performer}`);
    }
  };

  // One generator pass feeds both stores concurrently: COPY into PostgreSQL from this
  // loop, and a bounded queue drained by the ClickHouse streaming insert.
  const copy = openCopy(opts.pg, 'logentry3', LOGENTRY3_COLUMNS);
  const queue = new Channel<string>(8);
  const chInsert = opts.store.insertStream({ table: 'usage_logs', source: queue.drain(), batchBytes: 32 * 1024 * 1024 });
  // Surface an insert failure at once instead of after the generator finished.
  let chFailed: unknown = null;
  chInsert.catch((err: unknown) => {
    chFailed = err;
    queue.abort();
  });
  let nextId = 1;
  let lastLog = performance.now();
  try {
    for (const batch of demoRows(demo, 20_000)) {
      if (chFailed) break;
      count(batch);
      let text = '';
      for (const row of batch) text += JSON.stringify(row) + '\n';
      await queue.push(text);
      await writeWithBackpressure(copy, logentry3Copy(batch, nextId, ids));
      nextId += batch.length;
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        opts.log(`  loaded ${(nextId - 1).toLocaleString('en-US')} / ${opts.rows.toLocaleString('en-US')} rows`);
      }
    }
  } catch (err) {
    // Stop the ClickHouse side too, and let its in-flight insert finish before unwinding.
    queue.abort();
    queue.close();
    await chInsert.catch(() => undefined);
    throw err;
  }
  queue.close();
  const [res] = await Promise.all([chInsert, endCopy(copy)]);
  if (chFailed) throw chFailed;
  if (res.rows !== opts.rows || nextId - 1 !== opts.rows) {
    throw new Error(`load mismatch: ${opts.rows} generated, ${res.rows} to ClickHouse, ${nextId - 1} to PostgreSQL`);
  }
  const loadSeconds = (performance.now() - t0) / 1000;
  opts.log(`  both sides loaded in ${loadSeconds.toFixed(1)} s; VACUUM ANALYZE…`);
  const t1 = performance.now();
  await finishLoad(opts.pg, opts.rows);
  const vacuumSeconds = (performance.now() - t1) / 1000;

  const [topNs, topRows] = nsCount.top();
  if (topRows < 0) throw new Error('no namespaced entries in the 30-day window');
  const goal = rowsIn30 * 0.01;
  let mid: [string, number] = ['', -1];
  for (const e of nsCount.m) if (mid[1] < 0 || Math.abs(e[1] - goal) < Math.abs(mid[1] - goal)) mid = e;
  const prefix = `${topNs}\u0000`;
  const [repoKey, repoRows] = repoCount.top((k) => k.startsWith(prefix));
  const [perfKey, perfRows] = perfCount.top((k) => k.startsWith(prefix));
  const subjects: Subjects = {
    top: { namespace: topNs, rows: topRows },
    mid: { namespace: mid[0], rows: mid[1] },
    repository: { namespace: topNs, name: repoKey.slice(prefix.length), rows: repoRows },
    performer: { namespace: topNs, name: perfKey.slice(prefix.length), rows: perfRows },
  };
  return { demo, world, ids, last30, last90, rowsIn30, rowsIn90, perDay: dayCount.m, subjects, load: { seconds: loadSeconds, vacuumSeconds } };
}

/** A bounded single-producer, single-consumer queue. */
class Channel<T> {
  private items: T[] = [];
  private closed = false;
  private aborted = false;
  private wakeConsumer: (() => void) | null = null;
  private wakeProducer: (() => void) | null = null;

  constructor(private readonly capacity: number) {}

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.aborted) {
      await new Promise<void>((r) => (this.wakeProducer = r));
    }
    if (this.aborted) return;
    this.items.push(item);
    this.wakeConsumer?.();
    this.wakeConsumer = null;
  }

  close(): void {
    this.closed = true;
    this.wakeConsumer?.();
    this.wakeConsumer = null;
  }

  abort(): void {
    this.aborted = true;
    this.items = [];
    this.wakeProducer?.();
    this.wakeProducer = null;
    this.wakeConsumer?.();
    this.wakeConsumer = null;
  }

  async *drain(): AsyncGenerator<T> {
    for (;;) {
      if (this.aborted) return;
      const item = this.items.shift();
      if (item !== undefined) {
        this.wakeProducer?.();
        this.wakeProducer = null;
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((r) => (this.wakeConsumer = r));
    }
  }
}
