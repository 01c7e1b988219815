/**
 * The exporter role: the generation worker (queue `exportlogs`: generate,
 * scheduled fires, file cleanup) and the delivery worker (queue
 * `export-deliveries`: callback, e-mail), plus re-asserting every job scheduler.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import type { QuaylogsConfig } from '@quaylogs/config';
import {
  AllowList,
  createMailer,
  deriveLinkKeys,
  type ExportStore,
  loadOrCreateCallbackSecret,
  localExportStore,
  WebhookSigner,
} from '@quaylogs/delivery';
import { closeBullmq, QUEUES, type Redis } from '@quaylogs/queue';
import { DEFAULT_TUNING, type ExporterContext, type ExporterLog, type ExporterTuning } from './context.ts';
import { runCallbackJob, runEmailJob } from './deliveryJobs.ts';
import { runGenerateJob, settleAbandonedGeneration, settleInvalidGeneration } from './generateJob.ts';
import { reassertSchedules, runScheduledFire } from './scheduleJobs.ts';

export interface ExporterOptions {
  /** A worker connection (`redisForWorkers`: maxRetriesPerRequest null). */
  redis: Redis;
  store: ClickHouseStore;
  config: QuaylogsConfig;
  log: ExporterLog;
  /** Public `scheme://host[:port]` of the API that serves /exportedlogs (download links). */
  baseUrl: string;
  /**
   * The API's QUAYLOGS_SECRET (download links are signed with a key derived from it).
   * Default: config.QUAYLOGS_SECRET, else the `secret` file `quaylogs up` keeps in the data dir.
   */
  secret?: string;
  /** Where export files go (default QUAYLOGS_DATA_DIR/exports). */
  files?: ExportStore;
  tuning?: Partial<ExporterTuning>;
}

export interface Exporter {
  /**
   * Stops taking jobs, waits for the running ones (or, with `force`, abandons them: their
   * locks lapse and another exporter takes them over), then closes its queues.
   */
  stop(force?: boolean): Promise<void>;
}

const CLEANUP_SCHEDULER = 'export-files-cleanup';

function resolveSecret(opts: ExporterOptions): string {
  if (opts.secret) return opts.secret;
  if (opts.config.QUAYLOGS_SECRET) return opts.config.QUAYLOGS_SECRET;
  const file = join(opts.config.QUAYLOGS_DATA_DIR, 'secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new Error('the exporter needs QUAYLOGS_SECRET (or the data dir `secret` file) because download links are signed with it');
}

/** Deletes export files whose download link has expired (their link can no longer be used). */
async function cleanupFiles(ctx: ExporterContext): Promise<number> {
  const cutoff = Date.now() - ctx.config.QUAYLOGS_EXPORT_LINK_TTL * 1000;
  let removed = 0;
  for (const f of await ctx.files.list()) {
    if (f.modified.getTime() < cutoff) {
      await ctx.files.remove(f.fileId);
      removed++;
    }
  }
  if (removed) ctx.log.info({ removed }, 'expired export files deleted');
  return removed;
}

export async function startExporter(opts: ExporterOptions): Promise<Exporter> {
  const tuning: ExporterTuning = { ...DEFAULT_TUNING, ...opts.tuning };
  const config = opts.config;
  const exportsQueue = QUEUES.exportlogs.open(opts.redis, tuning.generateJobOptions);
  const deliveriesQueue = QUEUES.exportDeliveries.open(opts.redis, {
    attempts: tuning.deliveryAttempts,
    backoff: { type: 'exponential', delay: tuning.deliveryBackoffMs },
  });
  const ctx: ExporterContext = {
    store: opts.store,
    config,
    log: opts.log,
    baseUrl: opts.baseUrl.replace(/\/+$/, ''),
    keys: deriveLinkKeys(resolveSecret(opts)),
    files: opts.files ?? localExportStore(config.QUAYLOGS_DATA_DIR),
    exportsQueue,
    deliveriesQueue,
    signer: new WebhookSigner(loadOrCreateCallbackSecret(config.QUAYLOGS_DATA_DIR, config.QUAYLOGS_CALLBACK_SECRET)),
    ssrf: { allowList: AllowList.parse(config.QUAYLOGS_SSRF_ALLOWED_HOSTS), ...(tuning.resolve ? { resolve: tuning.resolve } : {}) },
    mailer: config.QUAYLOGS_SMTP_URL ? createMailer({ smtpUrl: config.QUAYLOGS_SMTP_URL, from: config.QUAYLOGS_MAIL_FROM }) : null,
    tuning,
  };

  const schedules = await reassertSchedules(ctx);
  await exportsQueue.upsertJobScheduler(
    CLEANUP_SCHEDULER,
    { every: tuning.cleanupEveryMs },
    { name: QUEUES.exportlogs.jobs.cleanup, data: {}, opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
  );

  const common = {
    lockDurationMs: tuning.lockDurationMs,
    stalledIntervalMs: tuning.stalledIntervalMs,
    maxStalledCount: tuning.maxStalledCount,
    log: opts.log,
  };
  const generation = QUEUES.exportlogs.worker(
    opts.redis,
    {
      generate: (spec, job) => runGenerateJob(ctx, spec, job),
      scheduled: (fire, job) => runScheduledFire(ctx, fire, job),
      cleanup: () => cleanupFiles(ctx),
    },
    {
      ...common,
      concurrency: tuning.generateConcurrency,
      onInvalidPayload: async (job) => {
        if (job.name === QUEUES.exportlogs.jobs.generate) await settleInvalidGeneration(ctx, job);
      },
      onFinalFailure: async (job, err) => {
        if (job.name === QUEUES.exportlogs.jobs.generate) await settleAbandonedGeneration(ctx, job, err.message);
      },
    },
  );
  const delivery = QUEUES.exportDeliveries.worker(
    opts.redis,
    {
      callback: (d, job) => runCallbackJob(ctx, d, job),
      email: (d, job) => runEmailJob(ctx, d, job),
    },
    { ...common, concurrency: tuning.deliveryConcurrency },
  );
  opts.log.info({ schedules, smtp: ctx.mailer !== null }, 'exporter started');

  let stopped: Promise<void> | null = null;
  return {
    stop(force = false) {
      stopped ??= (async () => {
        await Promise.all([closeBullmq(generation, force), closeBullmq(delivery, force)]);
        await Promise.all([closeBullmq(exportsQueue), closeBullmq(deliveriesQueue)]);
        ctx.mailer?.close();
      })();
      return stopped;
    },
  };
}
