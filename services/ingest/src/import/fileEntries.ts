/**
 * The two entry shapes files hold, as quaylogs rows:
 * - API-shaped entries (Quay's export documents, our NDJSON exports): mapped exactly as
 *   the poller maps Quay's `/logs` entries (`quayEntryToRow`), so the same entry gets the
 *   same event key whichever way it arrived. Our own NDJSON may add `namespace` /
 *   `repository` as plain names, the extended-logging fields and `event_key`; those win.
 * - Log-rotation rows (quay/quay workers/logrotateworker.py `log_dict`): numeric ids,
 *   `datetime` as Python's `str(datetime)`, `ip` as `str(ip)` (so a missing address is the
 *   text "None"), `metadata_json` as an object (`{"__raw": text}` when Quay could not
 *   parse the stored text).
 */
import { quayEntryToRow, quayLogEntrySchema } from '@quaylogs/quay-client';
import type { UsageLogRow } from '@quaylogs/core';
import type { UnkeyedRow } from './eventKeys.ts';
import type { QuayLogRecord } from './quayRows.ts';

const EXTENDED = ['request_url', 'http_method', 'user_agent', 'request_id', 'auth_type', 'performer_kind', 'x_forwarded_for'] as const;
const MAX_KEY = (1n << 128n) - 1n;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface ApiEntryContext {
  source: string;
  /** The export's namespace (`details.namespace`); undefined for NDJSON. */
  namespace?: string | undefined;
}

export interface ApiRow {
  row: UnkeyedRow;
  /** The entry's own event key (our NDJSON exports carry it), else undefined. */
  eventKey?: string;
}

function storableYear(datetime: string): boolean {
  const y = Number(datetime.slice(0, 4));
  return y >= 1900 && y <= 2299;
}

/** Why an entry is not imported: `invalid` (not a log entry: the file is suspect) or `skip` (a date the store cannot hold). */
export type Rejected = { invalid: string } | { skip: string };

/** The row for an API-shaped entry, or why it cannot be imported. */
export function rowFromApiEntry(value: unknown, ctx: ApiEntryContext): ApiRow | Rejected {
  if (!isObject(value)) return { invalid: 'not a JSON object' };
  const entry: Record<string, unknown> = { ...value };
  // Our NDJSON writes namespace / repository as plain names.
  let namespace = ctx.namespace;
  if (typeof entry.namespace === 'string') {
    namespace = entry.namespace;
    delete entry.namespace;
  }
  let repository: string | undefined;
  if (typeof entry.repository === 'string') repository = entry.repository;
  else if (isObject(entry.repository) && typeof entry.repository.name === 'string') repository = entry.repository.name;
  const parsed = quayLogEntrySchema.safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { invalid: `not a Quay log entry (${issue ? `${issue.path.join('.') || 'entry'}: ${issue.message}` : 'invalid'})` };
  }
  let row: UnkeyedRow;
  try {
    row = quayEntryToRow(parsed.data, { source: ctx.source, namespace });
  } catch (err) {
    return { skip: (err as Error).message };
  }
  if (!storableYear(row.datetime)) return { skip: `datetime ${JSON.stringify(entry.datetime)} is outside what the store holds (1900–2299)` };
  if (repository !== undefined) row.repository = repository;
  for (const f of EXTENDED) {
    const v = entry[f];
    if (typeof v === 'string') row[f] = v;
  }
  const key = entry.event_key;
  if (typeof key === 'string' && /^\d{1,39}$/.test(key) && BigInt(key) <= MAX_KEY) return { row, eventKey: key };
  return { row };
}

export function withKey(r: ApiRow, key: (row: UnkeyedRow) => UsageLogRow): UsageLogRow {
  return r.eventKey !== undefined ? { ...r.row, event_key: r.eventKey } : key(r.row);
}

const intOrNull = (v: unknown): number | null | undefined =>
  v === null || v === undefined ? null : Number.isSafeInteger(v) ? (v as number) : undefined;

/** A rotation row as a record with ids, or a string saying what is wrong with it. */
export function recordFromRotationRow(value: unknown): QuayLogRecord | string {
  if (!isObject(value)) return 'not a JSON object';
  const { kind_id, datetime, ip, metadata_json } = value;
  const account = intOrNull(value.account_id);
  const performer = intOrNull(value.performer_id);
  const repository = intOrNull(value.repository_id);
  if (!Number.isSafeInteger(kind_id)) return 'kind_id is not an integer';
  if (account === undefined) return 'account_id is not an integer or null';
  if (performer === undefined) return 'performer_id is not an integer or null';
  if (repository === undefined) return 'repository_id is not an integer or null';
  if (typeof datetime !== 'string') return 'datetime is not a string';
  if (ip !== null && ip !== undefined && typeof ip !== 'string') return 'ip is not a string';
  let metadata: string;
  if (isObject(metadata_json)) {
    const keys = Object.keys(metadata_json);
    metadata = keys.length === 1 && keys[0] === '__raw' && typeof metadata_json.__raw === 'string'
      ? metadata_json.__raw
      : JSON.stringify(metadata_json);
  } else if (typeof metadata_json === 'string') {
    metadata = metadata_json;
  } else if (metadata_json === null || metadata_json === undefined) {
    metadata = '{}';
  } else {
    return 'metadata_json is not an object';
  }
  return {
    kind_id: kind_id as number,
    account_id: account,
    performer_id: performer,
    repository_id: repository,
    datetime,
    // Quay writes str(ip): a missing address becomes the text "None".
    ip: typeof ip === 'string' && ip !== 'None' && ip !== '' ? ip : null,
    metadata,
  };
}

/** Which kind of element an array holds: rotation rows have `kind_id`, API entries `kind`. */
export function elementKind(value: unknown): 'rotation' | 'api' | null {
  if (!isObject(value)) return null;
  if ('kind_id' in value) return 'rotation';
  if ('kind' in value) return 'api';
  return null;
}
