/**
 * Delivery of a finished export, one BullMQ job per channel, each retried on its
 * own: a failing callback never regenerates the file and never holds the e-mail
 * back. Each channel's state (attempts, last error, next attempt) is recorded in
 * export_deliveries as it goes.
 */
import { type Job, UnrecoverableError } from 'bullmq';
import {
  type DeliveryChannel,
  type DeliveryRecord,
  type ExportOutcome,
  type ExportRecord,
  getExportDelivery,
  putExportDelivery,
} from '@quaylogs/clickhouse';
import { formatMdy } from '@quaylogs/core';
import { describeExportFile, postCallback, renderExportEmail } from '@quaylogs/delivery';
import {
  type CallbackDelivery,
  type EmailDelivery,
  QUEUES,
} from '@quaylogs/queue';
import { type ExporterContext, jobLog } from './context.ts';
import { pythonFlatJson } from './exportFormats.ts';

/** The Standard Webhooks message id of an export's callback: one message per export. */
export function webhookIdFor(exportId: string): string {
  return `msg_${exportId.replace(/-/g, '')}`;
}

/** Quay's callback body, keys in Quay's order, laid out as Python's json.dumps. */
export function callbackBody(e: ExportRecord, outcome: ExportOutcome): string {
  return pythonFlatJson({
    export_id: e.export_id,
    start_time: formatMdy(e.window_start),
    end_time: formatMdy(e.window_end),
    namespace: e.namespace,
    repository: e.repository === '' ? null : e.repository,
    exported_data_url: outcome === 'success' ? e.link_url : null,
    status: outcome,
  });
}

function deliveryJobId(exportId: string, channel: DeliveryChannel): string {
  return `${exportId}-${channel}`;
}

/** Records each requested channel as pending and submits its delivery job (idempotent). */
export async function enqueueDeliveries(ctx: ExporterContext, e: ExportRecord): Promise<void> {
  const outcome: ExportOutcome = e.outcome === '' ? 'failed' : e.outcome;
  const channels: { channel: DeliveryChannel; target: string }[] = [];
  if (e.callback_url) channels.push({ channel: 'callback', target: e.callback_url });
  if (e.callback_email) channels.push({ channel: 'email', target: e.callback_email });
  for (const { channel, target } of channels) {
    const existing = await getExportDelivery(ctx.store, e.export_id, channel);
    if (existing && (existing.status === 'delivered' || existing.status === 'failed')) continue;
    if (!existing) {
      await putExportDelivery(ctx.store, {
        export_id: e.export_id,
        channel,
        target,
        status: 'pending',
        reports: outcome,
        attempts: 0,
        last_error: '',
        last_status_code: 0,
        webhook_id: channel === 'callback' ? webhookIdFor(e.export_id) : '',
        next_attempt: null,
        delivered_at: null,
        updated: new Date(),
      });
    }
    if (channel === 'callback') {
      const payload: CallbackDelivery = {
        export_id: e.export_id,
        url: target,
        webhook_id: webhookIdFor(e.export_id),
        body: callbackBody(e, outcome),
        reports: outcome,
      };
      await QUEUES.exportDeliveries.add(ctx.deliveriesQueue, 'callback', payload, { jobId: deliveryJobId(e.export_id, channel) });
    } else {
      const payload: EmailDelivery = {
        export_id: e.export_id,
        to: target,
        reports: outcome,
        url: outcome === 'success' ? e.link_url : null,
        file_id: outcome === 'success' ? e.file_id : null,
        bytes: e.bytes,
        format: e.format,
        compress: e.compress === 'gzip' ? 'gzip' : null,
        attempts: e.attempts,
      };
      await QUEUES.exportDeliveries.add(ctx.deliveriesQueue, 'email', payload, { jobId: deliveryJobId(e.export_id, channel) });
    }
  }
}

interface AttemptResult {
  ok: boolean;
  error?: string;
  statusCode?: number | null;
  /** Retrying cannot help. */
  permanent?: boolean;
}

