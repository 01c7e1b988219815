/**
 * The loader: the one writer of `usage_logs`. Any number of loaders run at once (in one
 * process or on many hosts); each owns some of the ingest stream's shards (a Redis lease
 * per shard, see loader/shardOwnership.ts), reads their entries in order, batches them by
 * rows and time, and stores each batch exactly once (loader/storeBatch.ts): keys already
 * stored and in-batch duplicates dropped, an insert intent recorded under the shard
 * leases, a deterministic `insert_deduplication_token`, and an acknowledgement fenced by
 * the same leases that removes the entries from their streams. So a stream holds exactly
 * the entries not yet stored. Why this is exactly-once: docs/architecture.md "Exactly once".
 *
 * Files: loader/streamEntries.ts (entries and batches), loader/shardOwnership.ts (leases),
 * loader/storeBatch.ts (one batch, retries and bisection), loader/insertIntents.ts,
 * loader/acknowledge.ts, loader/accounts.ts, loader/insertErrors.ts (error classes),
 * loader/legacyStream.ts (the unsharded intake of earlier versions).
 */
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { INGEST_STREAM, ingestStreamKeys, LeaseLostError, type Redis } from '@quaylogs/queue';
import { deadLetter } from './deadletter.ts';
import { moveLegacyEntries } from './loader/legacyStream.ts';
import { leaseKeyOf, ShardOwnership } from './loader/shardOwnership.ts';
import { type BatchContext, type LoadStats, Stopped, storeWithRetry } from './loader/storeBatch.ts';
import { type StreamEntry, xreadEntries } from './loader/streamEntries.ts';

export { dedupTokenFor, INSERT_INTENTS_KEY, WRITERS_QUIESCED_KEY } from './loader/insertIntents.ts';
export { isTransientInsertError } from './loader/insertErrors.ts';
export { LOADER_MEMBERS_KEY, leaseKeyOf } from './loader/shardOwnership.ts';
export type { LoadStats } from './loader/storeBatch.ts';

export interface LoaderOptions {
  redis: Redis;
  store: ClickHouseStore;
  /** This loader's name: unique among running loaders (e.g. host name and pid). */
  consumer: string;
  /** Flush once a batch holds this many rows (default 50,000). */
  batchRows?: number;
  /** Flush a partial batch this long after its first entry arrived (default 250 ms). */
  batchMs?: number;
  /** Lifetime of a shard lease: a dead loader's shards are taken over after this long (default 15 s). */
  leaseMs?: number;
  /** Older name of `leaseMs`. */
  claimIdleMs?: number;
  /** Failures of one batch, ClickHouse being healthy, before it is split / dead-lettered (default 3). */
  maxAttempts?: number;
  /** First retry delay; doubles per failure up to 10 s (default 500 ms). */
  retryBaseMs?: number;
  log?: (obj: object, msg: string) => void;
  /** Called after each batch is stored and acknowledged (metrics). */
  onBatch?: (s: { entries: number; rows: number; inserted: number; duplicates: number; ms: number }) => void;
}

export interface Loader {
  /** Finishes the batch in hand (stores and acknowledges it), then stops reading and gives its shards back. */
  stop(): Promise<void>;
  /** Resolves once every entry now in the streams is stored (or dead-lettered) and acknowledged. */
  drain(): Promise<void>;
}

