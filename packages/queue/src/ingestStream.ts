/**
 * The ingest stream: the one way into the store (docs/architecture.md "Data flow"). Every
 * source adapter (HEC receiver, poller, importers) appends entries here; the
 * loader is the only writer to ClickHouse.
 *
 * One stream entry = one batch of rows (an HEC body, a page of polled logs, an
 * import chunk). The entry is the unit of acknowledgement. Rows already carry
 * their event_key (docs/architecture.md "Event identity"), so replays are idempotent.
 */
import { z } from 'zod';
import type { UsageLogRow } from '@quaylogs/core';
import type { Redis } from './redis.ts';

export const INGEST_STREAM = 'quaylogs:ingest';
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

/**
 * Appends one batch and resolves once Redis has it (the caller may then
 * acknowledge its own client). Returns the stream entry id.
 */
export async function appendIngestBatch(redis: Redis, batch: IngestBatch): Promise<string> {
  const id = await redis.xadd(INGEST_STREAM, '*', 'b', JSON.stringify(batch));
  if (!id) throw new Error('XADD returned no id');
  return id;
}

/** Parses a stream entry's payload; throws a ZodError/SyntaxError for a poison entry. */
export function parseIngestBatch(payload: string): IngestBatch {
  return ingestBatchSchema.parse(JSON.parse(payload));
}