/** Shared bookkeeping: mark the attempt, run it, record the result, throw to retry. */
async function attempt(
  ctx: ExporterContext,
  job: Job,
  exportId: string,
  channel: DeliveryChannel,
  defaults: Omit<DeliveryRecord, 'status' | 'attempts' | 'last_error' | 'last_status_code' | 'next_attempt' | 'delivered_at' | 'updated'>,
  run: () => Promise<AttemptResult>,
): Promise<void> {
  const log = jobLog(ctx, { job: job.id, export_id: exportId, channel });
  const prev = await getExportDelivery(ctx.store, exportId, channel);
  if (prev?.status === 'delivered') return;
  const base: DeliveryRecord = prev ?? {
    ...defaults,
    status: 'pending',
    attempts: 0,
    last_error: '',
    last_status_code: 0,
    next_attempt: null,
    delivered_at: null,
    updated: new Date(),
  };
  const n = job.attemptsMade + 1;
  const max = job.opts.attempts ?? 1;
  await putExportDelivery(ctx.store, { ...base, status: 'delivering', attempts: n, next_attempt: null, updated: new Date() });
  let result: AttemptResult;
  try {
    result = await run();
  } catch (err) {
    result = { ok: false, error: (err as Error).message ?? String(err) };
  }
  const now = new Date();
  if (result.ok) {
    await putExportDelivery(ctx.store, {
      ...base,
      status: 'delivered',
      attempts: n,
      last_status_code: result.statusCode ?? 0,
      next_attempt: null,
      delivered_at: now,
      updated: now,
    });
    log.info({ attempts: n }, `export ${channel} delivered`);
    return;
  }
  const final = result.permanent === true || n >= max;
  const delay = (ctx.tuning.deliveryBackoffMs || 0) * 2 ** (n - 1);
  await putExportDelivery(ctx.store, {
    ...base,
    status: final ? 'failed' : 'delivering',
    attempts: n,
    last_error: result.error ?? 'failed',
    last_status_code: result.statusCode ?? 0,
    next_attempt: final ? null : new Date(now.getTime() + delay),
    updated: now,
  });
  log.warn({ attempts: n, final, error: result.error }, `export ${channel} attempt failed`);
  if (result.permanent) throw new UnrecoverableError(result.error ?? 'failed');
  throw new Error(result.error ?? 'failed');
}

export async function runCallbackJob(ctx: ExporterContext, d: CallbackDelivery, job: Job): Promise<void> {
  await attempt(
    ctx,
    job,
    d.export_id,
    'callback',
    { export_id: d.export_id, channel: 'callback', target: d.url, reports: d.reports, webhook_id: d.webhook_id },
    async () => {
      const r = await postCallback({
        url: d.url,
        body: d.body,
        webhookId: d.webhook_id,
        signer: ctx.signer,
        policy: ctx.ssrf,
        timeouts: ctx.tuning.callbackTimeouts,
      });
      return r.ok ? { ok: true, statusCode: r.status } : { ok: false, error: r.error, statusCode: r.status, permanent: !r.retryable };
    },
  );
}

export async function runEmailJob(ctx: ExporterContext, d: EmailDelivery, job: Job): Promise<void> {
  await attempt(
    ctx,
    job,
    d.export_id,
    'email',
    { export_id: d.export_id, channel: 'email', target: d.to, reports: d.reports, webhook_id: '' },
    async () => {
      const mailer = ctx.mailer;
      if (!mailer) return { ok: false, error: 'e-mail is not configured (QUAYLOGS_SMTP_URL)', permanent: true };
      const mail = renderExportEmail({
        exportId: d.export_id,
        status: d.reports,
        url: d.url,
        linkTtlSeconds: ctx.config.QUAYLOGS_EXPORT_LINK_TTL,
        registryTitle: ctx.config.QUAYLOGS_REGISTRY_TITLE,
        attempts: d.attempts,
      });
      const limit = ctx.config.QUAYLOGS_MAIL_ATTACH_MAX_BYTES;
      const file = d.reports === 'success' && d.file_id && d.bytes < limit ? await ctx.files.open(d.file_id) : null;
      try {
        const desc = describeExportFile(d.export_id, d.format, d.compress === 'gzip');
        const attachments = file ? [{ filename: desc.filename, contentType: desc.contentType, content: file.stream }] : [];
        await mailer.send({ ...mail, to: d.to, attachments });
      } finally {
        file?.stream.destroy();
      }
      return { ok: true };
    },
  );
}