const MAX_READ_COUNT = 1000;
const IDLE_BLOCK_MS = 2000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class LoaderCore {
  stopping = false;
  private wake: (() => void) | null = null;
  /** Last entry id read per owned stream; absent: read from the start. */
  private cursors = new Map<string, string>();
  private rowsPerEntry = 0;
  /** Entries read beyond the last batch's row limit; they open the next batch. */
  private carry: StreamEntry[] = [];
  readonly ownership: ShardOwnership;
  readonly ctx: BatchContext;
  private readonly batchRows: number;
  private readonly batchMs: number;
  readonly leaseMs: number;
  readonly log: (obj: object, msg: string) => void;

  constructor(
    readonly o: LoaderOptions,
    private readonly reader: Redis,
  ) {
    this.batchRows = o.batchRows ?? 50_000;
    this.batchMs = o.batchMs ?? 250;
    this.leaseMs = o.leaseMs ?? o.claimIdleMs ?? 15_000;
    this.log = o.log ?? (() => undefined);
    this.ownership = new ShardOwnership(o.redis, o.consumer, this.leaseMs, this.log);
    this.ctx = {
      redis: o.redis,
      store: o.store,
      name: o.consumer,
      maxAttempts: o.maxAttempts ?? 3,
      retryBaseMs: o.retryBaseMs ?? 500,
      log: this.log,
      ...(o.onBatch ? { onBatch: o.onBatch } : {}),
      leaseOf: (stream) => this.ownership.valueOf(stream),
      leaseKeyOf,
      pause: (ms) => this.pause(ms),
      stopping: () => this.stopping,
    };
  }

  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    }).finally(() => {
      this.wake = null;
    });
  }

  /** After a failed cycle or a lost lease: forget what was read, re-read every owned stream from its start. */
  rewind(): void {
    this.cursors.clear();
    this.carry = [];
  }

  takeCarry(): StreamEntry[] {
    const c = this.carry.filter((e) => this.ownership.valueOf(e.stream));
    this.carry = [];
    return c;
  }

  private rowsOf(e: StreamEntry): number {
    return e.batch?.rows.length ?? 0;
  }

  private want(rows: number): number {
    if (this.rowsPerEntry === 0) return 16;
    return Math.max(1, Math.min(MAX_READ_COUNT, Math.ceil((this.batchRows - rows) / this.rowsPerEntry)));
  }

  /** Moves entries of the unsharded intake into the shards, if this loader holds it. */
  async moveLegacy(): Promise<number> {
    if (!this.ownership.valueOf(INGEST_STREAM)) return 0;
    return (await moveLegacyEntries(this.o.redis, this.o.store, this.o.consumer, this.log)).deadLettered;
  }

  /** Gathers one batch from the owned shards, oldest entries of each first. */
  async collect(block: boolean): Promise<StreamEntry[]> {
    const entries: StreamEntry[] = [];
    let rows = 0;
    let started = 0;
    const add = (got: StreamEntry[]) => {
      for (const e of got) {
        if (entries.length > 0 && rows + this.rowsOf(e) > this.batchRows) this.carry.push(e);
        else {
          entries.push(e);
          rows += this.rowsOf(e);
        }
      }
    };
    for (const stream of this.cursors.keys()) if (!this.ownership.valueOf(stream)) this.cursors.delete(stream);
    const carried = this.takeCarry();
    if (carried.length) {
      started = Date.now();
      add(carried);
    }
    while (rows < this.batchRows && this.carry.length === 0 && !this.stopping) {
      const elapsed = started ? Date.now() - started : 0;
      if (started && elapsed >= this.batchMs) break;
      const streams = [...this.ownership.owned.keys()].filter((s) => s !== INGEST_STREAM);
      if (streams.length === 0) {
        if (block) await this.pause(Math.min(IDLE_BLOCK_MS, this.leaseMs / 3));
        break;
      }
      const args: (string | number)[] = ['COUNT', this.want(rows)];
      const blocking = block && (entries.length === 0 || elapsed < this.batchMs);
      if (blocking) args.push('BLOCK', started ? Math.max(1, this.batchMs - elapsed) : Math.min(IDLE_BLOCK_MS, Math.floor(this.leaseMs / 3)));
      args.push('STREAMS', ...streams, ...streams.map((s) => this.cursors.get(s) ?? '0-0'));
      let got: StreamEntry[];
      try {
        const conn = blocking ? this.reader : this.o.redis;
        got = xreadEntries(await (conn.xread as (...a: (string | number)[]) => Promise<unknown>)(...args));
      } catch (err) {
        // stop() closes the reading connection; the entries in hand are still stored.
        if (this.stopping) break;
        throw err;
      }
      if (got.length === 0) break;
      for (const e of got) if (this.ownership.valueOf(e.stream)) this.cursors.set(e.stream, e.id);
      const mine = got.filter((e) => this.ownership.valueOf(e.stream));
      if (!started) started = Date.now();
      add(mine);
      const perEntry = Math.max(1, mine.reduce((n, e) => n + this.rowsOf(e), 0) / Math.max(1, mine.length));
      this.rowsPerEntry = this.rowsPerEntry === 0 ? perEntry : 0.7 * this.rowsPerEntry + 0.3 * perEntry;
      if (!block && got.length < this.want(rows)) break;
    }
    return entries;
  }

  /** Stores a batch and acknowledges it; dead-letters what can never be stored. */
  async process(entries: StreamEntry[]): Promise<LoadStats> {
    const stats: LoadStats = { entries: entries.length, rows: 0, inserted: 0, duplicates: 0, deadLettered: 0 };
    this.ownership.inHand = new Set([...entries, ...this.carry].map((e) => e.stream));
    try {
      for (const e of entries) {
        if (e.batch) continue;
        await deadLetter(this.o.redis, e, e.error ?? 'invalid entry', this.o.consumer);
        stats.deadLettered++;
        this.log({ id: e.id, stream: e.stream, reason: e.error }, 'loader: entry dead-lettered');
      }
      const good = entries.filter((e) => e.batch);
      if (good.length) await storeWithRetry(this.ctx, good, stats);
    } finally {
      this.ownership.inHand = new Set();
    }
    return stats;
  }
}

