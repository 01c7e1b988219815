/**
 * The demo's clock: maps row positions to monotonically increasing times in
 * [now − days, now), following a traffic curve (busy weekday afternoons UTC,
 * quiet nights and weekends, a slow growth over the window, a few CI storms),
 * and formats them as ClickHouse text (`YYYY-MM-DD HH:MM:SS.mmm`) without
 * building a Date per row.
 */
import type { Rng } from './rng.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const PAD2: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const SS_DOT: readonly string[] = PAD2.slice(0, 60).map((s) => s + '.');
/** Relative traffic by UTC hour of day: Europe's morning through America's afternoon. */
function diurnal(hour: number): number {
  const d = hour - 14.5;
  return 0.25 + Math.exp(-(d * d) / (2 * 4.5 * 4.5));
}

export class Timeline {
  readonly start: number;
  readonly end: number;
  /** Bucket j covers [bStart[j], bStart[j] + bLen[j]); buckets are whole UTC hours except the two ends. */
  private readonly bStart: Float64Array;
  private readonly bLen: Float64Array;
  private readonly hourFloor: Float64Array;
  /** cum[j] = share of all traffic before bucket j; cum[n] = 1. */
  private readonly cum: Float64Array;
  private readonly prefix: string[];
  private readonly n: number;
  private cursor = 0;
  /** Bucket of the last `timeAt` call, and its 60 `YYYY-MM-DD HH:MM:` prefixes. */
  private lastBucket = 0;
  private minutesOf = -1;
  private readonly minutes: string[] = new Array<string>(60);

  constructor(now: number, days: number, rng: Rng) {
    this.end = now;
    this.start = now - Math.round(days * DAY);
    const firstHour = Math.floor(this.start / HOUR) * HOUR;
    const n = Math.max(1, Math.ceil((this.end - firstHour) / HOUR));
    this.n = n;
    this.bStart = new Float64Array(n);
    this.bLen = new Float64Array(n);
    this.hourFloor = new Float64Array(n);
    this.cum = new Float64Array(n + 1);
    this.prefix = new Array<string>(n);

    // A few "CI storm" hours with several times the usual traffic.
    const storms = new Set<number>();
    const stormCount = Math.min(n, 1 + Math.floor(days / 20));
    for (let s = 0; s < stormCount; s++) storms.add(rng.int(n));
    // Day-to-day noise (±15 %), one factor per calendar day.
    const dayNoise = new Map<number, number>();

    let total = 0;
    const weights = new Float64Array(n);
    const span = Math.max(1, this.end - this.start);
    for (let j = 0; j < n; j++) {
      const h0 = firstHour + j * HOUR;
      const s = Math.max(h0, this.start);
      const e = Math.min(h0 + HOUR, this.end);
      this.hourFloor[j] = h0;
      this.bStart[j] = s;
      this.bLen[j] = Math.max(0, e - s);
      const date = new Date(h0);
      const iso = date.toISOString(); // 2024-06-18T18:00:00.000Z
      this.prefix[j] = `${iso.slice(0, 10)} ${iso.slice(11, 14)}`;
      const dayNo = Math.floor(h0 / DAY);
      let noise = dayNoise.get(dayNo);
      if (noise === undefined) {
        noise = 0.85 + 0.3 * rng.float();
        dayNoise.set(dayNo, noise);
      }
      const wd = date.getUTCDay();
      const weekend = wd === 0 || wd === 6 ? 0.35 : 1;
      const progress = (s - this.start) / span;
      const growth = 0.75 + 0.5 * progress;
      const storm = storms.has(j) ? 4 : 1;
      const w = diurnal(date.getUTCHours()) * weekend * noise * growth * storm * this.bLen[j]!;
      weights[j] = w;
      total += w;
    }
    let acc = 0;
    for (let j = 0; j < n; j++) {
      this.cum[j] = total > 0 ? acc / total : j / n;
      acc += weights[j]!;
    }
    this.cum[n] = 1;
  }

  /**
   * Time (ms) for a quantile u in [0, 1). Calls must come with non-decreasing
   * u (the generator walks forward), which keeps the bucket search O(1).
   */
  timeAt(u: number): number {
    const cum = this.cum;
    let j = this.cursor;
    while (j < this.n - 1 && u >= cum[j + 1]!) j++;
    this.cursor = j;
    const lo = cum[j]!;
    const width = cum[j + 1]! - lo;
    let frac = width > 0 ? (u - lo) / width : 0;
    if (frac < 0) frac = 0;
    const len = this.bLen[j]!;
    let off = Math.floor(frac * len);
    if (off >= len) off = len - 1;
    if (off < 0) off = 0;
    this.lastBucket = j;
    return this.bStart[j]! + off;
  }

  /** ClickHouse text of the time returned by the last `timeAt` call. */
  formatLast(t: number): string {
    const j = this.lastBucket;
    if (this.minutesOf !== j) {
      for (let m = 0; m < 60; m++) this.minutes[m] = this.prefix[j]! + PAD2[m]! + ':';
      this.minutesOf = j;
    }
    let x = t - this.hourFloor[j]!;
    const mm = Math.floor(x / 60000);
    x -= mm * 60000;
    const ss = Math.floor(x / 1000);
    return this.minutes[mm]! + SS_DOT[ss]! + PAD3[x - ss * 1000]!;
  }
}

/** ClickHouse text of any epoch-ms time (slow path, for tests and odd cases). */
export function formatClickHouse(t: number): string {
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}
