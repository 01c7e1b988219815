/**
 * Writes one export file in constant memory: rows stream out of ClickHouse in
 * bounded blocks (oldest first), each block is rendered and written with
 * backpressure (through gzip when asked), and the event loop gets a turn after
 * every block so BullMQ keeps renewing the job's lock.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import { aggregateUsageLogs, type ClickHouseStore, findAccounts, type LogFilter, USAGE_LOG_COLUMNS, whereFor } from '@quaylogs/clickhouse';
import type { AccountInfo, UsageLogRow } from '@quaylogs/core';
import type { ExportFileWriter } from '@quaylogs/delivery';
import { type DocumentDetails, EntryRenderer, type ExportFormat, formatterFor } from './exportFormats.ts';

export class GenerationTimeout extends Error {
  override name = 'GenerationTimeout';
}

export interface WriteExportOptions {
  store: ClickHouseStore;
  filter: LogFilter;
  format: ExportFormat;
  gzip: boolean;
  details: DocumentDetails;
  writer: ExportFileWriter;
  hashKind: 'local' | 'gravatar';
  /** Rows per block read from ClickHouse (ClickHouse's max_block_size). */
  chunkRows: number;
  /** Give up (GenerationTimeout) when writing takes longer than this. */
  deadline: number;
  /** Called after each block (progress, tests). */
  onChunk?: (rows: number) => void | Promise<void>;
}

/** Accounts (for avatars) of the performers seen so far, loaded block by block and bounded. */
class AccountCache {
  readonly map = new Map<string, AccountInfo>();
  private readonly looked = new Set<string>();

  constructor(private readonly store: ClickHouseStore) {}

  async load(rows: readonly UsageLogRow[]): Promise<void> {
    const missing = new Set<string>();
    for (const r of rows) if (r.performer !== '' && !this.looked.has(r.performer)) missing.add(r.performer);
    if (missing.size === 0) return;
    if (this.looked.size > 200_000) {
      this.looked.clear();
      this.map.clear();
    }
    const found = await findAccounts(this.store, missing);
    for (const name of missing) this.looked.add(name);
    for (const [name, info] of found) this.map.set(name, info);
  }
}

/** At most about this many rows are sorted by one query (a slice of the window). */
export const SLICE_ROWS = 25_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Cuts the window into consecutive slices of about SLICE_ROWS entries each, from the
 * exact per-day counts of the rollups: quiet days are merged, busy days are cut into
 * equal runs of hours. ClickHouse then sorts one slice at a time — with the embedded
 * engine the sort's memory is the exporter's own, so one ORDER BY over millions of
 * rows would grow the process by gigabytes.
 */
export async function exportSlices(store: ClickHouseStore, filter: LogFilter): Promise<{ start: Date; end: Date }[]> {
  const perDay = new Map<number, number>();
  for (const a of await aggregateUsageLogs(store, filter)) {
    const day = Date.parse(`${a.day}T00:00:00Z`);
    perDay.set(day, (perDay.get(day) ?? 0) + a.count);
  }
  const slices: { start: Date; end: Date }[] = [];
  let from = filter.start.getTime();
  let pending = 0;
  const endMs = filter.end.getTime();
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < endMs; day += DAY_MS) {
    const n = perDay.get(day) ?? 0;
    const dayStart = Math.max(day, filter.start.getTime());
    const dayEnd = Math.min(day + DAY_MS, endMs);
    if (n > SLICE_ROWS) {
      if (pending > 0) slices.push({ start: new Date(from), end: new Date(dayStart) });
      const parts = Math.min(24, Math.ceil(n / SLICE_ROWS));
      const step = Math.max(HOUR_MS, Math.ceil((dayEnd - dayStart) / parts / HOUR_MS) * HOUR_MS);
      for (let t = dayStart; t < dayEnd; t += step) slices.push({ start: new Date(t), end: new Date(Math.min(t + step, dayEnd)) });
      from = dayEnd;
      pending = 0;
    } else if (pending + n > SLICE_ROWS) {
      slices.push({ start: new Date(from), end: new Date(dayStart) });
      from = dayStart;
      pending = n;
    } else {
      pending += n;
    }
  }
  if (from < endMs) slices.push({ start: new Date(from), end: new Date(endMs) });
  return slices;
}

/** Streams the matching rows into the writer's stream; returns how many were written. */
export async function writeExport(opts: WriteExportOptions): Promise<{ rows: number }> {
  const fmt = formatterFor(opts.format, opts.details);
  const slices = await exportSlices(opts.store, opts.filter);
  const accounts = new AccountCache(opts.store);
  const renderer = new EntryRenderer(accounts.map, opts.hashKind);
  let rows = 0;

  async function* bytes(): AsyncGenerator<Buffer> {
    const head = fmt.head();
    if (head) yield Buffer.from(head);
    for (const slice of slices) {
    const where = whereFor({ ...opts.filter, start: slice.start, end: slice.end });
    const source = opts.store.stream<UsageLogRow>({
      name: 'exports.generate',
      sql: `SELECT ${USAGE_LOG_COLUMNS.join(', ')} FROM usage_logs WHERE ${where.sql} ORDER BY datetime, event_key`,
      params: where.params,
      // Bounded blocks; a slice that is still big sorts on disk rather than in memory.
      settings: { max_block_size: opts.chunkRows, max_bytes_before_external_sort: 32 * 1024 * 1024 },
    });
    for await (const block of source) {
      if (Date.now() > opts.deadline) throw new GenerationTimeout('the export took longer than allowed');
      for (let i = 0; i < block.length; i += opts.chunkRows) {
        const part = i === 0 && block.length <= opts.chunkRows ? block : block.slice(i, i + opts.chunkRows);
        await accounts.load(part);
        let text = '';
        for (const row of part) text += fmt.entry(row, renderer.render(row));
        rows += part.length;
        yield Buffer.from(text);
        await opts.onChunk?.(rows);
        await nextTurn();
      }
    }
    }
    const tail = fmt.tail();
    if (tail) yield Buffer.from(tail);
  }

  const source = Readable.from(bytes(), { objectMode: false, highWaterMark: 1 });
  if (opts.gzip) await pipeline(source, createGzip({ level: 6 }), opts.writer.stream);
  else await pipeline(source, opts.writer.stream);
  return { rows };
}
