/**
 * Scheduled exports: each schedule has one BullMQ job scheduler (stable id
 * `export-schedule-<id>`, cron pattern in UTC), re-asserted at every start. A
 * fire exports the period that just ended — from the previous occurrence of the
 * pattern to the latest one — and catches up periods missed while nothing ran.
 *
 * Exactly once per period: the period's export id is derived from (schedule,
 * period start); the period is looked up in export_schedule_runs before anything
 * is submitted, and BullMQ ignores a second submit of the same export id. So a
 * duplicate fire — or two at once — does nothing more.
 */
import { createHash } from 'node:crypto';
import type { Job } from 'bullmq';
import cronParser from 'cron-parser';
import {
  getExport,
  getSchedule,
  getScheduleRun,
  lastScheduleRun,
  listSchedules,
  putExport,
  queuedExport,
  recordScheduleRun,
  type ExportRequest,
  type ScheduleRecord,
} from '@quaylogs/clickhouse';
import {
  exportSchedulerId,
  QUEUES,
  removeExportScheduler,
  type ScheduledFire,
  submitExportJob,
  upsertExportScheduler,
} from '@quaylogs/queue';
import { type ExporterContext, jobLog } from './context.ts';

export interface Period {
  start: Date;
  end: Date;
}

/**
 * The period that ends at the latest occurrence of `pattern` at or before `at`,
 * and starts at the occurrence before that (both UTC).
 */
export function periodEndingBy(pattern: string, at: Date): Period {
  const it = cronParser.parseExpression(pattern, { currentDate: new Date(at.getTime() + 1), tz: 'UTC' });
  const end = it.prev().toDate();
  const start = it.prev().toDate();
  return { start, end };
}

/** A stable UUID (RFC 4122 layout, version 5 bits) for one period of one schedule. */
export function scheduledExportId(scheduleId: string, periodStart: Date): string {
  const b = createHash('sha256').update(`quaylogs/scheduled-export/${scheduleId}/${periodStart.toISOString()}`).digest();
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The periods one fire at `at` must export, oldest first. */
export async function periodsToExport(ctx: ExporterContext, s: ScheduleRecord, at: Date): Promise<Period[]> {
  const current = periodEndingBy(s.pattern, at);
  const last = await lastScheduleRun(ctx.store, s.schedule_id);
  if (!last) return current.end > s.created ? [current] : [];
  const out: Period[] = [];
  for (let p = current; p.start >= last.window_end && out.length < ctx.tuning.maxCatchUpPeriods; p = periodEndingBy(s.pattern, p.start)) {
    out.unshift(p);
  }
  return out;
}

async function submitPeriod(ctx: ExporterContext, s: ScheduleRecord, p: Period, firedAt: Date): Promise<string | null> {
  if (await getScheduleRun(ctx.store, s.schedule_id, p.start)) return null;
  const exportId = scheduledExportId(s.schedule_id, p.start);
  const request: ExportRequest = {
    export_id: exportId,
    namespace: s.namespace,
    repository: s.repository,
    requested_by: s.created_by,
    schedule_id: s.schedule_id,
    window_start: p.start,
    window_end: p.end,
    kinds: s.kinds,
    exclude_kinds: [],
    performer: s.performer,
    format: s.format,
    compress: s.compress,
    callback_url: s.callback_url,
    callback_email: s.callback_email,
  };
  if (!(await getExport(ctx.store, exportId))) await putExport(ctx.store, queuedExport(request, firedAt));
  await submitExportJob(ctx.exportsQueue, request);
  await recordScheduleRun(ctx.store, { schedule_id: s.schedule_id, window_start: p.start, window_end: p.end, export_id: exportId, fired_at: firedAt });
  return exportId;
}

/** When a scheduler's job was due: `fire_at` if given, else the time BullMQ scheduled it for. */
function fireTime(job: Job, fireAt: number | undefined): Date {
  const planned = (job.opts as { prevMillis?: number }).prevMillis;
  return new Date(fireAt ?? planned ?? job.timestamp + (job.opts.delay ?? 0));
}

export async function runScheduledFire(ctx: ExporterContext, fire: ScheduledFire, job: Job): Promise<string[]> {
  const log = jobLog(ctx, { job: job.id, schedule_id: fire.schedule_id });
  const schedule = await getSchedule(ctx.store, fire.schedule_id);
  if (!schedule) {
    // Deleted while its scheduler still existed.
    await removeExportScheduler(ctx.exportsQueue, fire.schedule_id);
    return [];
  }
  const at = fireTime(job, fire.fire_at);
  const submitted: string[] = [];
  for (const p of await periodsToExport(ctx, schedule, at)) {
    const id = await submitPeriod(ctx, schedule, p, new Date());
    if (id) submitted.push(id);
  }
  log.info({ at: at.toISOString(), submitted }, submitted.length ? 'scheduled export submitted' : 'scheduled fire: nothing new to export');
  return submitted;
}

/** Re-asserts every schedule's job scheduler and removes schedulers of deleted schedules. */
export async function reassertSchedules(ctx: ExporterContext): Promise<number> {
  const schedules = await listSchedules(ctx.store);
  const live = new Set<string>();
  for (const s of schedules) {
    await upsertExportScheduler(ctx.exportsQueue, s);
    live.add(exportSchedulerId(s.schedule_id));
  }
  const existing = await ctx.exportsQueue.getJobSchedulers(0, -1);
  for (const sch of existing) {
    const id = sch.key;
    if (id.startsWith('export-schedule-') && !live.has(id) && sch.name === QUEUES.exportlogs.jobs.scheduled) {
      await ctx.exportsQueue.removeJobScheduler(id);
    }
  }
  return schedules.length;
}
