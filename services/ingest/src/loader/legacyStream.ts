/**
 * The unsharded intake (`quaylogs:ingest`, what earlier versions wrote and what a dead
 * letter that no longer parses is replayed into): its holder first finishes any insert
 * intent over it, then moves each entry into the shards (one MULTI per entry: the parts
 * are appended and the original removed together), and dead-letters what does not parse.
 */
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { INGEST_STREAM, ingestShardKey, type Redis, splitByShard } from '@quaylogs/queue';
import { deadLetter } from '../deadletter.ts';
import { replayIntentsTouching } from './insertIntents.ts';
import { type RawEntry, toEntry } from './streamEntries.ts';

/** Moves up to `count` entries; returns how many it handled and how many it dead-lettered. */
export async function moveLegacyEntries(
  redis: Redis,
  store: ClickHouseStore,
  name: string,
  log: (obj: object, msg: string) => void,
  count = 200,
): Promise<{ handled: number; deadLettered: number }> {
  const raw = (await redis.xrange(INGEST_STREAM, '-', '+', 'COUNT', count)) as RawEntry[];
  if (raw.length === 0) return { handled: 0, deadLettered: 0 };
  await replayIntentsTouching(redis, store, new Set([INGEST_STREAM]), log);
  let moved = 0;
  let deadLettered = 0;
  for (const r of raw) {
    const entry = toEntry(INGEST_STREAM, r);
    if (!entry.batch) {
      if ((await redis.xrange(INGEST_STREAM, entry.id, entry.id)).length === 0) continue;
      await deadLetter(redis, entry, entry.error ?? 'invalid entry', name);
      deadLettered++;
      log({ id: entry.id, reason: entry.error }, 'loader: entry dead-lettered');
      continue;
    }
    const tx = redis.multi();
    for (const [shard, part] of splitByShard(entry.batch)) tx.xadd(ingestShardKey(shard), '*', 'b', JSON.stringify(part));
    tx.xdel(INGEST_STREAM, entry.id);
    // WATCH-free: a replayed intent may have removed the entry meanwhile; then nothing moves.
    const exists = (await redis.xrange(INGEST_STREAM, entry.id, entry.id)).length > 0;
    if (!exists) {
      tx.discard();
      continue;
    }
    const res = await tx.exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw failed?.[0] ?? new Error('moving an unsharded entry was discarded');
    moved++;
  }
  if (moved) log({ entries: moved }, 'loader: unsharded entries moved into shards');
  return { handled: raw.length, deadLettered };
}
