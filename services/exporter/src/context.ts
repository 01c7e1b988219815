/**
 * What every exporter job needs, built once by startExporter.
 */
import type { Queue, JobsOptions } from 'bullmq';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import type { QuaylogsConfig } from '@quaylogs/config';
import type { CallbackTimeouts, ExportStore, LinkKeys, Mailer, Resolver, SsrfPolicy, WebhookSigner } from '@quaylogs/delivery';

/** The pino-compatible logger subset the exporter uses. */
export interface ExporterLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child?(bindings: Record<string, unknown>): ExporterLog;
}

export interface ExporterTuning {
  /** Generations running at once in this process. */
  generateConcurrency: number;
  /** Deliveries running at once in this process. */
  deliveryConcurrency: number;
  /** BullMQ job lock; a crashed process's jobs are taken over after it lapses. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How often a job may be found stalled (its process died) before it fails. */
  maxStalledCount: number;
  /** Rows per block ClickHouse works on while it renders an export page (its max_block_size). */
  chunkRows: number;
  /** Quay's EXPORT_ACTION_LOGS_MAXIMUM_SECONDS: a longer generation ends `timedout`. */
  maxGenerationMs: number;
  /** Options of generation jobs this process submits (scheduled exports). */
  generateJobOptions: Partial<JobsOptions>;
  /** Delivery attempts per channel and the first retry delay (doubling each time). */
  deliveryAttempts: number;
  deliveryBackoffMs: number;
  callbackTimeouts: Partial<CallbackTimeouts>;
  /** Scheduled exports catch up at most this many missed periods at one fire. */
  maxCatchUpPeriods: number;
  /** Expired export files are deleted this often. */
  cleanupEveryMs: number;
  /** SSRF guard's resolver (tests map names to addresses here); default DNS. */
  resolve?: Resolver;
  /** Test hook, awaited after every written block. */
  afterChunk?: (exportId: string, rows: number) => void | Promise<void>;
}

export const DEFAULT_TUNING: ExporterTuning = {
  generateConcurrency: 2,
  deliveryConcurrency: 8,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 2,
  // 1,000 rather than 5,000: the peak RSS of an export (3M-row store, 2.3M-row superuser and
  // 209k-row namespace exports, fresh process each) fell by 25-50 MB, in the same time.
  chunkRows: 1_000,
  maxGenerationMs: 2 * 3600_000,
  generateJobOptions: {},
  deliveryAttempts: 8,
  deliveryBackoffMs: 30_000,
  callbackTimeouts: {},
  maxCatchUpPeriods: 31,
  cleanupEveryMs: 3600_000,
};

export interface ExporterContext {
  store: ClickHouseStore;
  config: QuaylogsConfig;
  log: ExporterLog;
  /** Public `scheme://host` of the API, for download links. */
  baseUrl: string;
  keys: LinkKeys;
  files: ExportStore;
  exportsQueue: Queue;
  deliveriesQueue: Queue;
  signer: WebhookSigner;
  ssrf: SsrfPolicy;
  mailer: Mailer | null;
  tuning: ExporterTuning;
}

/** A logger whose every line carries `bindings` (the job and export ids). */
export function jobLog(ctx: ExporterContext, bindings: Record<string, unknown>): ExporterLog {
  const log = ctx.log;
  if (log.child) return log.child(bindings);
  const bind = (fn: ExporterLog['info']) => (obj: object, msg?: string) => fn.call(log, { ...bindings, ...obj }, msg);
  return { debug: bind(log.debug), info: bind(log.info), warn: bind(log.warn), error: bind(log.error) };
}
