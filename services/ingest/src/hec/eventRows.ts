/**
 * Quay's Splunk HEC events as stored rows: the mapping the HEC receiver (services/api,
 * which owns the HTTP framing and Splunk's replies) applies to every event of a request,
 * kept here beside the other Quay-event-to-row mappings (import/quayRows.ts, the poller).
 *
 * What every event must be before it is acknowledged: text the store can keep (no lone
 * UTF-16 surrogate in any key or value — JSON's `"\ud800"` decodes to one) and nesting no
 * deeper than Quay's events go (its metadata is a flat object; a body nested thousands deep
 * must be refused as data, not fail later as "server busy"). A refused event is a
 * `HecEventError` naming Splunk's reply (`reason`) and the event's 0-based number.
 */
import { findInvalidText, jsonDepth, parseQuayDate, randomEventKey, toChDateTime, type UsageLogRow } from '@quaylogs/core';

/** Which of Splunk's replies a refused event gets. */
export type HecEventRefusal = 'invalidDataFormat' | 'eventRequired' | 'eventBlank';

/** An event that cannot be stored: Splunk's reply, the event number (0-based), and why. */
export class HecEventError extends Error {
  constructor(
    readonly reason: HecEventRefusal,
    readonly index: number,
    readonly detail?: string,
  ) {
    super(detail ?? reason);
  }
}

/** Entries before this instant are refused as absurd (Quay did not exist yet). */
export const HEC_MIN_TIME_MS = Date.UTC(2010, 0, 1);
/** Entries more than this far in the future are refused as absurd. */
export const HEC_MAX_FUTURE_MS = 86_400_000;

/** Envelope → event → metadata → a few levels of metadata values. */
export const HEC_MAX_DEPTH = 16;

