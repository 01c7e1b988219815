/**
 * Storing one batch: replay unresolved intents on its shards, drop keys already stored and
 * in-batch duplicates, record the intent (fenced), insert under a deterministic token,
 * upsert accounts, acknowledge (fenced). Plus the retry rules around it:
 * - ClickHouse unreachable or overloaded: wait and retry, blaming no entry;
 * - any other failure, ClickHouse healthy: after `maxAttempts` the batch is split in halves
 *   down to the one entry at fault, which is dead-lettered; the rest is stored;
 * - a shard lease lost (LeaseLostError): the batch is dropped unacknowledged; its entries
 *   stay in their streams for the shard's new owner.
 */
import { findStoredEventKeys, insertUsageLogs, type ClickHouseStore } from '@quaylogs/clickhouse';
import { LeaseLostError, type Redis } from '@quaylogs/queue';
import { deadLetter } from '../deadletter.ts';
import { upsertAccountsOf } from './accounts.ts';
import { acknowledgeOwned } from './acknowledge.ts';
import { dedupTokenFor, dropIntent, INSERT_INTENTS_KEY, type InsertIntent, parseIntent, replayIntentsTouching, writeIntent } from './insertIntents.ts';
import { isDataInsertError, isTransientInsertError } from './insertErrors.ts';
import { batchRows, entryRef, type StreamEntry } from './streamEntries.ts';

export interface LoadStats {
  entries: number;
  rows: number;
  inserted: number;
  duplicates: number;
  deadLettered: number;
}

export interface BatchContext {
  redis: Redis;
  store: ClickHouseStore;
  /** This loader's name (its intent's field, its dead letters' consumer). */
  name: string;
  maxAttempts: number;
  retryBaseMs: number;
  log: (obj: object, msg: string) => void;
  onBatch?: (s: { entries: number; rows: number; inserted: number; duplicates: number; ms: number }) => void;
  /** The lease value held for a stream now (undefined: not owned). */
  leaseOf(stream: string): string | undefined;
  leaseKeyOf(stream: string): string;
  /** Waits, returning early when the loader stops. */
  pause(ms: number): Promise<void>;
  stopping(): boolean;
}

export class Stopped extends Error {}

/** Stores a batch (parsed entries) and acknowledges it; dead-letters what can never be stored. */
export async function storeWithRetry(ctx: BatchContext, entries: StreamEntry[], stats: LoadStats): Promise<void> {
  let failures = 0;
  let outages = 0;
  for (;;) {
    try {
      await storeOnce(ctx, entries, stats);
      return;
    } catch (err) {
      if (err instanceof Stopped || err instanceof LeaseLostError) throw err;
      const reason = String((err as Error).message ?? err).split('\n')[0]!.slice(0, 2000);
      const healthy = await ctx.store.ping().catch(() => false);
      if (!healthy || isTransientInsertError(err)) {
        // Down or overloaded (too many parts, memory, timeouts…): the entries are not at fault.
        outages++;
        ctx.log({ err: reason, outages }, healthy ? 'loader: ClickHouse overloaded, retrying' : 'loader: ClickHouse unreachable, retrying');
        await ctx.pause(Math.min(10_000, ctx.retryBaseMs * 2 ** Math.min(outages, 5)));
        if (ctx.stopping()) throw new Stopped();
        continue;
      }
      failures++;
      // ClickHouse refused the rows as data: retrying the same rows cannot help, so
      // isolate the culprit at once rather than waiting out backoffs at every level.
      if (isDataInsertError(err)) failures = Math.max(failures, ctx.maxAttempts);
      ctx.log({ err: reason, failures, entries: entries.length }, 'loader: insert failed');
      if (failures < ctx.maxAttempts) {
        await ctx.pause(Math.min(10_000, ctx.retryBaseMs * 2 ** (failures - 1)));
        if (ctx.stopping()) throw new Stopped();
        continue;
      }
      if (entries.length === 1) {
        await deadLetter(ctx.redis, entries[0]!, `insert failed ${failures} times: ${reason}`, ctx.name);
        stats.deadLettered++;
        ctx.log({ id: entries[0]!.id, reason }, 'loader: entry dead-lettered');
        return;
      }
      // Isolate the entry at fault: each half is stored (and acknowledged) on its own. The
      // batch's intent goes first (rows ClickHouse refused as data were never written), or
      // each half would replay the whole batch again.
      const own = await ctx.redis.hget(INSERT_INTENTS_KEY, ctx.name);
      if (own && parseIntent(own)?.token === dedupTokenFor(entries.map(entryRef))) await dropIntent(ctx.redis, ctx.name, own);
      const mid = Math.ceil(entries.length / 2);
      await storeWithRetry(ctx, entries.slice(0, mid), stats);
      await storeWithRetry(ctx, entries.slice(mid), stats);
      return;
    }
  }
}

