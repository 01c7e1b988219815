/**
 * The one place exporter workers are created: every worker gets the same
 * failed / stalled / error logging, and its lock and stall settings from tuning.
 */
import { type Job, Worker } from 'bullmq';
import type { Redis } from '@quaylogs/queue';
import type { ExporterLog } from './context.ts';

export interface WorkerSettings {
  connection: Redis;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  log: ExporterLog;
  /** Called when a job has failed for good (no attempt left, unrecoverable, or stalled too often). */
  onFinalFailure?: (job: Job, err: Error) => void | Promise<void>;
}

export function createWorker(queueName: string, process: (job: Job) => Promise<unknown>, s: WorkerSettings): Worker {
  const worker = new Worker(queueName, process, {
    connection: s.connection,
    concurrency: s.concurrency,
    lockDuration: s.lockDurationMs,
    stalledInterval: s.stalledIntervalMs,
    maxStalledCount: s.maxStalledCount,
    autorun: true,
  });
  worker.on('failed', (job, err) => {
    if (!job) {
      s.log.error({ queue: queueName, err }, 'job failed');
      return;
    }
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError' || /stalled/i.test(err.message);
    s.log.warn({ queue: queueName, job: job.id, name: job.name, attempts: job.attemptsMade, final, error: err.message }, 'job failed');
    if (final && s.onFinalFailure) {
      void Promise.resolve(s.onFinalFailure(job, err)).catch((e: unknown) =>
        s.log.error({ queue: queueName, job: job.id, err: e }, 'settling a failed job failed'),
      );
    }
  });
  worker.on('stalled', (jobId) => s.log.warn({ queue: queueName, job: jobId }, 'job stalled (its worker stopped); it will run again'));
  worker.on('error', (err) => s.log.error({ queue: queueName, err }, 'worker error'));
  return worker;
}
