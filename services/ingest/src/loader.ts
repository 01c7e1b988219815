/**
 * The loader: the one writer of `usage_logs` (docs/architecture.md "Data flow"). It reads the ingest
 * stream through the consumer group, batches entries by rows and time, drops event_keys
 * already stored (and duplicates within the batch), inserts with a deterministic
 * `insert_deduplication_token`, and acknowledges entries only after ClickHouse accepted
 * them. Acknowledged entries are deleted from the stream, so the stream holds exactly the
 * entries not yet stored.
 *
 * Failure rules:
 * - an entry that does not parse is dead-lettered at once (with the reason and payload);
 * - an insert failure while ClickHouse answers pings counts against the batch: after
 *   `maxAttempts` failures the batch is split in halves, down to the single entry that
 *   keeps failing, which is dead-lettered; the rest is stored;
 * - an insert failure while ClickHouse is unreachable counts against nothing: the loader
 *   retries with backoff until it comes back (never acknowledging meanwhile);
 * - entries delivered to a consumer that died are claimed after `claimIdleMs`; a loader
 *   restarted under the same consumer name first re-reads its own pending entries.
 */
import { createHash } from 'node:crypto';
import { findStoredEventKeys, insertUsageLogs, type ClickHouseStore, upsertAccounts } from '@quaylogs/clickhouse';
import { type AccountInfo, findInvalidText, type UsageLogRow } from '@quaylogs/core';
import { bumpLogGenerations, INGEST_GROUP, INGEST_STREAM, type IngestBatch, parseIngestBatch, type Redis } from '@quaylogs/queue';
import { deadLetter } from './deadletter.ts';

export interface LoaderOptions {
  redis: Redis;
  store: ClickHouseStore;
  /** This loader's consumer name in the group; keep it stable across restarts (e.g. the host name). */
  consumer: string;
  /** Flush once a batch holds this many rows (default 50,000). */
  batchRows?: number;
  /** Flush a partial batch this long after its first entry arrived (default 250 ms). */
  batchMs?: number;
  /** Claim entries pending this long at another (dead) consumer (default 30 s). */
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
  /** Finishes the batch in hand (stores and acknowledges it), then stops reading. */
  stop(): Promise<void>;
  /** Resolves once every entry now in the stream is stored (or dead-lettered) and acknowledged. */
  drain(): Promise<void>;
}

export interface LoadStats {
  entries: number;
  rows: number;
  inserted: number;
  duplicates: number;
  deadLettered: number;
}

interface StreamEntry {
  id: string;
  /** The `b` field; null when the entry has none or was deleted. */
  payload: string | null;
  /** true: the entry no longer exists (deleted after delivery); it is only acknowledged. */
  gone: boolean;
  batch?: IngestBatch;
  error?: string;
}

type RawEntry = [string, string[] | null];

const MAX_KEY = (1n << 128n) - 1n;
const MAX_READ_COUNT = 1000;
const IDLE_BLOCK_MS = 2000;

class Stopped extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Creates the consumer group (and the stream) if missing. */
export async function ensureIngestGroup(redis: Redis): Promise<void> {
  try {
    await redis.xgroup('CREATE', INGEST_STREAM, INGEST_GROUP, '0', 'MKSTREAM');
  } catch (err) {
    if (!/BUSYGROUP/.test(String((err as Error).message))) throw err;
  }
}

function toEntry([id, fields]: RawEntry): StreamEntry {
  if (fields === null) return { id, payload: null, gone: true };
  let payload: string | null = null;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'b') payload = fields[i + 1]!;
  const entry: StreamEntry = { id, payload, gone: false };
  if (payload === null) {
    entry.error = 'entry has no "b" field';
    return entry;
  }
  try {
    const batch = parseIngestBatch(payload);
    const bad = batch.rows.find((r) => BigInt(r.event_key) > MAX_KEY);
    // Text ClickHouse cannot take (a lone surrogate) is known now: dead-letter it at once
    // instead of learning it from retried, bisected inserts that hold everything behind it.
    const badText = findInvalidText(batch.rows, 'rows');
    if (bad) entry.error = `event_key ${bad.event_key} is larger than UInt128`;
    else if (badText) entry.error = `${badText} is not valid Unicode`;
    else entry.batch = batch;
  } catch (err) {
    entry.error = `unparseable entry: ${String((err as Error).message).slice(0, 1000)}`;
  }
  return entry;
}

