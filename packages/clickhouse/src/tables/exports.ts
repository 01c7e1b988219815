/**
 * The `exports` and `export_deliveries` tables (migration 0006): what each export
 * asked for, how its generation went, and how each delivery channel went.
 * Rows are versioned (ReplacingMergeTree) and read with FINAL; every write is a
 * whole row whose version is the next of the row's own sequence (tables/versions.ts). The export row has one writer at a time (API, then the generation
 * job); each channel row is written only by that channel's delivery job.
 */
import { type ExportFormat, type ExportRequest, parseChDateTime, toChDateTime } from '@quaylogs/core';
import type { ClickHouseStore } from '../store.ts';
import { nextRowVersion } from './versions.ts';

export type { ExportFormat, ExportRequest };
export type ExportGeneration = 'queued' | 'running' | 'generated' | 'failed';
export type ExportOutcome = 'success' | 'failed' | 'timedout' | 'invalidrequest';
export type DeliveryChannel = 'callback' | 'email';
export type DeliveryState = 'pending' | 'delivering' | 'delivered' | 'failed';
/** What GET /api/v1/exportlogs/{id} reports. */
export type ExportStatus = 'queued' | 'running' | 'delivering' | 'delivered' | 'failed';

/** An export's row: what it asked for (one ExportRequest) and how its generation went. */
export interface ExportRecord extends ExportRequest {
  status: ExportGeneration;
  outcome: ExportOutcome | '';
  attempts: number;
  last_error: string;
  rows: number;
  bytes: number;
  file_id: string;
  link_url: string;
  link_expires: Date | null;
  created: Date;
  updated: Date;
}

export interface DeliveryRecord {
  export_id: string;
  channel: DeliveryChannel;
  target: string;
  status: DeliveryState;
  reports: ExportOutcome;
  attempts: number;
  last_error: string;
  last_status_code: number;
  webhook_id: string;
  next_attempt: Date | null;
  delivered_at: Date | null;
  updated: Date;
}

const time = (d: Date) => toChDateTime(d);
const maybeTime = (d: Date | null) => (d ? toChDateTime(d) : null);
const readTime = (s: string) => parseChDateTime(s);
const readMaybeTime = (s: string | null) => (s === null || s === '' ? null : parseChDateTime(s));

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`exports table: unexpected ${what} ${JSON.stringify(value)}`);
}

/** A new export's first row: queued, nothing generated yet. */
export function queuedExport(req: ExportRequest, now: Date = new Date()): ExportRecord {
  return {
    ...req,
    status: 'queued',
    outcome: '',
    attempts: 0,
    last_error: '',
    rows: 0,
    bytes: 0,
    file_id: '',
    link_url: '',
    link_expires: null,
    created: now,
    updated: now,
  };
}

export async function putExport(store: ClickHouseStore, r: ExportRecord): Promise<void> {
  await store.insert({
    table: 'exports',
    rows: [
      {
        ...r,
        window_start: time(r.window_start),
        window_end: time(r.window_end),
        link_expires: maybeTime(r.link_expires),
        created: time(r.created),
        updated: time(r.updated),
        version: await nextRowVersion(store, 'exports', 'export_id = {id:String}', { id: r.export_id }),
        is_deleted: 0,
      },
    ],
  });
}

type RawExport = Omit<ExportRecord, 'window_start' | 'window_end' | 'link_expires' | 'created' | 'updated' | 'rows' | 'bytes' | 'attempts'> & {
  window_start: string;
  window_end: string;
  link_expires: string | null;
  created: string;
  updated: string;
  rows: string | number;
  bytes: string | number;
  attempts: string | number;
};

const EXPORT_SELECT = `SELECT export_id, namespace, repository, requested_by, schedule_id,
    toString(window_start) AS window_start, toString(window_end) AS window_end, kinds, exclude_kinds, performer,
    format, compress, callback_url, callback_email, status, outcome, attempts, last_error, rows, bytes,
    file_id, link_url, if(isNull(link_expires), NULL, toString(link_expires)) AS link_expires,
    toString(created) AS created, toString(updated) AS updated
  FROM exports FINAL`;

