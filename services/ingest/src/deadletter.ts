/**
 * The dead-letter stream: ingest entries the loader can never store (unparseable, or
 * refused by ClickHouse again and again while ClickHouse itself is healthy). Each dead
 * letter keeps the original payload and the reason, and can be replayed into the
 * ingest stream once the cause is fixed.
 */
import { appendIngestBatch, DEADLETTER_STREAM, INGEST_STREAM, parseIngestBatch, type Redis } from '@quaylogs/queue';

export interface DeadLetter {
  /** Id in the dead-letter stream (what `replayDeadLetters({ids})` takes). */
  id: string;
  /** The entry's id in the ingest stream when it was given up (`<stream>/<id>` for a shard). */
  originalId: string;
  reason: string;
  /** The loader (consumer) that gave it up. */
  consumer: string;
  /** When it was given up (ISO-8601). */
  at: string;
  /** The original payload (the entry's `b` field), verbatim. */
  payload: string;
}

function fieldMap(fields: string[] | null): Map<string, string> {
  const m = new Map<string, string>();
  if (!fields) return m;
  for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!, fields[i + 1]!);
  return m;
}

/**
 * Moves one ingest entry to the dead-letter stream and removes it from its stream,
 * atomically: the dead letter and the removal happen together or not at all.
 */
export async function deadLetter(
  redis: Redis,
  entry: { id: string; payload: string | null; stream?: string },
  reason: string,
  consumer: string,
): Promise<string> {
  const res = await redis
    .multi()
    .xadd(
      DEADLETTER_STREAM,
      '*',
      'original_id', entry.stream && entry.stream !== INGEST_STREAM ? `${entry.stream}/${entry.id}` : entry.id,
      'reason', reason.slice(0, 4000),
      'consumer', consumer,
      'at', new Date().toISOString(),
      'b', entry.payload ?? '',
    )
    .xdel(entry.stream ?? INGEST_STREAM, entry.id)
    .exec();
  const failed = res?.find(([err]) => err);
  if (!res || failed) throw failed?.[0] ?? new Error('dead-letter transaction was discarded');
  return String(res[0]![1]);
}

/** The oldest dead letters first, at most `limit` (default 100), after the id `after` when given. */
export async function listDeadLetters(
  redis: Redis,
  opts: { limit?: number; after?: string } = {},
): Promise<DeadLetter[]> {
  const start = opts.after ? `(${opts.after}` : '-';
  const entries = (await redis.xrange(DEADLETTER_STREAM, start, '+', 'COUNT', opts.limit ?? 100)) as [string, string[]][];
  return entries.map(([id, fields]) => {
    const f = fieldMap(fields);
    return {
      id,
      originalId: f.get('original_id') ?? '',
      reason: f.get('reason') ?? '',
      consumer: f.get('consumer') ?? '',
      at: f.get('at') ?? '',
      payload: f.get('b') ?? '',
    };
  });
}

/** How many dead letters wait. */
export async function countDeadLetters(redis: Redis): Promise<number> {
  return redis.xlen(DEADLETTER_STREAM);
}

/**
 * Appends dead letters back to the ingest stream (as new entries with their original
 * payload, in the shards its rows belong to; a payload that does not parse goes to the
 * unsharded intake, where the loader dead-letters it again) and removes them from the
 * dead-letter stream, each atomically. Without `ids`, every dead letter is replayed.
 * Returns the new entry names in order.
 */
export async function replayDeadLetters(
  redis: Redis,
  opts: { ids?: readonly string[] } = {},
): Promise<{ replayed: number; ingestIds: string[]; missing: string[] }> {
  const ingestIds: string[] = [];
  let replayed = 0;
  const missing: string[] = [];
  const replayOne = async (id: string, payload: string) => {
    replayed++;
    let batch;
    try {
      batch = parseIngestBatch(payload);
    } catch {
      batch = null;
    }
    if (batch) {
      // Appended first, then removed: a crash in between leaves a dead letter whose rows are
      // also queued again, and the loader drops their keys as already stored.
      ingestIds.push(...(await appendIngestBatch(redis, batch)));
      await redis.xdel(DEADLETTER_STREAM, id);
      return;
    }
    const res = await redis.multi().xadd(INGEST_STREAM, '*', 'b', payload).xdel(DEADLETTER_STREAM, id).exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw failed?.[0] ?? new Error('replay transaction was discarded');
    ingestIds.push(String(res[0]![1]));
  };
  if (opts.ids) {
    for (const id of opts.ids) {
      const [entry] = (await redis.xrange(DEADLETTER_STREAM, id, id)) as [string, string[]][];
      if (!entry) {
        missing.push(id);
        continue;
      }
      await replayOne(id, fieldMap(entry[1]).get('b') ?? '');
    }
  } else {
    for (;;) {
      const page = await listDeadLetters(redis, { limit: 500 });
      if (page.length === 0) break;
      for (const d of page) await replayOne(d.id, d.payload);
    }
  }
  return { replayed, ingestIds, missing };
}