function readReply(reply: unknown): StreamEntry[] {
  const streams = reply as [string, RawEntry[]][] | null;
  return streams?.[0]?.[1].map(toEntry) ?? [];
}

/** sha256 of the batch's stream ids: a retried batch carries the same token and ClickHouse drops it. */
export function dedupTokenFor(ids: readonly string[]): string {
  return createHash('sha256').update(`quaylogs-loader-v1\n${ids.join('\n')}`).digest('hex');
}

/**
 * Insert intents, one per consumer: the batch a loader is inserting (its token, its entry ids
 * in order, and which of its rows were left out as stored by other batches), written before
 * the insert and removed in the transaction that acknowledges it.
 *
 * Why: ClickHouse commits an insert's part in usage_logs before the parts its materialized
 * views write into the rollups. A loader killed in between leaves entries in usage_logs that
 * no rollup counted; re-reading them, it would find them stored and skip them, and the
 * rollups would stay short for good. Instead, a batch that overlaps an intent replays that
 * intent exactly — the same rows under the same token — so ClickHouse drops the block
 * usage_logs already holds and writes only what the views are missing.
 */
export const INSERT_INTENTS_KEY = 'quaylogs:loader:intents';

interface InsertIntent {
  token: string;
  ids: string[];
  /** Indexes into the batch's rows left out because other batches had stored them. */
  excluded: number[];
}