function readExport(r: RawExport): ExportRecord {
  return {
    ...r,
    format: oneOf(r.format, ['json', 'ndjson', 'csv'] as const, 'format'),
    compress: oneOf(r.compress, ['', 'gzip'] as const, 'compress'),
    status: oneOf(r.status, ['queued', 'running', 'generated', 'failed'] as const, 'status'),
    outcome: oneOf(r.outcome, ['', 'success', 'failed', 'timedout', 'invalidrequest'] as const, 'outcome'),
    window_start: readTime(r.window_start),
    window_end: readTime(r.window_end),
    link_expires: readMaybeTime(r.link_expires),
    created: readTime(r.created),
    updated: readTime(r.updated),
    rows: Number(r.rows),
    bytes: Number(r.bytes),
    attempts: Number(r.attempts),
  };
}

export async function getExport(store: ClickHouseStore, exportId: string): Promise<ExportRecord | null> {
  const rows = await store.query<RawExport>({
    name: 'exports.get',
    sql: `${EXPORT_SELECT} WHERE export_id = {exportId:String}`,
    params: { exportId },
  });
  return rows[0] ? readExport(rows[0]) : null;
}

export async function putExportDelivery(store: ClickHouseStore, d: DeliveryRecord): Promise<void> {
  await store.insert({
    table: 'export_deliveries',
    rows: [
      {
        ...d,
        next_attempt: maybeTime(d.next_attempt),
        delivered_at: maybeTime(d.delivered_at),
        updated: time(d.updated),
        version: await nextRowVersion(store, 'export_deliveries', 'export_id = {id:String} AND channel = {channel:String}', {
          id: d.export_id,
          channel: d.channel,
        }),
        is_deleted: 0,
      },
    ],
  });
}

type RawDelivery = Omit<DeliveryRecord, 'next_attempt' | 'delivered_at' | 'updated' | 'attempts' | 'last_status_code'> & {
  next_attempt: string | null;
  delivered_at: string | null;
  updated: string;
  attempts: string | number;
  last_status_code: string | number;
};

export async function listExportDeliveries(store: ClickHouseStore, exportId: string): Promise<DeliveryRecord[]> {
  const rows = await store.query<RawDelivery>({
    name: 'exports.listDeliveries',
    sql: `SELECT export_id, channel, target, status, reports, attempts, last_error, last_status_code, webhook_id,
            if(isNull(next_attempt), NULL, toString(next_attempt)) AS next_attempt,
            if(isNull(delivered_at), NULL, toString(delivered_at)) AS delivered_at,
            toString(updated) AS updated
          FROM export_deliveries FINAL WHERE export_id = {exportId:String} ORDER BY channel`,
    params: { exportId },
  });
  return rows.map((r) => ({
    ...r,
    channel: oneOf(r.channel, ['callback', 'email'] as const, 'channel'),
    status: oneOf(r.status, ['pending', 'delivering', 'delivered', 'failed'] as const, 'delivery status'),
    reports: oneOf(r.reports, ['success', 'failed', 'timedout', 'invalidrequest'] as const, 'reported outcome'),
    attempts: Number(r.attempts),
    last_status_code: Number(r.last_status_code),
    next_attempt: readMaybeTime(r.next_attempt),
    delivered_at: readMaybeTime(r.delivered_at),
    updated: readTime(r.updated),
  }));
}

export async function getExportDelivery(
  store: ClickHouseStore,
  exportId: string,
  channel: DeliveryChannel,
): Promise<DeliveryRecord | null> {
  return (await listExportDeliveries(store, exportId)).find((d) => d.channel === channel) ?? null;
}

/**
 * The export's overall status: queued / running while generating; delivering while a
 * requested channel has not finished; then delivered when the file was produced and
 * every requested channel delivered it, else failed.
 */
export function overallExportStatus(e: ExportRecord, deliveries: readonly DeliveryRecord[]): ExportStatus {
  if (e.status === 'queued') return 'queued';
  if (e.status === 'running') return 'running';
  const wanted: DeliveryChannel[] = [];
  if (e.callback_url) wanted.push('callback');
  if (e.callback_email) wanted.push('email');
  const states = wanted.map((c) => deliveries.find((d) => d.channel === c)?.status ?? 'pending');
  if (states.some((s) => s === 'pending' || s === 'delivering')) return 'delivering';
  if (e.status === 'failed' || e.outcome !== 'success') return 'failed';
  return states.every((s) => s === 'delivered') ? 'delivered' : 'failed';
}
