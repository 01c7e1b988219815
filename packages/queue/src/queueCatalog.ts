/**
 * Every BullMQ queue quaylogs uses: its name, job names, payload schemas and
 * default job options, declared through `defineQueue`, the one place queues,
 * workers and job schedulers are made:
 *
 * - a queue is opened with the catalog's options as BullMQ's `defaultJobOptions`
 *   (plus the caller's overrides, once), so every `add` and every job scheduler gets
 *   them from BullMQ and no caller merges them again;
 * - a worker parses each job's payload with its job's schema before the handler sees
 *   it: a payload that does not parse fails at once (`UnrecoverableError`), never retried;
 * - every worker logs failed, stalled and error events the same way.
 */
import { type Job, type JobsOptions, type MinimalJob, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ExportRequest } from '@quaylogs/core';
import { z } from 'zod';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const exportId = z.string().regex(UUID, 'export_id must be a UUID');
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 time');
const exportOutcome = z.enum(['success', 'failed', 'timedout', 'invalidrequest']);

/** What one export covers and where it goes: the `generate` job's payload (an ExportRequest on the wire). */
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

const orNull = (s: string): string | null => (s === '' ? null : s);

/** An export request as the generation job's payload. */
export function exportSpecOf(r: ExportRequest): ExportSpec {
  return {
    export_id: r.export_id,
    namespace: r.namespace,
    repository: orNull(r.repository),
    start: r.window_start.toISOString(),
    end: r.window_end.toISOString(),
    kinds: r.kinds,
    exclude_kinds: r.exclude_kinds,
    performer: orNull(r.performer),
    format: r.format,
    compress: r.compress === 'gzip' ? 'gzip' : null,
    callback_url: orNull(r.callback_url),
    callback_email: orNull(r.callback_email),
    requested_by: r.requested_by,
    schedule_id: orNull(r.schedule_id),
  };
}

/** The export request a generation job's payload carries. */
export function exportRequestOf(spec: ExportSpec): ExportRequest {
  return {
    export_id: spec.export_id,
    namespace: spec.namespace,
    repository: spec.repository ?? '',
    requested_by: spec.requested_by,
    schedule_id: spec.schedule_id ?? '',
    window_start: new Date(spec.start),
    window_end: new Date(spec.end),
    kinds: spec.kinds,
    exclude_kinds: spec.exclude_kinds,
    performer: spec.performer ?? '',
    format: spec.format,
    compress: spec.compress ?? '',
    callback_url: spec.callback_url ?? '',
    callback_email: spec.callback_email ?? '',
  };
}

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

export interface QueueLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WorkerSettings {
  concurrency: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  /** BullMQ's custom backoff strategy (for `backoff.type` other than fixed / exponential). */
  backoffStrategy?: (attemptsMade: number, type?: string, err?: Error, job?: MinimalJob) => number;
  log: QueueLog;
  /** Called when a job has failed for good (no attempt left, unrecoverable, or stalled too often). */
  onFinalFailure?: (job: Job, err: Error) => void | Promise<void>;
  /** Called before a job whose payload does not parse is failed (it is never retried). */
  onInvalidPayload?: (job: Job, err: z.ZodError) => void | Promise<void>;
}

type Payloads = Record<string, z.ZodType>;

/** One handler per job name, given the parsed payload. */
export type JobHandlers<P extends Payloads> = { [K in keyof P]: (data: z.infer<P[K]>, job: Job) => Promise<unknown> };

export interface QueueDefinition<P extends Payloads, O extends JobsOptions = JobsOptions> {
  name: string;
  /** Job names, by key. */
  jobs: { readonly [K in keyof P]: string };
  payload: P;
  /** Default options of every job of the queue (BullMQ `defaultJobOptions`). */
  options: O;
}

export interface DefinedQueue<P extends Payloads, O extends JobsOptions = JobsOptions> extends Readonly<QueueDefinition<P, O>> {
  /** Opens the queue; `overrides` (tuning, tests) are merged over the catalog's defaults here, once. */
  open(connection: Redis, overrides?: Partial<JobsOptions>): Queue;
  /** Adds a job after checking its payload against the job's schema. */
  add<K extends keyof P & string>(queue: Queue, job: K, data: z.input<P[K]>, opts?: JobsOptions): Promise<Job>;
  /** A worker that parses each payload with its job's schema and dispatches by job name. */
  worker(connection: Redis, handlers: JobHandlers<P>, settings: WorkerSettings): Worker;
}