/** Deletes a hash field only if it still holds the given value (another batch's intent stays). */
const HDEL_IF_EQUALS = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0`;

/** The batch's rows in entry order, each event_key once (the first occurrence wins). */
function batchRows(entries: readonly StreamEntry[]): { rows: UsageLogRow[]; total: number } {
  const seen = new Set<string>();
  const rows: UsageLogRow[] = [];
  let total = 0;
  for (const e of entries) {
    for (const r of e.batch!.rows) {
      total++;
      if (seen.has(r.event_key)) continue;
      seen.add(r.event_key);
      rows.push(r);
    }
  }
  return { rows, total };
}

class LoaderCore {
  stopping = false;
  private wake: (() => void) | null = null;
  private pelCursor: string | null = '0';
  private claimCursor = '0-0';
  private lastClaimPass = 0;
  /** Running estimate of rows per entry (0 = unknown yet: read a few entries to learn it). */
  private rowsPerEntry = 0;
  /** Entries read beyond the last batch's row limit; they open the next batch. */
  private carry: StreamEntry[] = [];
  private readonly batchRows: number;
  private readonly batchMs: number;
  private readonly claimIdleMs: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly log: (obj: object, msg: string) => void;

  constructor(
    readonly o: LoaderOptions,
    private readonly reader: Redis,
  ) {
    this.batchRows = o.batchRows ?? 50_000;
    this.batchMs = o.batchMs ?? 250;
    this.claimIdleMs = o.claimIdleMs ?? 30_000;
    this.maxAttempts = o.maxAttempts ?? 3;
    this.retryBaseMs = o.retryBaseMs ?? 500;
    this.log = o.log ?? (() => undefined);
  }

  /** Begins stopping: wakes a retry that is waiting out its backoff. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  /** Waits `ms`, or less if stop() is called meanwhile. */
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

  /** After a failed cycle: re-read this consumer's own pending entries first. */
  rewind(): void {
    this.pelCursor = '0';
  }

  private rowsOf(e: StreamEntry): number {
    return e.batch?.rows.length ?? 0;
  }

  private want(rows: number): number {
    if (this.rowsPerEntry === 0) return 16;
    return Math.max(1, Math.min(MAX_READ_COUNT, Math.ceil((this.batchRows - rows) / this.rowsPerEntry)));
  }

  /** Entries read but not yet stored (handed back by stop()). */
  takeCarry(): StreamEntry[] {
    const c = this.carry;
    this.carry = [];
    return c;
  }

  /** Gathers one batch: own pending entries first, then claimable ones, then new ones. */
  async collect(block: boolean): Promise<StreamEntry[]> {
    const { redis, consumer } = this.o;
    const entries: StreamEntry[] = [];
    let rows = 0;
    let started = 0;
    const add = (got: StreamEntry[]) => {
      for (const e of got) {
        // A batch never exceeds batchRows, unless one entry alone does.
        if (entries.length > 0 && rows + this.rowsOf(e) > this.batchRows) this.carry.push(e);
        else {
          entries.push(e);
          rows += this.rowsOf(e);
        }
      }
    };
    if (this.carry.length) {
      started = Date.now();
      add(this.takeCarry());
    }
    while (rows < this.batchRows && this.carry.length === 0 && !this.stopping) {
      if (started && Date.now() - started >= this.batchMs) break;
      let got: StreamEntry[];
      if (this.pelCursor !== null) {
        // Entries delivered to this consumer before a restart, oldest first.
        got = readReply(
          await redis.xreadgroup('GROUP', INGEST_GROUP, consumer, 'COUNT', this.want(rows), 'STREAMS', INGEST_STREAM, this.pelCursor),
        );
        if (got.length === 0) {
          this.pelCursor = null;
          continue;
        }
        this.pelCursor = got[got.length - 1]!.id;
      } else if (Date.now() - this.lastClaimPass >= Math.max(100, this.claimIdleMs / 2)) {
        // Entries a dead consumer left pending for longer than claimIdleMs.
        const [next, claimed] = (await redis.xautoclaim(
          INGEST_STREAM, INGEST_GROUP, consumer, this.claimIdleMs, this.claimCursor, 'COUNT', this.want(rows),
        )) as [string, RawEntry[]];
        this.claimCursor = next;
        if (next === '0-0') this.lastClaimPass = Date.now();
        got = claimed.map(toEntry);
        if (got.length) this.log({ consumer, entries: got.length }, 'loader: claimed pending entries of another consumer');
      } else {
        const args: (string | number)[] = ['GROUP', INGEST_GROUP, consumer, 'COUNT', this.want(rows)];
        if (block) args.push('BLOCK', started ? Math.max(1, this.batchMs - (Date.now() - started)) : Math.min(IDLE_BLOCK_MS, this.claimIdleMs));
        args.push('STREAMS', INGEST_STREAM, '>');
        try {
          got = readReply(await (this.reader.xreadgroup as (...a: (string | number)[]) => Promise<unknown>)(...args));
        } catch (err) {
          // stop() closes the reading connection; the entries in hand are still stored.
          if (this.stopping) break;
          throw err;
        }
        if (got.length === 0 && (entries.length > 0 || !block)) break;
      }
      if (got.length === 0) continue;
      if (!started) started = Date.now();
      add(got);
      const perEntry = Math.max(1, got.reduce((n, e) => n + this.rowsOf(e), 0) / got.length);
      this.rowsPerEntry = this.rowsPerEntry === 0 ? perEntry : 0.7 * this.rowsPerEntry + 0.3 * perEntry;
    }
    return entries;
  }

  /** Stores a batch and acknowledges it; dead-letters what can never be stored. */
  async process(entries: StreamEntry[]): Promise<LoadStats> {
    const stats: LoadStats = { entries: entries.length, rows: 0, inserted: 0, duplicates: 0, deadLettered: 0 };
    const { redis, consumer } = this.o;
    const gone = entries.filter((e) => e.gone).map((e) => e.id);
    if (gone.length) await redis.xack(INGEST_STREAM, INGEST_GROUP, ...gone);
    for (const e of entries) {
      if (e.gone || e.batch) continue;
      await deadLetter(redis, e, e.error ?? 'invalid entry', consumer);
      stats.deadLettered++;
      this.log({ id: e.id, reason: e.error }, 'loader: entry dead-lettered');
    }
    const good = entries.filter((e) => e.batch);
    if (good.length === 0) return stats;
    const heartbeat = setInterval(() => {
      // Keeps the entries in hand from looking idle (and being claimed) during a long insert
      // or an outage; only those this consumer still owns, never taking any back.
      const ids = [...good, ...this.carry].map((e) => e.id);
      void this.owned(ids)
        .then((mine) => (mine.size ? redis.xclaim(INGEST_STREAM, INGEST_GROUP, consumer, 0, ...mine, 'JUSTID') : null))
        .catch(() => undefined);
    }, Math.max(50, Math.floor(this.claimIdleMs / 3)));
    try {
      await this.storeWithRetry(good, stats);
    } finally {
      clearInterval(heartbeat);
    }
    return stats;
  }

  private async storeWithRetry(entries: StreamEntry[], stats: LoadStats): Promise<void> {
    let failures = 0;
    let outages = 0;
    for (;;) {
      try {
        await this.store(entries, stats);
        return;
      } catch (err) {
        if (err instanceof Stopped) throw err;
        const reason = String((err as Error).message ?? err).split('\n')[0]!.slice(0, 2000);
        const healthy = await this.o.store.ping().catch(() => false);
        if (!healthy || isTransientInsertError(err)) {
          // ClickHouse is down or overloaded (too many parts, memory, timeouts…): wait for it; the
          // entries stay pending and are not at fault, so they are never dead-lettered for this.
          outages++;
          this.log({ err: reason, outages }, healthy ? 'loader: ClickHouse overloaded, retrying' : 'loader: ClickHouse unreachable, retrying');
          await this.pause(Math.min(10_000, this.retryBaseMs * 2 ** Math.min(outages, 5)));
          if (this.stopping) throw new Stopped();
          continue;
        }
        failures++;
        // ClickHouse refused the rows as data: retrying the same rows cannot help, so
        // isolate the culprit at once rather than waiting out backoffs at every level.
        if (isDataInsertError(err)) failures = Math.max(failures, this.maxAttempts);
        this.log({ err: reason, failures, entries: entries.length }, 'loader: insert failed');
        if (failures < this.maxAttempts) {
          await this.pause(Math.min(10_000, this.retryBaseMs * 2 ** (failures - 1)));
          if (this.stopping) throw new Stopped();
          continue;
        }
        if (entries.length === 1) {
          await deadLetter(this.o.redis, entries[0]!, `insert failed ${failures} times: ${reason}`, this.o.consumer);
          stats.deadLettered++;
          this.log({ id: entries[0]!.id, reason }, 'loader: entry dead-lettered');
          return;
        }
        // Isolate the entry at fault: each half is stored (and acknowledged) on its own. The
        // batch's intent goes first (rows ClickHouse refused as data were never written), or
        // each half would replay the whole batch again.
        const own = await this.o.redis.hget(INSERT_INTENTS_KEY, this.o.consumer);
        if (own && (JSON.parse(own) as InsertIntent).token === dedupTokenFor(entries.map((e) => e.id))) {
          await this.o.redis.eval(HDEL_IF_EQUALS, 1, INSERT_INTENTS_KEY, this.o.consumer, own);
        }
        const mid = Math.ceil(entries.length / 2);
        await this.storeWithRetry(entries.slice(0, mid), stats);
        await this.storeWithRetry(entries.slice(mid), stats);
        return;
      }
    }
  }

  /** Which of these entries are pending at this consumer (not claimed by another one meanwhile). */
  private async owned(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const key = (id: string) => id.split('-').map(BigInt) as [bigint, bigint];
    const sorted = [...ids].sort((a, b) => {
      const [am, as] = key(a);
      const [bm, bs] = key(b);
      return am < bm ? -1 : am > bm ? 1 : as < bs ? -1 : as > bs ? 1 : 0;
    });
    const pending = (await this.o.redis.xpending(
      INGEST_STREAM, INGEST_GROUP, sorted[0]!, sorted.at(-1)!, ids.length + this.carry.length + 1_000, this.o.consumer,
    )) as [string, string, number, number][];
    const wanted = new Set(ids);
    return new Set(pending.map((p) => p[0]).filter((id) => wanted.has(id)));
  }

  /** One attempt: drop stored keys and in-batch duplicates, insert, upsert accounts, acknowledge. */
  private async store(all: StreamEntry[], stats: LoadStats): Promise<void> {
    const started = Date.now();
    // Entries another loader claimed meanwhile (this one stalled past claimIdleMs) are its to store.
    const mine = await this.owned(all.map((e) => e.id));
    const owned = all.filter((e) => mine.has(e.id));
    if (owned.length < all.length) {
      this.log({ entries: all.length - owned.length }, 'loader: entries taken over by another consumer, skipped');
      if (owned.length === 0) return;
    }
    // What an interrupted insert left unfinished goes first; the rest forms this batch.
    const entries = await this.replayIntents(owned, stats);
    if (entries.length === 0) return;
    const { rows, total } = batchRows(entries);
    const stored = rows.length ? await findStoredEventKeys(this.o.store, rows) : new Set<string>();
    const fresh = stored.size ? rows.filter((r) => !stored.has(r.event_key)) : rows;
    const ids = entries.map((e) => e.id);
    const token = dedupTokenFor(ids);
    const excluded: number[] = [];
    if (stored.size) rows.forEach((r, i) => stored.has(r.event_key) && excluded.push(i));
    const intent = JSON.stringify({ token, ids, excluded } satisfies InsertIntent);
    await this.o.redis.hset(INSERT_INTENTS_KEY, this.o.consumer, intent);
    if (fresh.length) await insertUsageLogs(this.o.store, fresh, token);
    await this.upsertAccountsOf(entries);
    stats.rows += total;
    stats.inserted += fresh.length;
    stats.duplicates += total - fresh.length;
    this.log(
      { entries: entries.length, rows: total, inserted: fresh.length, duplicates: total - fresh.length, ms: Date.now() - started },
      'loader: batch stored',
    );
    // Acknowledge only now that ClickHouse holds the rows; stored entries leave the stream.
    // The same transaction tells cached /logs pages of the namespaces touched that they changed:
    // every row's namespace, not only the fresh ones, since rows found already stored may come
    // from an attempt that inserted them and died before reaching this point.
    await this.acknowledge(ids, rows, this.o.consumer, intent);
    this.o.onBatch?.({ entries: entries.length, rows: total, inserted: fresh.length, duplicates: total - fresh.length, ms: Date.now() - started });
  }

  /** Acknowledges and deletes stored entries, retires their intent, and tells page caches. */
  private async acknowledge(ids: string[], rows: UsageLogRow[], intentOwner: string, intent: string): Promise<void> {
    const tx = this.o.redis.multi().xack(INGEST_STREAM, INGEST_GROUP, ...ids).xdel(INGEST_STREAM, ...ids);
    tx.eval(HDEL_IF_EQUALS, 1, INSERT_INTENTS_KEY, intentOwner, intent);
    if (rows.length) bumpLogGenerations(tx, rows.map((r) => r.namespace));
    const res = await tx.exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw failed?.[0] ?? new Error('acknowledgement transaction was discarded');
  }

  /**
   * Replays every insert intent that shares an entry with this batch (see INSERT_INTENTS_KEY):
   * its entries, read back from the stream, as the very same rows under the very same token.
   * Returns the batch's entries no intent covered.
   */
  private async replayIntents(entries: StreamEntry[], stats: LoadStats): Promise<StreamEntry[]> {
    const intents = await this.o.redis.hgetall(INSERT_INTENTS_KEY);
    let left = entries;
    for (const [owner, raw] of Object.entries(intents)) {
      let intent: InsertIntent;
      try {
        intent = JSON.parse(raw) as InsertIntent;
      } catch {
        await this.o.redis.eval(HDEL_IF_EQUALS, 1, INSERT_INTENTS_KEY, owner, raw);
        continue;
      }
      const covered = new Set(intent.ids);
      if (!left.some((e) => covered.has(e.id))) continue;
      const read = await Promise.all(intent.ids.map((id) => this.o.redis.xrange(INGEST_STREAM, id, id) as Promise<RawEntry[]>));
      // Entries leave the stream only with their batch's acknowledgement: one missing means the
      // intent's batch was stored in full and acknowledged; the intent is stale.
      if (read.some((r) => r.length === 0)) {
        await this.o.redis.eval(HDEL_IF_EQUALS, 1, INSERT_INTENTS_KEY, owner, raw);
        continue;
      }
      const replayed = read.map((r) => toEntry(r[0]!));
      if (replayed.some((e) => !e.batch)) throw new Error(`entries of an unfinished insert no longer parse (intent of ${owner})`);
      const { rows, total } = batchRows(replayed);
      const skip = new Set(intent.excluded);
      const same = rows.filter((_, i) => !skip.has(i));
      if (same.length) await insertUsageLogs(this.o.store, same, intent.token);
      await this.upsertAccountsOf(replayed);
      await this.acknowledge(intent.ids, rows, owner, raw);
      stats.rows += total;
      stats.duplicates += total;
      this.log({ entries: replayed.length, rows: total, inserted: 0, duplicates: total, replayedFrom: owner }, 'loader: batch stored');
      this.o.onBatch?.({ entries: replayed.length, rows: total, inserted: 0, duplicates: total, ms: 0 });
      left = left.filter((e) => !covered.has(e.id));
    }
    return left;
  }

  private async upsertAccountsOf(entries: readonly StreamEntry[]): Promise<void> {
    const accounts = new Map<string, Map<string, AccountInfo>>();
    for (const e of entries) {
      for (const a of e.batch!.accounts ?? []) {
        let bySource = accounts.get(e.batch!.source);
        if (!bySource) accounts.set(e.batch!.source, (bySource = new Map()));
        bySource.set(a.name, a);
      }
    }
    for (const [source, list] of accounts) await upsertAccounts(this.o.store, source, [...list.values()]);
  }
}

/**
 * One read-and-store cycle without blocking (own pending entries, claimable entries, then
 * new ones, up to one batch). Returns what it did; `entries: 0` means nothing was waiting.
 */
export async function loadOnce(opts: LoaderOptions): Promise<LoadStats> {
  await ensureIngestGroup(opts.redis);
  const core = new LoaderCore(opts, opts.redis);
  return core.process(await core.collect(false));
}

const TRANSIENT_TYPES =
  /TOO_MANY|MEMORY_LIMIT|CANNOT_ALLOCATE|TIMEOUT|TIMED_OUT|SOCKET|NETWORK|READONLY|READ_ONLY|NOT_ENOUGH_SPACE|ABORTED|CANCELLED|KEEPER|CONNECTION|UNAVAILABLE|LIMIT_EXCEEDED|NO_FREE_CONNECTION|SHUTDOWN/;

/**
 * Whether an insert error says ClickHouse could not take the rows now (overload, resources,
 * timeouts), rather than that the rows are bad. Such errors must never dead-letter an entry:
 * right after a bulk load, for instance, ClickHouse refuses inserts with TOO_MANY_PARTS until
 * its merges catch up, while it still answers pings.
 */
export function isTransientInsertError(err: unknown): boolean {
  const type = String((err as { type?: unknown })?.type ?? '');
  if (type && TRANSIENT_TYPES.test(type)) return true;
  const text = String((err as { message?: unknown })?.message ?? err);
  return /\((TOO_MANY_PARTS|MEMORY_LIMIT_EXCEEDED|TIMEOUT_EXCEEDED|TOO_MANY_SIMULTANEOUS_QUERIES|NOT_ENOUGH_SPACE|SOCKET_TIMEOUT)\)/.test(text) || /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE/.test(text);
}

/** Whether an insert error says the rows themselves are bad (unparseable or out of range). */
const DATA_ERRORS = 'CANNOT_PARSE_[A-Z_]+|INCORRECT_DATA|TYPE_MISMATCH|VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE|ARGUMENT_OUT_OF_BOUND|DECIMAL_OVERFLOW|CANNOT_READ_ALL_DATA|INCORRECT_NUMBER_OF_COLUMNS';

export function isDataInsertError(err: unknown): boolean {
  // The client puts the error name in `type`; other paths only have it in the text.
  const type = String((err as { type?: unknown })?.type ?? '');
  if (type && new RegExp(`^(${DATA_ERRORS})$`).test(type)) return true;
  const text = String((err as { message?: unknown })?.message ?? err);
  return new RegExp(`\\((${DATA_ERRORS})\\)|surrogate pair`).test(text);
}

/** Starts the loader loop; see the module comment for its guarantees. */
export function startLoader(opts: LoaderOptions): Loader {
  // Blocking reads get their own connection, without a command timeout shorter than the block.
  const reader = opts.redis.duplicate({ commandTimeout: undefined });
  // Its failures reach the loop as failed commands (logged, retried); the connection's own
  // error events would otherwise be ioredis' "Unhandled error event" while Redis is down.
  reader.on('error', () => undefined);
  const core = new LoaderCore(opts, reader);
  const log = opts.log ?? (() => undefined);
  let stopped = false;

  const loop = (async () => {
    let errors = 0;
    let groupReady = false;
    while (!core.stopping) {
      try {
        if (!groupReady) {
          await ensureIngestGroup(opts.redis);
          groupReady = true;
        }
        const entries = await core.collect(true);
        if (entries.length) await core.process(entries);
        errors = 0;
      } catch (err) {
        if (err instanceof Stopped || core.stopping) break;
        errors++;
        core.rewind();
        if (/NOGROUP/.test(String((err as Error).message))) groupReady = false;
        log({ err: String((err as Error).message ?? err), errors }, 'loader: cycle failed, retrying');
        await core.pause(Math.min(10_000, 200 * 2 ** Math.min(errors, 6)));
      }
    }
    // Entries read beyond the last batch are stored too; if that fails they stay pending
    // for this consumer and are re-read first at its next start.
    const carried = core.takeCarry();
    if (carried.length) await core.process(carried).catch((err) => log({ err: String((err as Error).message ?? err) }, 'loader: final batch left pending'));
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
      const [last] = (await opts.redis.xrevrange(INGEST_STREAM, '+', '-', 'COUNT', 1)) as [string, string[]][];
      if (!last) return;
      for (;;) {
        const left = await opts.redis.xrange(INGEST_STREAM, '-', last[0], 'COUNT', 1);
        if (left.length === 0) return;
        if (stopped) throw new Error('the loader was stopped before the stream drained');
        await sleep(20);
      }
    },
  };
}
