/**
 * Splunk search jobs without server-side state: the sid carries the validated query, the
 * source of the token that created it and the time window, sealed with an HMAC keyed by
 * QUAYLOGS_SECRET. Any API process can answer any step of a job and nothing is ever
 * cleaned up; a sid expires JOB_TTL_MS after creation.
 *
 * sid = "q" base64url(JSON payload) "." base64url(HMAC-SHA256 tag, 16 bytes):
 * only [A-Za-z0-9._-], so it passes through the SDK's URL quoting unchanged.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SplQuery } from '../spl/parse.ts';

/** Lifetime of a sid (Splunk keeps a finished job about ten minutes; Quay uses it within seconds). */
export const JOB_TTL_MS = 60 * 60 * 1000;

/** ClickHouse's DateTime64 ends in 2299: later (and absent) bounds are read as this one. */
export const LATEST_QUERYABLE_MS = Date.UTC(2300, 0, 1);

export interface SearchJob {
  /** The source (registry) whose entries the job reads: the creating token's. */
  source: string;
  query: SplQuery;
  /** Window in epoch ms: earliest inclusive, latest exclusive. */
  earliest: number;
  latest: number;
  /** Creation time, epoch ms. */
  created: number;
}

interface Payload {
  v: 1;
  s: string;
  q: SplQuery;
  e: number;
  l: number;
  t: number;
}

function tag(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update('quaylogs splunk sid\0').update(body).digest().subarray(0, 16);
}

export function encodeSid(job: SearchJob, secret: string): string {
  const payload: Payload = { v: 1, s: job.source, q: job.query, e: job.earliest, l: job.latest, t: job.created };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `q${body}.${tag(secret, body).toString('base64url')}`;
}

/** The job a sid describes, or null when it is malformed, forged, expired or another source's. */
export function decodeSid(sid: string, secret: string, source: string, nowMs: number): SearchJob | null {
  const m = /^q([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$/.exec(sid);
  if (!m) return null;
  const given = Buffer.from(m[2]!, 'base64url');
  const expected = tag(secret, m[1]!);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let p: Payload;
  try {
    p = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as Payload;
  } catch {
    return null;
  }
  if (p.v !== 1 || p.s !== source || nowMs - p.t > JOB_TTL_MS) return null;
  return { source: p.s, query: p.q, earliest: p.e, latest: p.l, created: p.t };
}

/** A time argument outside what quaylogs accepts (refused at job creation). */
export class UnsupportedTime extends Error {}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * `earliest_time` / `latest_time` in epoch ms. Quay sends naive ISO datetimes
 * (`datetime.isoformat()`, optional microseconds), read as UTC; an explicit `Z` or offset
 * and epoch seconds are accepted too. Sub-millisecond parts round up, which keeps both
 * bounds exact for millisecond timestamps (earliest inclusive, latest exclusive).
 */
export function parseSplunkTime(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const v = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(v)) {
    ms = Math.ceil(Number(v) * 1000);
  } else {
    const m = ISO.exec(v);
    if (!m) throw new UnsupportedTime(`${name}=${v} is not supported (use an ISO-8601 datetime, read as UTC, or epoch seconds)`);
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
    const base = Date.UTC(y, mo - 1, d, h, mi, s);
    const check = new Date(base);
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
      throw new UnsupportedTime(`${name}=${v} is not a valid date`);
    }
    const nanos = Number((m[7] ?? '').padEnd(9, '0') || '0');
    let offsetMs = 0;
    const zone = m[8];
    if (zone && zone !== 'Z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      offsetMs = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
    }
    ms = base + Math.ceil(nanos / 1e6) - offsetMs;
  }
  return Math.min(Math.max(ms, 0), LATEST_QUERYABLE_MS);
}