/** Declares a queue: the one choke point for its queues, jobs, schedulers and workers. */
export function defineQueue<const P extends Payloads, const O extends JobsOptions>(def: QueueDefinition<P, O>): DefinedQueue<P, O> {
  const byName = new Map<string, keyof P & string>(Object.entries(def.jobs).map(([key, name]) => [name, key]));
  return {
    ...def,
    open: (connection, overrides = {}) => new Queue(def.name, { connection, defaultJobOptions: { ...def.options, ...overrides } }),
    add: async (queue, job, data, opts) => queue.add(def.jobs[job], def.payload[job]!.parse(data), opts),
    worker(connection, handlers, s) {
      const worker = new Worker(
        def.name,
        async (job: Job) => {
          const key = byName.get(job.name);
          if (key === undefined) throw new UnrecoverableError(`unknown ${def.name} job ${job.name}`);
          const parsed = def.payload[key]!.safeParse(job.data);
          if (!parsed.success) {
            await s.onInvalidPayload?.(job, parsed.error);
            throw new UnrecoverableError(`invalid ${job.name} payload: ${parsed.error.message}`);
          }
          // safeParse of P[key] yields z.infer<P[key]>; TypeScript cannot follow the generic index.
          return handlers[key](parsed.data as z.infer<P[typeof key]>, job);
        },
        {
          connection,
          concurrency: s.concurrency,
          ...(s.lockDurationMs !== undefined ? { lockDuration: s.lockDurationMs } : {}),
          ...(s.stalledIntervalMs !== undefined ? { stalledInterval: s.stalledIntervalMs } : {}),
          ...(s.maxStalledCount !== undefined ? { maxStalledCount: s.maxStalledCount } : {}),
          ...(s.backoffStrategy ? { settings: { backoffStrategy: s.backoffStrategy } } : {}),
          autorun: true,
        },
      );
      worker.on('failed', (job, err) => {
        if (!job) {
          s.log.error({ queue: def.name, err }, 'job failed');
          return;
        }
        const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError' || /stalled/i.test(err.message);
        s.log.warn({ queue: def.name, job: job.id, name: job.name, attempts: job.attemptsMade, final, error: err.message }, 'job failed');
        if (final && s.onFinalFailure) {
          void Promise.resolve(s.onFinalFailure(job, err)).catch((e: unknown) =>
            s.log.error({ queue: def.name, job: job.id, err: e }, 'settling a failed job failed'),
          );
        }
      });
      worker.on('stalled', (jobId) => s.log.warn({ queue: def.name, job: jobId }, 'job stalled (its worker stopped); it will run again'));
      worker.on('error', (err) => s.log.error({ queue: def.name, err }, 'worker error'));
      return worker;
    },
  };
}

export const QUEUES = {
  /** One job scheduler per polled Quay source. */
  poll: defineQueue({
    name: 'poll-quay',
    jobs: { poll: 'poll' },
    payload: { poll: z.object({ source: z.string().min(1) }) },
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 5_000 },
    },
  }),
  /**
   * Quay's exportlogs: one `generate` job per export (jobId = export_id), the fires of
   * scheduled exports (job schedulers `export-schedule-<id>`), and the file cleanup.
   * Attempts are generation attempts (Quay: 3); delivery retries live in their own queue.
   */
  exportlogs: defineQueue({
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
    },
  }),
  /**
   * Deliveries of finished exports, one job per channel (jobId `<export_id>-callback`,
   * `<export_id>-email`), retried apart from generation and from each other.
   */
  exportDeliveries: defineQueue({
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
    },
  }),
};

/** The exportlogs queue for a producer (the API) or the exporter; `overrides` tune its jobs' options. */
export function openExportQueue(connection: Redis, overrides?: Partial<JobsOptions>): Queue {
  return QUEUES.exportlogs.open(connection, overrides);
}

/** Submits an export's generation; a second submit of the same export_id is ignored by BullMQ. */
export async function submitExportJob(queue: Queue, request: ExportRequest): Promise<void> {
  await QUEUES.exportlogs.add(queue, 'generate', exportSpecOf(request), { jobId: request.export_id });
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
    // The job options are the queue's defaults (BullMQ applies them to every fire).
    { name: QUEUES.exportlogs.jobs.scheduled, data: scheduledFireSchema.parse({ schedule_id: schedule.schedule_id }) },
  );
}

export async function removeExportScheduler(queue: Queue, scheduleId: string): Promise<void> {
  await queue.removeJobScheduler(exportSchedulerId(scheduleId));
}
