/**
 * The `export_schedules` and `export_schedule_runs` tables (migration 0007):
 * recurring exports, and the periods each one has already submitted. The runs are
 * the durable memory that makes a duplicate scheduler fire do nothing.
 */
import { parseChDateTime, toChDateTime } from '@quaylogs/core';
import type { ClickHouseStore } from '../store.ts';
import type { ExportFormat } from './exports.ts';
import { transitionVersion } from './versions.ts';

export type ScheduleEvery = 'daily' | 'weekly' | 'cron';

export interface ScheduleRecord {
  schedule_id: string;
  namespace: string;
  repository: string;
  created_by: string;
  every: ScheduleEvery;
  /** Cron pattern, evaluated in UTC. */
  pattern: string;
  kinds: string[];
  performer: string;
  format: ExportFormat;
  compress: '' | 'gzip';
  callback_url: string;
  callback_email: string;
  created: Date;
}

export interface ScheduleRun {
  schedule_id: string;
  window_start: Date;
  window_end: Date;
  export_id: string;
  fired_at: Date;
}

export async function putSchedule(store: ClickHouseStore, s: ScheduleRecord, deleted = false): Promise<void> {
  await store.insert({
    table: 'export_schedules',
    rows: [{ ...s, created: toChDateTime(s.created), version: transitionVersion(deleted ? 2 : 1), is_deleted: deleted ? 1 : 0 }],
  });
}

type RawSchedule = Omit<ScheduleRecord, 'created'> & { created: string };

const SCHEDULE_SELECT = `SELECT schedule_id, namespace, repository, created_by, every, pattern, kinds, performer,
    format, compress, callback_url, callback_email, toString(created) AS created
  FROM export_schedules FINAL`;

function readSchedule(r: RawSchedule): ScheduleRecord {
  return { ...r, created: parseChDateTime(r.created) };
}

export async function getSchedule(store: ClickHouseStore, scheduleId: string): Promise<ScheduleRecord | null> {
  const rows = await store.query<RawSchedule>({
    name: 'exportSchedules.get',
    sql: `${SCHEDULE_SELECT} WHERE schedule_id = {scheduleId:String}`,
    params: { scheduleId },
  });
  return rows[0] ? readSchedule(rows[0]) : null;
}

/** Every live schedule, or those of one namespace. */
export async function listSchedules(store: ClickHouseStore, namespace?: string): Promise<ScheduleRecord[]> {
  const rows = await store.query<RawSchedule>({
    name: 'exportSchedules.list',
    sql: `${SCHEDULE_SELECT}${namespace === undefined ? '' : ' WHERE namespace = {namespace:String}'} ORDER BY namespace, created, schedule_id`,
    params: namespace === undefined ? {} : { namespace },
  });
  return rows.map(readSchedule);
}

export async function deleteSchedule(store: ClickHouseStore, s: ScheduleRecord): Promise<void> {
  await putSchedule(store, s, true);
}

export async function recordScheduleRun(store: ClickHouseStore, run: ScheduleRun): Promise<void> {
  await store.insert({
    table: 'export_schedule_runs',
    rows: [
      {
        schedule_id: run.schedule_id,
        window_start: toChDateTime(run.window_start),
        window_end: toChDateTime(run.window_end),
        export_id: run.export_id,
        fired_at: toChDateTime(run.fired_at),
      },
    ],
  });
}

type RawRun = { schedule_id: string; window_start: string; window_end: string; export_id: string; fired_at: string };

function readRun(r: RawRun): ScheduleRun {
  return {
    schedule_id: r.schedule_id,
    window_start: parseChDateTime(r.window_start),
    window_end: parseChDateTime(r.window_end),
    export_id: r.export_id,
    fired_at: parseChDateTime(r.fired_at),
  };
}

/** Runs matching `where` (over the raw columns: the text aliases would shadow them), latest first. */
function runSelect(where: string, limit: string): string {
  return `SELECT schedule_id, toString(window_start) AS window_start, toString(window_end) AS window_end,
      export_id, toString(fired_at) AS fired_at
    FROM (SELECT * FROM export_schedule_runs FINAL WHERE ${where} ORDER BY window_start DESC LIMIT ${limit})
    ORDER BY window_start DESC`;
}

/** The run of the period starting at `windowStart`, if that period was already submitted. */
export async function getScheduleRun(store: ClickHouseStore, scheduleId: string, windowStart: Date): Promise<ScheduleRun | null> {
  const rows = await store.query<RawRun>({
    name: 'exportSchedules.getRun',
    sql: runSelect(`schedule_id = {scheduleId:String} AND window_start = {windowStart:DateTime64(3, 'UTC')}`, '1'),
    params: { scheduleId, windowStart: toChDateTime(windowStart) },
  });
  return rows[0] ? readRun(rows[0]) : null;
}

/** The latest submitted period of a schedule (its "last completed window"). */
export async function lastScheduleRun(store: ClickHouseStore, scheduleId: string): Promise<ScheduleRun | null> {
  const rows = await store.query<RawRun>({
    name: 'exportSchedules.lastRun',
    sql: runSelect('schedule_id = {scheduleId:String}', '1'),
    params: { scheduleId },
  });
  return rows[0] ? readRun(rows[0]) : null;
}

/** Every submitted period of a schedule, newest first. */
export async function listScheduleRuns(store: ClickHouseStore, scheduleId: string, limit = 100): Promise<ScheduleRun[]> {
  const rows = await store.query<RawRun>({
    name: 'exportSchedules.listRuns',
    sql: runSelect('schedule_id = {scheduleId:String}', '{limit:UInt32}'),
    params: { scheduleId, limit },
  });
  return rows.map(readRun);
}
