/**
 * Event keys for imported entries (docs/architecture.md "Event identity"): content hash plus the
 * ordinal among identical entries of the same second. An entry's ordinal counts the
 * identical entries that come before it in the source's own order (Quay's row id), so
 * it never depends on how the import was cut into batches, and entries appended later
 * never change the keys of earlier ones.
 */
import { contentKey, toChDateTime, type UsageLogRow } from '@quaylogs/core';
import type { ContentKeyPool } from './contentKeys.ts';

export type UnkeyedRow = Omit<UsageLogRow, 'event_key'>;

/**
 * Keys `batch` (in source order) given `before`: every entry that precedes the batch in
 * source order and falls in a second the batch touches (other entries may be included;
 * they change nothing). The same entries always get the same keys. The batch's rows are
 * keyed in place and returned.
 */
export async function keyAfter(pool: ContentKeyPool, before: readonly UnkeyedRow[], batch: UnkeyedRow[]): Promise<UsageLogRow[]> {
  const keys = await pool.keys(before.length === 0 ? batch : [...before, ...batch]);
  // The batch's rows are the caller's own: keyed in place rather than copied (GC).
  for (let i = 0; i < batch.length; i++) (batch[i] as UsageLogRow).event_key = keys[before.length + i]!;
  return batch as UsageLogRow[];
}

/**
 * Keys a stream of entries one at a time (files: no ids, no way to look back). Counts
 * identical entries per second; seconds more than `windowS` behind the latest second seen
 * are forgotten, so memory stays bounded on files of any size. Entries that arrive later
 * than that for a forgotten second are counted from zero again (`late` counts them).
 */
export class StreamKeyer {
  private readonly counts = new Map<string, number>();
  private readonly seconds = new Map<string, string[]>();
  private latest = '';
  private forgottenBefore = '';
  private sinceSweep = 0;
  late = 0;

  constructor(private readonly windowS = 3600) {}

  key(row: UnkeyedRow): UsageLogRow {
    const second = row.datetime.slice(0, 19);
    if (second > this.latest) this.latest = second;
    if (second < this.forgottenBefore) this.late++;
    const first = contentKey(row, 0);
    const ordinal = this.counts.get(first) ?? 0;
    this.counts.set(first, ordinal + 1);
    if (ordinal === 0) {
      const list = this.seconds.get(second);
      if (list) list.push(first);
      else this.seconds.set(second, [first]);
    }
    if (++this.sinceSweep >= 10_000) this.sweep();
    return { ...row, event_key: ordinal === 0 ? first : contentKey(row, ordinal) };
  }

  private sweep(): void {
    this.sinceSweep = 0;
    const cutoffMs = Date.parse(`${this.latest.replace(' ', 'T')}Z`) - this.windowS * 1000;
    const cutoff = toChDateTime(new Date(cutoffMs)).slice(0, 19);
    for (const [second, keys] of this.seconds) {
      if (second >= cutoff) continue;
      for (const k of keys) this.counts.delete(k);
      this.seconds.delete(second);
    }
    if (cutoff > this.forgottenBefore) this.forgottenBefore = cutoff;
  }
}
