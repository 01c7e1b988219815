/**
 * The body of an export request (Quay's ExportLogs schema plus quaylogs' extension
 * fields), validated as Quay's validate_json_request does; shared by exportlogs and
 * the export schedules.
 */
import { type ExportFormat, type ExportRequest, SERVICE_LEVEL_LOG_KINDS } from '@quaylogs/core';
import { invalidRequest } from '../httpErrors.ts';

export const FORMATS: readonly ExportFormat[] = ['json', 'ndjson', 'csv'];

export type Scope = 'user' | 'organization' | 'repository';

/** Longest text an export request field may hold (a URL, an address, a name, dates). */
export const MAX_FIELD_CHARS = 2048;

/** The store's time range (DateTime64(3)): 1900-01-01 to 2299-12-31. */
export const STORE_MIN_MS = Date.UTC(1900, 0, 1);
export const STORE_MAX_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

/**
 * The export window must fit the store's time range (its rows record the window): a
 * 400 naming the field, checked before anything is written.
 */
export function checkWindowStorable(window: { start: Date; end: Date }): void {
  const s = window.start.getTime();
  const e = window.end.getTime();
  if (!(s >= STORE_MIN_MS && s <= STORE_MAX_MS)) throw invalidRequest('starttime is outside the dates the store holds (01/01/1900 to 12/30/2299)');
  if (!(e >= STORE_MIN_MS && e <= STORE_MAX_MS)) throw invalidRequest('endtime is outside the dates the store holds (01/01/1900 to 12/30/2299)');
}

export interface ExportBody {
  callback_url?: string;
  callback_email?: string;
  starttime?: string;
  endtime?: string;
  format?: string;
  compress?: string | null;
  kind?: string | string[];
  performer?: string;
  repository?: string;
}

/** Python's repr of a JSON value, as jsonschema messages show it. */
export function pyRepr(v: unknown): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as object).map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(', ')}}`;
  return String(v);
}

/** Quay's validate_json_request for ExportLogs (plus our extension fields): 400 with jsonschema's message. */
export function parseBody(raw: unknown): ExportBody {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalidRequest(`${pyRepr(raw)} is not of type 'object'`);
  const body = raw as Record<string, unknown>;
  for (const key of ['callback_url', 'callback_email', 'starttime', 'endtime', 'format', 'performer', 'repository']) {
    const v = body[key];
    if (v !== undefined && typeof v !== 'string') throw invalidRequest(`${pyRepr(v)} is not of type 'string'`);
    if (typeof v === 'string' && v.length > MAX_FIELD_CHARS) throw invalidRequest(`${key} is longer than ${MAX_FIELD_CHARS} characters`);
  }
  const kind = body.kind;
  if (kind !== undefined && typeof kind !== 'string' && !(Array.isArray(kind) && kind.every((k) => typeof k === 'string'))) {
    throw invalidRequest(`${pyRepr(kind)} is not of type 'string', 'array'`);
  }
  const kinds = Array.isArray(kind) ? kind : kind === undefined ? [] : [kind];
  if (kinds.length > 1000 || kinds.some((k) => k.length > MAX_FIELD_CHARS)) throw invalidRequest('kind lists too many or too long kinds');
  if (body.compress !== undefined && body.compress !== null && typeof body.compress !== 'string') {
    throw invalidRequest(`${pyRepr(body.compress)} is not of type 'string'`);
  }
  return body as ExportBody;
}

/** The export options beyond Quay's (format, compression, filters); problems are Quay's InvalidRequest. */
export function extensionOptions(body: ExportBody, scope: Scope) {
  const format = (body.format ?? 'json') as ExportFormat;
  if (!FORMATS.includes(format)) throw invalidRequest(`format must be one of ${FORMATS.join(', ')}`);
  const compress = body.compress === undefined || body.compress === null || body.compress === '' || body.compress === 'none' ? null : body.compress;
  if (compress !== null && compress !== 'gzip') throw invalidRequest("compress must be 'gzip'");
  const kinds = (Array.isArray(body.kind) ? body.kind : (body.kind ?? '').split(',')).map((k) => k.trim()).filter(Boolean);
  const performer = body.performer?.trim() || null;
  const repository = body.repository?.trim() || null;
  if (repository !== null && scope === 'repository') throw invalidRequest('repository is given by the path of a repository export');
  return { format, compress: compress as 'gzip' | null, kinds, performer, repository };
}

/**
 * The export an API call asks for, from its checked body and options: the one mapping from
 * Quay's request to the ExportRequest the store records and the generation job carries.
 */
export function exportRequestFromBody(
  body: ExportBody,
  options: ReturnType<typeof extensionOptions>,
  at: { exportId: string; scope: Scope; namespace: string; repository: string | null; requestedBy: string; window: { start: Date; end: Date } },
): ExportRequest {
  return {
    export_id: at.exportId,
    namespace: at.namespace,
    repository: at.repository ?? '',
    requested_by: at.requestedBy,
    schedule_id: '',
    window_start: at.window.start,
    window_end: at.window.end,
    kinds: options.kinds,
    // A user export reads what /user/logs reads.
    exclude_kinds: at.scope === 'user' ? [...SERVICE_LEVEL_LOG_KINDS] : [],
    performer: options.performer ?? '',
    format: options.format,
    compress: options.compress ?? '',
    callback_url: body.callback_url || '',
    callback_email: body.callback_email || '',
  };
}