function leasesFor(ctx: BatchContext, entries: readonly StreamEntry[]): [string, string][] {
  const out: [string, string][] = [];
  for (const stream of new Set(entries.map((e) => e.stream))) {
    const value = ctx.leaseOf(stream);
    if (!value) throw new LeaseLostError(`no longer owns ${stream}`);
    out.push([ctx.leaseKeyOf(stream), value]);
  }
  return out;
}

/** One attempt: replay, drop stored keys and in-batch duplicates, intent, insert, accounts, acknowledge. */
async function storeOnce(ctx: BatchContext, all: StreamEntry[], stats: LoadStats): Promise<void> {
  const started = Date.now();
  const leases = leasesFor(ctx, all);
  // An insert another loader (or this one, before a restart) left unresolved on these shards
  // is finished first; its entries leave the streams, so they drop out of this batch.
  const streams = new Set(all.map((e) => e.stream));
  const replayed = await replayIntentsTouching(ctx.redis, ctx.store, streams, ctx.log);
  let entries = all;
  if (replayed.entries > 0) {
    stats.rows += replayed.rows;
    stats.duplicates += replayed.rows;
    ctx.onBatch?.({ entries: replayed.entries, rows: replayed.rows, inserted: 0, duplicates: replayed.rows, ms: 0 });
    const tx = ctx.redis.pipeline();
    for (const e of all) tx.xrange(e.stream, e.id, e.id);
    const still = ((await tx.exec()) ?? []).map(([err, r]) => !err && (r as unknown[]).length > 0);
    entries = all.filter((_, i) => still[i]);
    if (entries.length === 0) return;
  }
  const { rows, total } = batchRows(entries);
  const stored = rows.length ? await findStoredEventKeys(ctx.store, rows) : new Set<string>();
  const fresh = stored.size ? rows.filter((r) => !stored.has(r.event_key)) : rows;
  const token = dedupTokenFor(entries.map(entryRef));
  const excluded: number[] = [];
  if (stored.size) rows.forEach((r, i) => stored.has(r.event_key) && excluded.push(i));
  const intent: InsertIntent = { token, entries: entries.map((e) => [e.stream, e.id]), excluded, leases };
  for (;;) {
    const wrote = await writeIntent(ctx.redis, ctx.name, intent);
    if (wrote === 'ok') break;
    if (wrote === 'lost') throw new LeaseLostError('a shard lease changed hands before the insert');
    // A migration is backfilling from usage_logs: no insert may start until it is done.
    ctx.log({}, 'loader: writers quiesced by a migration, waiting');
    await ctx.pause(500);
    if (ctx.stopping()) throw new Stopped();
  }
  const raw = JSON.stringify(intent);
  if (fresh.length) await insertUsageLogs(ctx.store, fresh, token);
  await upsertAccountsOf(ctx.store, entries);
  stats.rows += total;
  stats.inserted += fresh.length;
  stats.duplicates += total - fresh.length;
  const ms = Date.now() - started;
  ctx.log({ entries: entries.length, rows: total, inserted: fresh.length, duplicates: total - fresh.length, ms }, 'loader: batch stored');
  // Acknowledge only now that ClickHouse holds the rows, and only while every shard lease is
  // still this loader's. Every row's namespace gets a fresh generation, not only the fresh
  // rows': rows found stored may come from an attempt that died before acknowledging.
  if (!(await acknowledgeOwned(ctx.redis, ctx.name, raw, leases, entries, rows))) {
    throw new LeaseLostError('a shard lease changed hands before the acknowledgement');
  }
  ctx.onBatch?.({ entries: entries.length, rows: total, inserted: fresh.length, duplicates: total - fresh.length, ms });
}
