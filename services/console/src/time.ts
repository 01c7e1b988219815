/** Dates: the API speaks UTC days (MM/DD/YYYY) or ISO-8601; the console shows UTC with local time on hover. */
const DAY = 86_400_000;
const pad = (n: number) => String(n).padStart(2, '0');

export type Preset = '24h' | '7d' | '30d' | '90d' | '1y' | 'custom';
export const PRESETS: { value: Preset; label: string }[] = [
  { value: '24h', label: '24 h' },
  { value: '7d', label: '7 d' },
  { value: '30d', label: '30 d' },
  { value: '90d', label: '90 d' },
  { value: '1y', label: '1 y' },
  { value: 'custom', label: 'Custom' },
];

/** A range of whole UTC days, both ends included, as `YYYY-MM-DD`. */
export interface DayRange {
  from: string;
  to: string;
}

export const isoDay = (d: Date) => d.toISOString().slice(0, 10);
export const todayUtc = () => isoDay(new Date());
const dayMs = (day: string) => Date.parse(`${day}T00:00:00Z`);

export function presetRange(p: Exclude<Preset, 'custom'>, now = new Date()): DayRange {
  const days = { '24h': 2, '7d': 7, '30d': 30, '90d': 90, '1y': 365 }[p];
  const to = isoDay(now);
  return { from: isoDay(new Date(dayMs(to) - (days - 1) * DAY)), to };
}

/** The same number of days just before the range. */
export function previousRange(r: DayRange): DayRange {
  const n = rangeDays(r);
  return { from: isoDay(new Date(dayMs(r.from) - n * DAY)), to: isoDay(new Date(dayMs(r.from) - DAY)) };
}

export function rangeDays(r: DayRange): number {
  return Math.round((dayMs(r.to) - dayMs(r.from)) / DAY) + 1;
}

export function daysOf(r: DayRange): string[] {
  const out: string[] = [];
  for (let t = dayMs(r.from); t <= dayMs(r.to); t += DAY) out.push(isoDay(new Date(t)));
  return out;
}

/** `YYYY-MM-DD` → Quay's `MM/DD/YYYY`. */
export function mdy(day: string): string {
  const [y, m, d] = day.split('-');
  return `${m}/${d}/${y}`;
}

/** starttime/endtime query parameters for a range. */
export function rangeQuery(r: DayRange): { starttime: string; endtime: string } {
  return { starttime: mdy(r.from), endtime: mdy(r.to) };
}

/** `2026-12-03 07:15:02 UTC`. */
export function utc(d: Date): string {
  return `${isoDay(d)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

export function local(d: Date): string {
  return `${d.toLocaleString()} (your time)`;
}

export function parseDate(s: string | null | undefined): Date | null {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : new Date(t);
}

export function ago(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}
