/**
 * The poller role: one BullMQ job scheduler per configured source (id `poll:<source>`,
 * re-asserted at every start; schedulers of sources no longer configured are removed) and a
 * worker that runs each poll (see pollSource.ts).
 *
 * Failures, as the job shows them (`failedReason`, logs, and `last_error` on the checkpoint):
 * - 5xx, 429, timeouts, network errors ⇒ the job fails and BullMQ retries it (QUEUES.poll's
 *   attempts, exponential backoff from its delay, never sooner than Quay's Retry-After);
 * - 401/403, `search_unavailable`, other 4xx ⇒ UnrecoverableError: failed at once with the
 *   reason and what to fix, no retries; the next scheduled poll tries again.
 * Two polls of the same source never run at once (a Redis lock; the second one is skipped).
 */
import { randomUUID } from 'node:crypto';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { closeBullmq, QUEUES, type Redis } from '@quaylogs/queue';
import { createQuayClient, type QuayTimeouts } from '@quaylogs/quay-client';
import { Queue, UnrecoverableError, Worker, type Job, type MinimalJob } from 'bullmq';
import { PollError, pollSource, type PollerLogger, type PollResult } from './pollSource.ts';
import type { PollSource } from './sourcesConfig.ts';

export interface PollerOptions {
  /** A worker connection (`maxRetriesPerRequest: null`), e.g. `redisForWorkers(REDIS_URL)`. */
  redis: Redis;
  store: ClickHouseStore;
  sources: PollSource[];
  log: PollerLogger;
  /** Polls running at once in this process (different sources). Default 2. */
  concurrency?: number;
  /** Overrides QUEUES.poll's retry policy (tests use short delays). */
  retry?: { attempts?: number; delayMs?: number };
  /** HTTP timeouts towards Quay. */
  timeouts?: Partial<QuayTimeouts>;
  /** Rows per ingest-stream entry. Default 2,000. */
  batchRows?: number;
  /** The previous day is re-read until this long after midnight. Default 1 h. */
  settleMs?: number;
  /** First poll's window when a source names no `start`. Default 30 days. */
  defaultLookbackDays?: number;
  /** Clock (tests). */
  now?: () => Date;
}

export interface Poller {
  readonly queue: Queue;
  readonly worker: Worker;
  /** Adds a one-off poll of `source` now (outside its schedule) and returns its job. */
  pollNow(source: string): Promise<Job>;
  /** Stops taking jobs, lets the running polls stop between days (progress kept), closes. */
  close(): Promise<void>;
}

export const POLL_BACKOFF_TYPE = 'quay-poll';
const LOCK_TTL_MS = 10 * 60_000;
const MAX_RETRY_AFTER_MS = 60 * 60_000;
const LOCK_PREFIX = 'quaylogs:poll:lock:';

export const schedulerId = (source: string) => `poll:${source}`;

/**
 * Exponential backoff from the job's delay (like BullMQ's `exponential`), but never shorter
 * than the Retry-After Quay sent (capped at an hour).
 */