/** The deepest nesting of brackets in JSON text (outside strings), without parsing it. */
export function jsonTextDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * Why event `envelopes[i]` cannot be stored, for the first such event, or null.
 * `opts.noEscapes`: the events were parsed from well-formed text holding no `\u` escape,
 * so none of their strings can hold a lone surrogate and the walk that looks for one is
 * skipped (it cost a tenth of the receiver's CPU per event).
 */
export function hecEventsProblem(envelopes: readonly unknown[], opts: { noEscapes?: boolean } = {}): { index: number; reason: string } | null {
  for (let index = 0; index < envelopes.length; index++) {
    const envelope = envelopes[index];
    if (jsonDepth(envelope) > HEC_MAX_DEPTH) return { index, reason: `the event is nested deeper than ${HEC_MAX_DEPTH} levels` };
    const bad = opts.noEscapes ? null : findInvalidText(envelope);
    if (bad) return { index, reason: `${bad} is not valid Unicode` };
    const ev = (envelope as { event?: Record<string, unknown> } | null)?.event;
    for (const key of ['metadata_json', 'metadata'] as const) {
      const m = ev && typeof ev === 'object' ? ev[key] : undefined;
      if (typeof m === 'string' && jsonTextDepth(m) > HEC_MAX_DEPTH) {
        return { index, reason: `event.${key} is nested deeper than ${HEC_MAX_DEPTH} levels` };
      }
    }
  }
  return null;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A text field of Quay's event: string, or absent/null ⇒ ''; numbers and booleans as text. */
function text(ev: Record<string, unknown>, key: string, index: number): string {
  const v = ev[key];
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new HecEventError('invalidDataFormat', index, `${key} must be a string`);
}

const EPOCH = /^\s*-?\d+(\.\d+)?\s*$/;

/** Milliseconds of an event time: epoch seconds (number or numeric text) or Quay's older ISO text. */
function eventTimeMs(v: unknown, index: number): number | null {
  if (v === undefined || v === null) return null;
  let ms: number;
  if (typeof v === 'number' || (typeof v === 'string' && EPOCH.test(v))) {
    const seconds = Number(v);
    if (!Number.isFinite(seconds)) throw new HecEventError('invalidDataFormat', index, 'datetime is not a number');
    // Truncate to the millisecond, free of binary-fraction noise (…153.123 ⇒ 123, not 122).
    ms = Math.floor(Math.round(seconds * 1e6) / 1e3);
  } else if (typeof v === 'string') {
    const parsed = parseQuayDate(v.trim());
    if (!parsed || parsed.dateOnly || !/^\d{4}-/.test(v.trim())) {
      throw new HecEventError('invalidDataFormat', index, 'datetime is not a time');
    }
    ms = parsed.at.getTime();
  } else {
    throw new HecEventError('invalidDataFormat', index, 'datetime is not a time');
  }
  return ms;
}

function metadataText(ev: Record<string, unknown>, index: number): string {
  const v = ev.metadata_json !== undefined ? ev.metadata_json : ev.metadata;
  if (v === undefined || v === null) return '{}';
  if (isPlainObject(v)) return JSON.stringify(v);
  if (typeof v === 'string') {
    if (v.trim() === '') return '{}';
    try {
      const parsed: unknown = JSON.parse(v);
      if (isPlainObject(parsed)) return JSON.stringify(parsed);
    } catch {
      /* fall through */
    }
  }
  throw new HecEventError('invalidDataFormat', index, 'metadata_json must be an object');
}

/**
 * One Splunk envelope (`{"event": {...}, "sourcetype", "host", "index"?, "time"?}`) as a
 * stored row. Quay's fields: kind (name), account ⇒ namespace_name, repository ⇒
 * repository_name, performer ⇒ performer_username (robots are `ns+name`), ip,
 * metadata_json, datetime (epoch seconds, or the older ISO text), and the extended fields.
 */
export function hecEventToRow(envelope: unknown, index: number, source: string, nowMs: number): UsageLogRow {
  if (!isPlainObject(envelope)) throw new HecEventError('invalidDataFormat', index);
  if (!('event' in envelope)) throw new HecEventError('eventRequired', index);
  const ev = envelope.event;
  if (ev === null || ev === '') throw new HecEventError('eventBlank', index);
  if (!isPlainObject(ev)) throw new HecEventError('invalidDataFormat', index, 'event must be a Quay log object');
  const kind = text(ev, 'kind', index);
  if (kind === '') throw new HecEventError('invalidDataFormat', index, 'kind is required');
  const at = eventTimeMs(ev.datetime, index) ?? eventTimeMs(envelope.time, index) ?? nowMs;
  if (at < HEC_MIN_TIME_MS || at > nowMs + HEC_MAX_FUTURE_MS) {
    throw new HecEventError('invalidDataFormat', index, 'datetime is out of range');
  }
  return {
    source,
    namespace: text(ev, 'account', index) || text(ev, 'namespace_name', index),
    repository: text(ev, 'repository', index) || text(ev, 'repository_name', index),
    kind,
    performer: text(ev, 'performer', index) || text(ev, 'performer_username', index),
    ip: text(ev, 'ip', index),
    datetime: toChDateTime(new Date(at)),
    metadata: metadataText(ev, index),
    // Quay never retries a POST: every accepted event is a distinct entry (docs/architecture.md).
    event_key: randomEventKey(),
    request_url: text(ev, 'request_url', index),
    http_method: text(ev, 'http_method', index),
    user_agent: text(ev, 'user_agent', index),
    request_id: text(ev, 'request_id', index),
    auth_type: text(ev, 'auth_type', index),
    performer_kind: text(ev, 'performer_kind', index),
    x_forwarded_for: text(ev, 'x_forwarded_for', index),
  };
}

/**
 * Every event of a request as rows, or the HecEventError of the first event that cannot be
 * stored. `opts.noEscapes`: see hecEventsProblem (the caller vouches for the text).
 */
export function hecEventsToRows(envelopes: readonly unknown[], source: string, nowMs: number, opts: { noEscapes?: boolean } = {}): UsageLogRow[] {
  const problem = hecEventsProblem(envelopes, opts);
  if (problem) throw new HecEventError('invalidDataFormat', problem.index, problem.reason);
  return envelopes.map((envelope, i) => hecEventToRow(envelope, i, source, nowMs));
}
