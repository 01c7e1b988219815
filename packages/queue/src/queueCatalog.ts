/**
 * Every BullMQ queue quaylogs uses: its name, job names, payload schemas and
 * default job options. Consumers parse payloads with these schemas when they
 * take a job, not only producers.
 */
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

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
  /** Quay's exportlogs, one job per export (jobId = export_id). */
  exportlogs: {
    name: 'exportlogs',
    jobs: { generate: 'generate', deliverCallback: 'deliver-callback', deliverEmail: 'deliver-email', scheduled: 'scheduled' },
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 10_000 },
      removeOnComplete: { count: 10_000 },
      removeOnFail: { count: 10_000 },
    } satisfies JobsOptions,
  },
} as const;
