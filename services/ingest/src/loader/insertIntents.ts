/**
 * Insert intents: the batch a loader is inserting (its token, its entries in order, which
 * of its rows were left out as already stored, and the shard leases it holds), written —
 * under those leases — before the insert, and removed in the transaction that
 * acknowledges it. Field = the loader's name in the hash INSERT_INTENTS_KEY.
 *
 * Why: ClickHouse commits an insert's part in usage_logs before the parts its materialized
 * views write into the rollups, and a loader may die (or stall and lose its shards) with
 * an insert in flight. Whoever next reads any of those entries first replays the intent
 * exactly — the same rows under the same token — so ClickHouse drops what usage_logs
 * already holds and writes only what the views are missing; an insert still in flight
 * from the old owner is dropped the same way. See docs/architecture.md "Exactly once".
 */
import { createHash } from 'node:crypto';
import { type ClickHouseStore, insertUsageLogs } from '@quaylogs/clickhouse';
import { INGEST_STREAM, LEASE_HELD_LUA, type Redis } from '@quaylogs/queue';
import { upsertAccountsOf } from './accounts.ts';
import { acknowledgeReplayed } from './acknowledge.ts';
import { batchRows, entryRef, type RawEntry, type StreamEntry, toEntry } from './streamEntries.ts';

export const INSERT_INTENTS_KEY = 'quaylogs:loader:intents';
/** Set while a migration backfills: no new intent (so no new insert) may start. */
export const WRITERS_QUIESCED_KEY = 'quaylogs:schema:quiesce-writers';

export interface InsertIntent {
  token: string;
  /** [stream, id] of every entry, in batch order. */
  entries: [string, string][];
  /** Indexes into the batch's rows left out because other batches had stored them. */
  excluded: number[];
  /** [lease key, value] of every shard lease the batch was read under. */
  leases: [string, string][];
}

/** sha256 of the batch's entry names: a retried batch carries the same token and ClickHouse drops it. */
export function dedupTokenFor(refs: readonly string[]): string {
  return createHash('sha256').update(`quaylogs-loader-v1\n${refs.join('\n')}`).digest('hex');
}

const WRITE_INTENT = `${LEASE_HELD_LUA}
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
for i = 3, #KEYS do if not lease_held(KEYS[i], ARGV[i]) then return 0 end end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/**
 * Records the intent if every lease is still held and no migration has quiesced writers.
 * Returns 'ok', 'lost' (a lease changed hands: the batch is no longer this loader's) or 'quiesced'.
 */
export async function writeIntent(redis: Redis, owner: string, intent: InsertIntent): Promise<'ok' | 'lost' | 'quiesced'> {
  const raw = JSON.stringify(intent);
  const keys = [INSERT_INTENTS_KEY, WRITERS_QUIESCED_KEY, ...intent.leases.map((l) => l[0])];
  const argv = [owner, raw, ...intent.leases.map((l) => l[1])];
  const res = Number(await redis.eval(WRITE_INTENT, keys.length, ...keys, ...argv));
  return res === 1 ? 'ok' : res === -1 ? 'quiesced' : 'lost';
}

const HDEL_IF_EQUALS = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0`;

/** Removes an intent only if it is still the given one. */
export async function dropIntent(redis: Redis, owner: string, raw: string): Promise<void> {
  await redis.eval(HDEL_IF_EQUALS, 1, INSERT_INTENTS_KEY, owner, raw);
}

/** Parses an intent; intents of earlier versions (one unsharded stream, no leases) are read as such. */
export function parseIntent(raw: string): InsertIntent | null {
  try {
    const v = JSON.parse(raw) as Partial<InsertIntent> & { ids?: string[] };
    if (typeof v.token !== 'string' || !Array.isArray(v.excluded)) return null;
    const entries = v.entries ?? v.ids?.map((id) => [INGEST_STREAM, id] as [string, string]);
    if (!entries) return null;
    return { token: v.token, entries, excluded: v.excluded, leases: v.leases ?? [] };
  } catch {
    return null;
  }
}

export interface ReplayOutcome {
  entries: number;
  rows: number;
}

/**
 * Replays one intent exactly (its entries read back from their streams, the same rows under
 * the same token), then acknowledges its entries and removes it, unless someone did first.
 * An entry already gone means the intent's batch was acknowledged: the intent is stale.
 */
export async function replayIntent(redis: Redis, store: ClickHouseStore, owner: string, raw: string): Promise<ReplayOutcome | null> {
  const intent = parseIntent(raw);
  if (!intent) {
    await dropIntent(redis, owner, raw);
    return null;
  }
  const tx = redis.pipeline();
  for (const [stream, id] of intent.entries) tx.xrange(stream, id, id);
  const read = ((await tx.exec()) ?? []).map(([err, r]) => (err ? [] : (r as RawEntry[])));
  if (read.some((r) => r.length === 0)) {
    await dropIntent(redis, owner, raw);
    return null;
  }
  const replayed = read.map((r, i) => toEntry(intent.entries[i]![0], r[0]!));
  if (replayed.some((e) => !e.batch)) throw new Error(`entries of an unfinished insert no longer parse (intent of ${owner})`);
  const { rows, total } = batchRows(replayed);
  const skip = new Set(intent.excluded);
  const same = rows.filter((_, i) => !skip.has(i));
  if (same.length) await insertUsageLogs(store, same, intent.token);
  await upsertAccountsOf(store, replayed);
  await acknowledgeReplayed(redis, owner, raw, replayed, rows);
  return { entries: replayed.length, rows: total };
}

/**
 * Replays every intent (of any loader, this one's from before a restart included) that
 * holds an entry of one of these streams, except `skip` (this loader's own batch in flight).
 * Called before any batch of those streams is checked against the store, so no
 * check-then-insert runs while another loader's insert on the same shards is unresolved.
 */
export async function replayIntentsTouching(
  redis: Redis,
  store: ClickHouseStore,
  streams: ReadonlySet<string>,
  log: (obj: object, msg: string) => void,
): Promise<ReplayOutcome> {
  const done: ReplayOutcome = { entries: 0, rows: 0 };
  const intents = await redis.hgetall(INSERT_INTENTS_KEY);
  for (const [owner, raw] of Object.entries(intents)) {
    const intent = parseIntent(raw);
    if (intent && !intent.entries.some(([s]) => streams.has(s))) continue;
    const out = await replayIntent(redis, store, owner, raw);
    if (!out) continue;
    done.entries += out.entries;
    done.rows += out.rows;
    log({ entries: out.entries, rows: out.rows, inserted: 0, duplicates: out.rows, replayedFrom: owner }, 'loader: batch stored');
  }
  return done;
}

/** Entry names of an intent, for matching against entries in hand. */
export const intentRefs = (intent: InsertIntent): Set<string> => new Set(intent.entries.map(([stream, id]) => entryRef({ stream, id })));

export type { StreamEntry };
