/**
 * Dates as Quay's logs API reads and writes them, plus the ClickHouse text form.
 * Everything is UTC; nothing here looks at the process time zone.
 */

export const DAY_MS = 86_400_000;

export interface ParsedQuayDate {
  at: Date;
  /** true when the value named a calendar day (Quay form or ISO date), false for an exact instant. */
  dateOnly: boolean;
}

// Quay parses `starttime`/`endtime` with Python's strptime("%m/%d/%Y %Z") after appending " UTC".
// That grammar: month 1–2 digits (1–12), day 1–2 digits (1–31, strptime also takes " 1"),
// exactly four year digits, and any whitespace before the appended zone name.
const QUAY_FORM = /^(1[0-2]|0[1-9]|[1-9])\/(3[01]|[12][0-9]|0[1-9]|[1-9]| [1-9])\/([0-9]{4})\s*$/;
// Our extension: ISO-8601 calendar date, or date-time with optional seconds, fraction and zone.
const ISO_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const ISO_DATE_TIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?$/;
const CH_DATE_TIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?$/;

/**
 * Builds a UTC instant from calendar fields, or null when the fields do not name a real
 * instant (02/30, hour 24, year 0 — Python's datetime has no year 0 either).
 */
function utcInstant(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date | null {
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const at = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  at.setUTCFullYear(y, mo - 1, d);
  at.setUTCHours(h, mi, s, ms);
  if (at.getUTCFullYear() !== y || at.getUTCMonth() !== mo - 1 || at.getUTCDate() !== d) return null;
  return at;
}

function fractionToMs(fraction: string | undefined): number {
  // Truncate (never round) to milliseconds: "5" ⇒ 500, "123456" ⇒ 123.
  return fraction ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0;
}

/**
 * Parses a `starttime`/`endtime` value. Quay's `MM/DD/YYYY` form (UTC midnight), or our
 * ISO-8601 extension (`2024-01-31`, `2024-01-31T10:00:00Z`; a date-time without zone is UTC).
 * Anything else ⇒ null: Quay silently ignores values it cannot parse and uses its default.
 */
export function parseQuayDate(s: string | undefined | null): ParsedQuayDate | null {
  if (!s) return null;
  const quay = QUAY_FORM.exec(s);
  if (quay) {
    const at = utcInstant(Number(quay[3]), Number(quay[1]), Number(quay[2]));
    return at ? { at, dateOnly: true } : null;
  }
  const date = ISO_DATE.exec(s);
  if (date) {
    const at = utcInstant(Number(date[1]), Number(date[2]), Number(date[3]));
    return at ? { at, dateOnly: true } : null;
  }
  const dt = ISO_DATE_TIME.exec(s);
  if (dt) {
    const local = utcInstant(
      Number(dt[1]), Number(dt[2]), Number(dt[3]),
      Number(dt[4]), Number(dt[5]), Number(dt[6] ?? 0), fractionToMs(dt[7]),
    );
    if (!local) return null;
    const offsetMin = parseZoneOffset(dt[8]);
    if (offsetMin === null) return null;
    return { at: new Date(local.getTime() - offsetMin * 60_000), dateOnly: false };
  }
  return null;
}

/** Minutes east of UTC for `Z`, `+02`, `+0200`, `-05:30`; undefined zone ⇒ 0 (UTC); bad ⇒ null. */
function parseZoneOffset(zone: string | undefined): number | null {
  if (!zone || zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (digits.length !== 2 && digits.length !== 4) return null;
  if (hours > 23 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}

/**
 * The half-open window [start, end) a logs request covers, by Quay's rules:
 * start = the parsed `starttime`, else now − 24 h (keeping the time of day);
 * end = the parsed `endtime`, else now; then end += 1 day, so the day `endtime` names is
 * included. Extension: an ISO date-time `endtime` (dateOnly=false) is taken exactly.
 * The caller checks end < start (Quay answers 400 then; end == start is just empty).
 */
export function resolveLogWindow(
  starttime?: string,
  endtime?: string,
  now: Date = new Date(),
): { start: Date; end: Date } {
  const parsedStart = parseQuayDate(starttime);
  const parsedEnd = parseQuayDate(endtime);
  const start = parsedStart ? parsedStart.at : new Date(now.getTime() - DAY_MS);
  const end =
    parsedEnd && !parsedEnd.dateOnly ? parsedEnd.at : addUtcDays(parsedEnd ? parsedEnd.at : now, 1);
  return { start, end };
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * Quay's API date form (Python `email.utils.formatdate` in UTC):
 * `Tue, 18 Jun 2024 18:59:13 -0000` — milliseconds are dropped, the zone is a literal `-0000`.
 */
export function formatRfc2822(d: Date): string {
  return (
    `${WEEKDAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ` +
    `${pad(d.getUTCFullYear(), 4)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:` +
    `${pad(d.getUTCSeconds())} -0000`
  );
}

/** `06/18/2024` (UTC): the form Quay's `starttime`/`endtime` take. */
export function formatMdy(d: Date): string {
  return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCFullYear(), 4)}`;
}

/** ClickHouse `DateTime64(3, 'UTC')` text form: `2024-06-18 18:59:13.123`. */
export function toChDateTime(d: Date): string {
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.` +
    pad(d.getUTCMilliseconds(), 3)
  );
}

/**
 * Inverse of `toChDateTime` (UTC). Accepts the value with or without a fraction (extra
 * fraction digits are truncated to ms). Throws a RangeError for anything else.
 */
export function parseChDateTime(s: string): Date {
  const m = CH_DATE_TIME.exec(s);
  const at = m
    ? utcInstant(
        Number(m[1]), Number(m[2]), Number(m[3]),
        Number(m[4]), Number(m[5]), Number(m[6]), fractionToMs(m[7]),
      )
    : null;
  if (!at) throw new RangeError(`not a ClickHouse DateTime64 text value: ${JSON.stringify(s)}`);
  return at;
}

/** Midnight UTC of the day `d` falls on. */
export function startOfUtcDay(d: Date): Date {
  return new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
}

/** `d` shifted by `n` whole days (UTC has no DST, so a day is always 24 h). */
export function addUtcDays(d: Date, n: number): Date {
  return new Date(d.getTime() + n * DAY_MS);
}
