/**
 * Every BullMQ queue quaylogs uses: its name, job names, payload schemas and
 * default job options. Consumers parse payloads with these schemas when they
 * take a job, not only producers.
 */
import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const exportId = z.string().regex(UUID, 'export_id must be a UUID');
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 time');
const exportOutcome = z.enum(['success', 'failed', 'timedout', 'invalidrequest']);

/** What one export covers and where it goes: the `generate` job's payload. */
export const exportSpecSchema = z.object({
  export_id: exportId,
  namespace: z.string().min(1),
  repository: z.string().min(1).nullable(),
  /** Window start (inclusive) and end (exclusive), ISO-8601 UTC. */
  start: isoTime,
  end: isoTime,
  kinds: z.array(z.string().min(1)),
  /** Kinds never exported (Quay's service-level kinds on user exports, as /user/logs). */
  exclude_kinds: z.array(z.string().min(1)),
  performer: z.string().min(1).nullable(),
  format: z.enum(['json', 'ndjson', 'csv']),
  compress: z.enum(['gzip']).nullable(),
  callback_url: z.string().min(1).nullable(),
  callback_email: z.string().min(1).nullable(),
  requested_by: z.string(),
  schedule_id: z.string().min(1).nullable(),
});
export type ExportSpec = z.infer<typeof exportSpecSchema>;

/** A scheduler fire; `fire_at` (ms) overrides the job's own scheduled time. */
export const scheduledFireSchema = z.object({ schedule_id: z.string().min(1), fire_at: z.number().int().positive().optional() });
export type ScheduledFire = z.infer<typeof scheduledFireSchema>;

export const callbackDeliverySchema = z.object({
  export_id: exportId,
  url: z.string().min(1),
  /** The same on every attempt of this delivery. */
  webhook_id: z.string().min(1),
  /** The exact JSON body; every attempt sends these bytes. */
  body: z.string().min(2),
  reports: exportOutcome,
});
export type CallbackDelivery = z.infer<typeof callbackDeliverySchema>;

export const emailDeliverySchema = z.object({
  export_id: exportId,
  to: z.string().min(3),
  reports: exportOutcome,
  url: z.string().nullable(),
  file_id: z.string().nullable(),
  bytes: z.number().int().nonnegative(),
  format: z.enum(['json', 'ndjson', 'csv']),
  compress: z.enum(['gzip']).nullable(),
  attempts: z.number().int().nonnegative(),
});
export type EmailDelivery = z.infer<typeof emailDeliverySchema>;

export const QUEUES = {
  /** One job scheduler per polled Quay source. */
  poll: {
    name: 'poll-quay',
    jobs: { poll: 'poll' },
    payload: z.object({ source: z.string().min(1) }),
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 5_000 },
    } satisfies JobsOptions,
  },
  /**
   * Quay's exportlogs: one `generate` job per export (jobId = export_id), the fires of
   * scheduled exports (job schedulers `export-schedule-<id>`), and the file cleanup.
   * Attempts are generation attempts (Quay: 3); delivery retries live in their own queue.
   */
  exportlogs: {
    name: 'exportlogs',
    jobs: { generate: 'generate', scheduled: 'scheduled', cleanup: 'cleanup' },
    payload: {
      generate: exportSpecSchema,
      scheduled: scheduledFireSchema,
      cleanup: z.object({}),
    },
    options: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 10_000 },
      removeOnComplete: { count: 10_000 },
      removeOnFail: { count: 10_000 },
    } satisfies JobsOptions,
  },
  /**
   * Deliveries of finished exports, one job per channel (jobId `<export_id>-callback`,
   * `<export_id>-email`), retried apart from generation and from each other.
   */
  exportDeliveries: {
    name: 'export-deliveries',
    jobs: { callback: 'deliver-callback', email: 'deliver-email' },
    payload: {
      callback: callbackDeliverySchema,
      email: emailDeliverySchema,
    },
    options: {
      attempts: 8,
      backoff: { type: 'exponential', delay: 30_000 },
      removeOnComplete: { count: 10_000 },
      removeOnFail: { count: 10_000 },
    } satisfies JobsOptions,
  },
} as const;

/** The exportlogs queue for a producer (the API) or the exporter. */
export function openExportQueue(connection: Redis): Queue {
  return new Queue(QUEUES.exportlogs.name, { connection });
}

/** Submits an export's generation; a second submit of the same export_id is ignored by BullMQ. */
export async function submitExportJob(queue: Queue, spec: ExportSpec, options: Partial<JobsOptions> = {}): Promise<void> {
  const payload = exportSpecSchema.parse(spec);
  await queue.add(QUEUES.exportlogs.jobs.generate, payload, { ...QUEUES.exportlogs.options, ...options, jobId: payload.export_id });
}

/** The stable id of a scheduled export's job scheduler. */
export function exportSchedulerId(scheduleId: string): string {
  return `export-schedule-${scheduleId}`;
}

/** Creates or re-asserts a scheduled export's job scheduler (cron pattern, UTC). */
export async function upsertExportScheduler(queue: Queue, schedule: { schedule_id: string; pattern: string }): Promise<void> {
  await queue.upsertJobScheduler(
    exportSchedulerId(schedule.schedule_id),
    { pattern: schedule.pattern, tz: 'UTC' },
    {
      name: QUEUES.exportlogs.jobs.scheduled,
      data: { schedule_id: schedule.schedule_id } satisfies ScheduledFire,
      opts: {
        attempts: QUEUES.exportlogs.options.attempts,
        backoff: QUEUES.exportlogs.options.backoff,
        removeOnComplete: QUEUES.exportlogs.options.removeOnComplete,
        removeOnFail: QUEUES.exportlogs.options.removeOnFail,
      },
    },
  );
}

export async function removeExportScheduler(queue: Queue, scheduleId: string): Promise<void> {
  await queue.removeJobScheduler(exportSchedulerId(scheduleId));
}