export function pollBackoff(attemptsMade: number, _type?: string, err?: Error, job?: MinimalJob): number {
  const opts = job?.opts.backoff;
  const base = typeof opts === 'object' && opts.delay !== undefined ? opts.delay : QUEUES.poll.options.backoff.delay;
  const exponential = Math.round(2 ** Math.max(0, attemptsMade - 1) * base);
  const retryAfter = (err as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof retryAfter === 'number' ? Math.max(exponential, Math.min(retryAfter, MAX_RETRY_AFTER_MS)) : exponential;
}

/** A PollError whose every failure is retryable keeps the first Retry-After it carries. */
function retryAfterOf(err: PollError): number | undefined {
  for (const f of err.failures) {
    const v = (f.error as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof v === 'number') return v;
  }
  return undefined;
}

const EXTEND_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export async function startPoller(opts: PollerOptions): Promise<Poller> {
  const { redis, store, log } = opts;
  const now = opts.now ?? (() => new Date());
  const sources = new Map(opts.sources.map((s) => [s.name, s]));
  const queue = QUEUES.poll.open(redis, {
    attempts: opts.retry?.attempts ?? QUEUES.poll.options.attempts,
    backoff: { type: POLL_BACKOFF_TYPE, delay: opts.retry?.delayMs ?? QUEUES.poll.options.backoff.delay },
  });
  let stopping = false;
  const aborts = new Set<AbortController>();

  // Schedulers: re-assert every configured source, drop the others.
  for (const source of sources.values()) {
    await queue.upsertJobScheduler(
      schedulerId(source.name),
      { every: source.intervalMs },
      { name: QUEUES.poll.jobs.poll, data: QUEUES.poll.payload.poll.parse({ source: source.name }) },
    );
  }
  for (const s of await queue.getJobSchedulers(0, -1)) {
    const id = s.id ?? s.key;
    if (id.startsWith('poll:') && !sources.has(id.slice('poll:'.length))) {
      await queue.removeJobScheduler(id);
      log.info({ scheduler: id }, 'poller: removed the schedule of a source no longer configured');
    }
  }

  const runJob = async ({ source: name }: { source: string }, job: Job): Promise<PollResult | { skipped: string }> => {
    const source = sources.get(name);
    const jobLog: PollerLogger = {
      info: (o, m) => log.info({ jobId: job.id, ...o }, m),
      warn: (o, m) => log.warn({ jobId: job.id, ...o }, m),
      error: (o, m) => log.error({ jobId: job.id, ...o }, m),
    };
    if (!source) {
      jobLog.warn({ source: name }, 'poller: job for a source that is not configured; skipped');
      return { skipped: `source "${name}" is not configured` };
    }
    const lockKey = `${LOCK_PREFIX}${name}`;
    const lockValue = `${job.id ?? '?'}:${randomUUID()}`;
    if ((await redis.set(lockKey, lockValue, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
      jobLog.info({ source: name }, 'poller: another poll of this source is running; skipped');
      return { skipped: 'another poll of this source is running' };
    }
    const abort = new AbortController();
    aborts.add(abort);
    const client = createQuayClient({ baseUrl: source.url, token: source.token, ...(opts.timeouts ? { timeouts: opts.timeouts } : {}) });
    try {
      const result = await pollSource(
        {
          redis,
          store,
          client,
          log: jobLog,
          now,
          batchRows: opts.batchRows ?? 2_000,
          settleMs: opts.settleMs ?? 3_600_000,
          defaultLookbackDays: opts.defaultLookbackDays ?? 30,
          stopping: () => stopping,
          signal: abort.signal,
          onPage: async () => {
            if ((await redis.eval(EXTEND_LOCK, 1, lockKey, lockValue, String(LOCK_TTL_MS))) !== 1) {
              throw new Error(`lost the poll lock of source "${name}" (another poll took over)`);
            }
          },
        },
        source,
      );
      return result;
    } catch (err) {
      if (err instanceof PollError) {
        jobLog.error({ source: name, retryable: err.retryable, attempt: job.attemptsMade + 1 }, err.message);
        if (!err.retryable) throw new UnrecoverableError(err.message);
        const retryAfterMs = retryAfterOf(err);
        throw Object.assign(new Error(err.message), retryAfterMs !== undefined ? { retryAfterMs } : {});
      }
      jobLog.error({ source: name, err: (err as Error).message }, 'poller: poll failed');
      throw err;
    } finally {
      aborts.delete(abort);
      await client.close().catch(() => undefined);
      await redis.eval(RELEASE_LOCK, 1, lockKey, lockValue).catch(() => undefined);
    }
  };

  const worker = QUEUES.poll.worker(redis, { poll: runJob }, { concurrency: opts.concurrency ?? 2, backoffStrategy: pollBackoff, log });

  return {
    queue,
    worker,
    pollNow: async (source) => {
      if (!sources.has(source)) throw new Error(`source "${source}" is not configured`);
      return QUEUES.poll.add(queue, 'poll', { source }, { jobId: `manual-${source}-${randomUUID()}` });
    },
    close: async () => {
      stopping = true;
      // A request that hangs must not hold shutdown: abort in-flight requests after a grace period.
      const grace = setTimeout(() => {
        for (const a of aborts) a.abort(new Error('poller shutting down'));
      }, 5_000);
      try {
        await closeBullmq(worker);
      } finally {
        clearTimeout(grace);
      }
      await closeBullmq(queue);
    },
  };
}
