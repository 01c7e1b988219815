/**
 * The ingest stream: the one way into the store (docs/architecture.md "Data flow"). Every
 * source adapter (HEC receiver, poller, importers) appends entries here; the
 * loader is the only writer to ClickHouse.
 *
 * One stream entry = one batch of rows (an HEC body, a page of polled logs, an
 * import chunk). The entry is the unit of acknowledgement. Rows already carry
 * their event_key (docs/architecture.md "Event identity"), so replays are idempotent.
 *
 * The stream is sharded: a row goes to shard hash(source, namespace) mod INGEST_SHARDS,
 * so every row that could share an event_key with it lands in the same shard, and one
 * loader at a time owns a shard (docs/architecture.md "Exactly once"). A batch whose rows span shards
 * becomes one entry per shard, appended in one MULTI (all or none). `INGEST_STREAM`, the
 * unsharded stream of earlier versions, is still read: its entries are moved into the
 * shards (and a dead letter that no longer parses is replayed there).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { UsageLogRow } from '@quaylogs/core';
import type { Redis } from './redis.ts';

/** The unsharded intake of earlier versions; loaders move what it holds into the shards. */
export const INGEST_STREAM = 'quaylogs:ingest';
/** Number of ingest shards. Fixed: every process must map a (source, namespace) to the same shard. */
export const INGEST_SHARDS = 16;
export const INGEST_GROUP = 'loaders';
export const DEADLETTER_STREAM = 'quaylogs:ingest:deadletter';

/** What produced the batch (for lag and status per source). */
export const ingestOrigin = z.enum(['hec', 'poll', 'import', 'api']);
export type IngestOrigin = z.infer<typeof ingestOrigin>;

const rowSchema = z.object({
  source: z.string(),
  namespace: z.string(),
  repository: z.string(),
  kind: z.string(),
  performer: z.string(),
  ip: z.string(),
  datetime: z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/),
  metadata: z.string(),
  event_key: z.string().regex(/^\d{1,39}$/),
  request_url: z.string(),
  http_method: z.string(),
  user_agent: z.string(),
  request_id: z.string(),
  auth_type: z.string(),
  performer_kind: z.string(),
  x_forwarded_for: z.string(),
}) satisfies z.ZodType<UsageLogRow>;

export const ingestBatchSchema = z.object({
  v: z.literal(1),
  origin: ingestOrigin,
  /** The source (registry) name. */
  source: z.string().min(1),
  rows: z.array(rowSchema),
  /** Accounts learned with these rows (e-mails, org/robot kinds), optional. */
  accounts: z
    .array(z.object({ name: z.string(), kind: z.enum(['user', 'org', 'robot']), email: z.string().nullable() }))
    .optional(),
});
export type IngestBatch = z.infer<typeof ingestBatchSchema>;

/** The stream key of one shard. */
export function ingestShardKey(shard: number): string {
  return `quaylogs:ingest:s${shard}`;
}

/** Every stream a loader reads: the shards, then the unsharded intake. */
export function ingestStreamKeys(): string[] {
  return [...Array.from({ length: INGEST_SHARDS }, (_, s) => ingestShardKey(s)), INGEST_STREAM];
}

/** The shard of a (source, namespace): the same in every process and every version. */
export function shardOf(source: string, namespace: string): number {
  return createHash('sha256').update(`${source}\n${namespace}`).digest().readUInt32BE(0) % INGEST_SHARDS;
}

/** Splits a batch into one batch per shard its rows fall in (accounts travel with the first). */
export function splitByShard(batch: IngestBatch): [number, IngestBatch][] {
  const byShard = new Map<number, IngestBatch['rows']>();
  const memo = new Map<string, number>();
  for (const row of batch.rows) {
    const tenant = `${row.source}\n${row.namespace}`;
    let shard = memo.get(tenant);
    if (shard === undefined) memo.set(tenant, (shard = shardOf(row.source, row.namespace)));
    let rows = byShard.get(shard);
    if (!rows) byShard.set(shard, (rows = []));
    rows.push(row);
  }
  if (byShard.size === 0) byShard.set(shardOf(batch.source, ''), []);
  return [...byShard].map(([shard, rows], i) => {
    const part: IngestBatch = { ...batch, rows };
    if (i > 0) delete part.accounts;
    return [shard, part];
  });
}

/** Entries not yet stored, per ingest stream (in ingestStreamKeys() order). */
export async function ingestBacklogByStream(redis: Redis): Promise<number[]> {
  const tx = redis.pipeline();
  for (const key of ingestStreamKeys()) tx.xlen(key);
  return ((await tx.exec()) ?? []).map(([err, len]) => (err ? 0 : Number(len)));
}

/** Total entries not yet stored, over every ingest stream. */
export async function ingestBacklog(redis: Redis): Promise<number> {
  return (await ingestBacklogByStream(redis)).reduce((a, b) => a + b, 0);
}

/**
 * Appends one batch (one entry per shard its rows fall in, all in one MULTI) and resolves
 * once Redis has it all (the caller may then acknowledge its own client). Returns the
 * entry ids as `<stream>/<id>`.
 */
export async function appendIngestBatch(redis: Redis, batch: IngestBatch): Promise<string[]> {
  const parts = splitByShard(batch);
  const tx = redis.multi();
  for (const [shard, part] of parts) tx.xadd(ingestShardKey(shard), '*', 'b', JSON.stringify(part));
  const res = await tx.exec();
  const failed = res?.find(([err]) => err);
  if (!res || failed) throw failed?.[0] ?? new Error('XADD transaction was discarded');
  return res.map(([, id], i) => `${ingestShardKey(parts[i]![0])}/${String(id)}`);
}

/** Parses a stream entry's payload; throws a ZodError/SyntaxError for a poison entry. */
export function parseIngestBatch(payload: string): IngestBatch {
  return ingestBatchSchema.parse(JSON.parse(payload));
}
