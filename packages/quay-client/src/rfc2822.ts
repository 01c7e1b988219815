/**
 * Reads the dates Quay's API writes: Python `email.utils.formatdate(epoch)`, e.g.
 * `Tue, 18 Jun 2024 18:59:13 -0000` — seconds precision, the zone a literal `-0000`.
 * Also accepted, as RFC 2822 allows: no weekday, a one-digit day, `+hhmm`/`-hhmm` offsets,
 * and the zone names `GMT`, `UT`, `UTC`, `Z`.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const RFC2822 =
  /^\s*(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+([+-]\d{4}|GMT|UTC?|Z)\s*$/i;

/** The instant a Quay API date names, or null when the text is not such a date. */
export function parseRfc2822(text: string): Date | null {
  const m = RFC2822.exec(text);
  if (!m) return null;
  const day = Number(m[1]);
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  const year = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6] ?? 0);
  if (month < 0 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  const zone = m[7]!;
  let offsetMin = 0;
  if (zone.startsWith('+') || zone.startsWith('-')) {
    const hh = Number(zone.slice(1, 3));
    const mm = Number(zone.slice(3, 5));
    if (hh > 23 || mm > 59) return null;
    offsetMin = (zone.startsWith('-') ? -1 : 1) * (hh * 60 + mm);
  }
  const at = new Date(0);
  at.setUTCFullYear(year, month, day);
  if (at.getUTCMonth() !== month || at.getUTCDate() !== day) return null;
  // A leap second (:60) reads as the next second's start, as Python's parsedate does.
  at.setUTCHours(hour, minute, 0, 0);
  return new Date(at.getTime() + second * 1000 - offsetMin * 60_000);
}
