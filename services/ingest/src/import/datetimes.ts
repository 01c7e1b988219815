/**
 * The datetime forms Quay's log sources carry, turned into the ClickHouse text form
 * `YYYY-MM-DD HH:MM:SS.mmm` (UTC) that `UsageLogRow.datetime` holds:
 * - PostgreSQL `timestamp` text (`2024-06-18 18:59:13.123456`; Quay stores naive UTC),
 *   and Python's `str(datetime)` in rotation archives (same form, fraction only when
 *   non-zero, `+00:00` when the value was zone-aware);
 * - RFC-2822 as Quay's API writes it (`Tue, 18 Jun 2024 18:59:13 -0000`).
 * Fractions are truncated to milliseconds. Values outside what `DateTime64(3, 'UTC')`
 * holds (1900-01-01 … 2299-12-31) are rejected: the store could not keep them.
 */
import { toChDateTime } from '@quaylogs/core';


const ISO_LIKE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?))?$/;
const RFC_2822 =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?(\d{1,2})\s+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s*(GMT|UTC|UT|Z|[+-]\d{4})?$/;
const MONTHS: Record<string, number> = {
  Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12,
};

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

const MIN_MS = Date.UTC(1900, 0, 1);
const MAX_MS = Date.UTC(2300, 0, 1) - 1;

function validFields(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const days = new Date(Date.UTC(2000, mo, 0)).getUTCDate(); // month length in a leap year
  if (d > days) return false;
  if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return false;
  return true;
}

function fromFields(
  y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, offsetMin: number,
): string | null {
  if (!validFields(y, mo, d, h, mi, s)) return null;
  if (offsetMin === 0) {
    if (y < 1900 || y > 2299) return null;
    return `${pad(y, 4)}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)}.${pad(ms, 3)}`;
  }
  const at = Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMin * 60_000;
  return at < MIN_MS || at > MAX_MS ? null : chText(at);
}

function offsetMinutes(zone: string | undefined): number | null {
  if (zone === undefined || zone === 'Z' || zone === 'UTC' || zone === 'GMT' || zone === 'UT') return 0;
  const digits = zone.slice(1).replace(':', '');
  if (digits.length !== 2 && digits.length !== 4) return null;
  const h = Number(digits.slice(0, 2));
  const m = digits.length === 4 ? Number(digits.slice(2)) : 0;
  if (h > 23 || m > 59) return null;
  return (zone.startsWith('-') ? -1 : 1) * (h * 60 + m);
}

/** Epoch milliseconds as `YYYY-MM-DD HH:MM:SS.mmm` (UTC). */
export const chText = (ms: number): string => toChDateTime(new Date(ms));

/** PostgreSQL / Python / ISO-8601 date-time text (no zone ⇒ UTC) ⇒ ClickHouse text, or null. */
export function isoLikeToCh(text: string): string | null {
  const m = ISO_LIKE.exec(text.trim());
  if (!m) return null;
  const offset = offsetMinutes(m[8]);
  if (offset === null) return null;
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  return fromFields(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms, offset);
}

/** RFC-2822 (Quay's API form, `-0000` = UTC) ⇒ ClickHouse text, or null. */
export function rfc2822ToCh(text: string): string | null {
  const m = RFC_2822.exec(text.trim());
  if (!m) return null;
  const offset = offsetMinutes(m[7]);
  if (offset === null) return null;
  return fromFields(Number(m[3]), MONTHS[m[2]!]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), 0, offset);
}

/** Any datetime an API-shaped entry may carry: RFC-2822, ISO-8601, or epoch seconds. */
export function apiDatetimeToCh(value: unknown): string | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    const ms = Math.trunc(value * 1000);
    return ms < MIN_MS || ms > MAX_MS ? null : chText(ms);
  }
  if (typeof value !== 'string') return null;
  return rfc2822ToCh(value) ?? isoLikeToCh(value);
}