/**
 * One read-and-store cycle without blocking: takes the shards it can, stores up to one batch
 * of what they hold, and gives the shards back. `entries: 0` means nothing was waiting.
 */
export async function loadOnce(opts: LoaderOptions): Promise<LoadStats> {
  const core = new LoaderCore(opts, opts.redis);
  await core.ownership.start();
  try {
    const deadLettered = await core.moveLegacy();
    const stats = await core.process(await core.collect(false));
    return { ...stats, deadLettered: stats.deadLettered + deadLettered };
  } finally {
    await core.ownership.stop();
  }
}

/** Starts the loader loop; see the module comment for its guarantees. */
export function startLoader(opts: LoaderOptions): Loader {
  // Blocking reads get their own connection, without a command timeout shorter than the block.
  const reader = opts.redis.duplicate({ commandTimeout: undefined });
  // Its failures reach the loop as failed commands (logged, retried); the connection's own
  // error events would otherwise be ioredis' "Unhandled error event" while Redis is down.
  reader.on('error', () => undefined);
  const core = new LoaderCore(opts, reader);
  const log = core.log;
  let stopped = false;

  const loop = (async () => {
    let errors = 0;
    let started = false;
    while (!core.stopping) {
      try {
        if (!started) {
          await core.ownership.start();
          started = true;
        }
        await core.moveLegacy();
        const entries = await core.collect(true);
        if (entries.length) await core.process(entries);
        errors = 0;
      } catch (err) {
        if (err instanceof Stopped || core.stopping) break;
        core.rewind();
        if (err instanceof LeaseLostError) {
          log({ err: err.message }, 'loader: batch left to the shard\'s new owner');
          await core.ownership.tick();
          continue;
        }
        errors++;
        log({ err: String((err as Error).message ?? err), errors }, 'loader: cycle failed, retrying');
        await core.pause(Math.min(10_000, 200 * 2 ** Math.min(errors, 6)));
      }
    }
    // Entries read beyond the last batch are stored too; if that fails they stay in their
    // streams for whoever owns those shards next.
    const carried = core.takeCarry();
    if (carried.length) await core.process(carried).catch((err) => log({ err: String((err as Error).message ?? err) }, 'loader: final batch left in the stream'));
    await core.ownership.stop();
  })();

  return {
    async stop() {
      if (stopped) return loop;
      stopped = true;
      core.stop();
      // Interrupts a blocked read; a batch in hand is still stored and acknowledged.
      reader.disconnect();
      await loop;
    },
    async drain() {
      // The unsharded intake first: what it holds moves into the shards, behind their last entries.
      for (const key of [INGEST_STREAM, ...ingestStreamKeys().filter((k) => k !== INGEST_STREAM)]) {
        const [last] = (await opts.redis.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
        if (!last) continue;
        for (;;) {
          const left = await opts.redis.xrange(key, '-', last[0], 'COUNT', 1);
          if (left.length === 0) break;
          if (stopped) throw new Error('the loader was stopped before the stream drained');
          await sleep(20);
        }
      }
    },
  };
}
