/**
 * The `generate` job: writes an export's file once, records the outcome, then
 * hands the deliveries to their own jobs. A re-run (after a crash, or a duplicate
 * submit) of an export whose file already exists only re-submits its deliveries.
 */
import { type Job, UnrecoverableError } from 'bullmq';
import {
  type ExportRecord,
  getExport,
  type LogFilter,
  putExport,
  queuedExport,
} from '@quaylogs/clickhouse';
import { exportFileId, signDownloadUrl } from '@quaylogs/delivery';
import { exportRequestOf, type ExportSpec, exportSpecSchema } from '@quaylogs/queue';
import { type ExporterContext, jobLog } from './context.ts';
import { enqueueDeliveries } from './deliveryJobs.ts';
import { GenerationTimeout, writeExport } from './exportWriter.ts';

/** The exports row of a spec that has none yet (scheduled exports write it themselves). */
export function recordFromSpec(spec: ExportSpec, now = new Date()): ExportRecord {
  return queuedExport(exportRequestOf(spec), now);
}

/** Exactly what `/logs` reads for the same request (docs/compatibility.md), over the export's window. */
export function filterFor(e: ExportRecord): LogFilter {
  return {
    start: e.window_start,
    end: e.window_end,
    namespace: e.namespace,
    ...(e.repository ? { repository: e.repository } : {}),
    ...(e.performer ? { performer: e.performer } : {}),
    ...(e.kinds.length ? { kinds: e.kinds } : {}),
    ...(e.exclude_kinds.length ? { excludeKinds: e.exclude_kinds } : {}),
  };
}

/**
 * Quay's `invalidrequest` for a generation job whose payload does not parse or whose window
 * ends before it starts: the export (when known) is reported failed once; the job is never retried.
 */
export async function settleInvalidGeneration(ctx: ExporterContext, job: Job): Promise<void> {
  const data: unknown = job.data;
  const id = typeof data === 'object' && data !== null && 'export_id' in data ? data.export_id : undefined;
  const known = typeof id === 'string' ? await getExport(ctx.store, id).catch(() => null) : null;
  if (known && known.status !== 'generated' && known.status !== 'failed') {
    const invalid: ExportRecord = { ...known, status: 'failed', outcome: 'invalidrequest', last_error: 'invalid export request', updated: new Date() };
    await putExport(ctx.store, invalid);
    await enqueueDeliveries(ctx, invalid);
  }
}

export async function runGenerateJob(ctx: ExporterContext, spec: ExportSpec, job: Job): Promise<void> {
  if (Date.parse(spec.end) < Date.parse(spec.start)) {
    await settleInvalidGeneration(ctx, job);
    throw new UnrecoverableError('invalid export job: end before start');
  }
  const log = jobLog(ctx, { job: job.id, export_id: spec.export_id });
  let rec = (await getExport(ctx.store, spec.export_id)) ?? recordFromSpec(spec);
  // Failed before it ever ran: the API could not queue it and told the client so (503).
  if (rec.status === 'failed' && rec.attempts === 0 && rec.outcome === 'failed') return;
  if (rec.status === 'failed' || (rec.status === 'generated' && (await ctx.files.stat(rec.file_id)))) {
    await enqueueDeliveries(ctx, rec);
    return;
  }
  const attempt = job.attemptsMade + 1;
  const started = new Date();
  rec = { ...rec, status: 'running', attempts: attempt, last_error: '', updated: started };
  await putExport(ctx.store, rec);
  log.info({ attempt, namespace: rec.namespace, repository: rec.repository, format: rec.format }, 'export generation started');

  const fileId = exportFileId(rec.export_id, ctx.keys);
  const writer = await ctx.files.create(fileId);
  try {
    const { rows } = await writeExport({
      store: ctx.store,
      filter: filterFor(rec),
      format: rec.format,
      gzip: rec.compress === 'gzip',
      details: {
        exportId: rec.export_id,
        start: rec.window_start,
        end: rec.window_end,
        namespace: rec.namespace,
        repository: rec.repository === '' ? null : rec.repository,
      },
      writer,
      hashKind: ctx.config.QUAYLOGS_AVATAR_KIND,
      chunkRows: ctx.tuning.chunkRows,
      deadline: started.getTime() + ctx.tuning.maxGenerationMs,
      onChunk: async (n) => {
        await job.updateProgress({ rows: n }).catch(() => undefined);
        await ctx.tuning.afterChunk?.(rec.export_id, n);
      },
    });
    const stored = await writer.commit();
    const now = new Date();
    const expires = new Date(now.getTime() + ctx.config.QUAYLOGS_EXPORT_LINK_TTL * 1000);
    rec = {
      ...rec,
      status: 'generated',
      outcome: 'success',
      rows,
      bytes: stored.size,
      file_id: fileId,
      link_url: signDownloadUrl(ctx.baseUrl, fileId, expires, ctx.keys),
      link_expires: expires,
      updated: now,
    };
    await putExport(ctx.store, rec);
    const seconds = (now.getTime() - started.getTime()) / 1000;
    log.info({ rows, bytes: stored.size, seconds, rows_per_s: Math.round(rows / Math.max(seconds, 0.001)) }, 'export generated');
  } catch (err) {
    await writer.abort();
    const timedOut = err instanceof GenerationTimeout;
    const last = timedOut || attempt >= (job.opts.attempts ?? 1);
    rec = {
      ...rec,
      status: last ? 'failed' : 'queued',
      outcome: last ? (timedOut ? 'timedout' : 'failed') : '',
      last_error: (err as Error).message ?? String(err),
      updated: new Date(),
    };
    await putExport(ctx.store, rec);
    log.error({ err, attempt, final: last }, 'export generation failed');
    if (!last) throw err;
    await enqueueDeliveries(ctx, rec);
    // A timeout is an outcome (reported, not retried); a failure after the last attempt fails the job.
    if (!timedOut) throw err;
    return;
  }
  await enqueueDeliveries(ctx, rec);
}

/**
 * After a generation job failed for good without its handler finishing (its process
 * died more often than maxStalledCount allows): record the failure and report it.
 */
export async function settleAbandonedGeneration(ctx: ExporterContext, job: Job, reason: string): Promise<void> {
  const parsed = exportSpecSchema.safeParse(job.data);
  if (!parsed.success) return;
  const rec = (await getExport(ctx.store, parsed.data.export_id)) ?? recordFromSpec(parsed.data);
  if (rec.status === 'generated' || rec.status === 'failed') return;
  const failed: ExportRecord = { ...rec, status: 'failed', outcome: 'failed', last_error: reason, updated: new Date() };
  await putExport(ctx.store, failed);
  await enqueueDeliveries(ctx, failed);
}
