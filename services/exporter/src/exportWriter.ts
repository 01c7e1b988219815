/**
 * Writes one export file in bounded memory: ClickHouse renders the entries (exportSql.ts),
 * oldest first, in one statement per slice of the window, streamed out chunk by chunk; the
 * exporter writes the bytes with backpressure (through gzip when asked).
 */
import { isAscii } from 'node:buffer';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import { aggregateUsageLogs, type ClickHouseStore, findAccounts, type LogFilter, type Params, whereFor } from '@quaylogs/clickhouse';
import { type AccountInfo, NO_EXTENDED_FIELDS, type UsageLogRow } from '@quaylogs/core';
import type { ExportFileWriter } from '@quaylogs/delivery';
import { asciiJson, csvField, type DocumentDetails, EntryRenderer, type ExportFormat, type Formatter, formatterFor } from './exportFormats.ts';
import { type FallbackFields, renderedEntrySql, renderParams } from './exportSql.ts';
import { RowFrames } from './rowFrames.ts';

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
  /** Rows per block ClickHouse works on (its max_block_size). */
  chunkRows: number;
  /** Give up (GenerationTimeout) when writing takes longer than this. */
  deadline: number;
  /** Entries between two progress reports (default PAGE_ROWS; tests use small pages to cross many boundaries). */
  pageRows?: number;
  /** Called after every `pageRows` entries and after the last (progress, tests). */
  onChunk?: (rows: number) => void | Promise<void>;
}

/** The accounts (kind, e-mail) of performers, looked up once each. */
class AccountLoader {
  readonly map = new Map<string, AccountInfo>();
  private readonly looked = new Set<string>();

  constructor(private readonly store: ClickHouseStore) {}

  async load(names: readonly string[]): Promise<void> {
    const missing = names.filter((n) => n !== '' && !this.looked.has(n));
    if (missing.length === 0) return;
    for (let i = 0; i < missing.length; i += 10_000) {
      const part = missing.slice(i, i + 10_000);
      for (const [name, info] of await findAccounts(this.store, part)) this.map.set(name, info);
      for (const name of part) this.looked.add(name);
    }
  }
}

/** About this many rows per slice when the window cannot be read in order (see writeExport). */
export const SLICE_ROWS = 80_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Cuts the window into consecutive slices of about SLICE_ROWS entries each, from the
 * exact per-day counts of the rollups: quiet days are merged, busy days are cut into
 * equal runs of hours. When the engine cannot read the window in key order, each
 * statement then sorts one slice, not the rest of the window.
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

/** Entries per progress report (`onChunk`), and per keyset page of `exportPages`. */
export const PAGE_ROWS = 20_000;

/** The position after the last entry of a keyset page: the next page starts strictly after it. */
export interface Cursor {
  datetime: string;
  eventKey: string;
}

/**
 * Every performer of the window rendered once, as the Node renderer renders it: the JSON
 * of the performer object (json, ndjson) or the CSV `performer,performer_is_robot` fields.
 * A performer whose text could not be spliced into the engine's output (a NUL in a CSV
 * field) is left out, so its rows take the Node path.
 */
async function performerTexts(
  store: ClickHouseStore,
  filter: LogFilter,
  format: ExportFormat,
  renderer: EntryRenderer,
  accounts: AccountLoader,
): Promise<{ names: string[]; texts: string[] }> {
  const where = whereFor(filter);
  const found = await store.query<{ performer: string }>({
    name: 'exports.performers',
    sql: `SELECT DISTINCT performer FROM usage_logs WHERE ${where.sql} AND performer != ''`,
    params: where.params,
  });
  await accounts.load(found.map((r) => r.performer));
  // transform() needs non-empty arrays; '' is never looked up (rows without a performer have no object).
  const names = [''];
  const texts = [''];
  for (const { performer } of found) {
    const obj = renderer.performer(performer);
    const text = format === 'csv' ? `${csvField(obj.name)},${obj.is_robot}` : JSON.stringify(obj);
    if (text.includes('\0')) continue;
    names.push(performer);
    texts.push(text);
  }
  return { names, texts };
}

const FALLBACK_ROW: UsageLogRow = {
  source: '', namespace: '', repository: '', kind: '', performer: '', ip: '', datetime: '', metadata: '', event_key: '0', ...NO_EXTENDED_FIELDS,
};

/**
 * Streams the matching entries into the writer's stream; returns how many were written.
 *
 * Each slice of the window is one statement that renders every entry, oldest first
 * (`ORDER BY datetime, event_key`), each as its final bytes (exportSql.ts), streamed out of
 * the engine chunk by chunk (`streamRaw`, RowBinary so each entry's end is known) and written
 * with backpressure: memory is a chunk and the engine's work on the slice, never a page or
 * the result. With a fixed namespace the engine reads the window in key order, so the whole
 * window is one slice and one statement; without one (a superuser export) the window is cut
 * into slices of about SLICE_ROWS entries from the rollups' day counts, so the engine sorts a
 * slice at a time. Progress (`onChunk`) is reported after every `pageRows` entries written,
 * and after the last.
 */
export async function writeExport(opts: WriteExportOptions): Promise<{ rows: number }> {
  const fmt = formatterFor(opts.format, opts.details);
  const filter = opts.filter;
  const accounts = new AccountLoader(opts.store);
  const renderer = new EntryRenderer(accounts.map, opts.hashKind);
  const performers = await performerTexts(opts.store, filter, opts.format, renderer, accounts);
  const rendered = renderedEntrySql(opts.format);
  const fixedParams = { ...renderParams(opts.format), performer_names: performers.names, performer_texts: performers.texts };
  const settings = pageSettings(filter, opts.chunkRows);
  const pageRows = opts.pageRows ?? PAGE_ROWS;
  const asciiOnly = opts.format === 'json';
  const slices = readsInOrder(filter) ? [{ start: filter.start, end: filter.end }] : await exportSlices(opts.store, filter);
  let rows = 0;
  const text = (b: Buffer): Buffer => (asciiOnly && !isAscii(b) ? Buffer.from(asciiJson(b.toString('utf8'))) : b);

  async function* bytes(): AsyncGenerator<Buffer> {
    const head = fmt.head();
    if (head) yield Buffer.from(head);
    for (const slice of slices) {
      if (Date.now() > opts.deadline) throw new GenerationTimeout('the export took longer than allowed');
      const where = whereFor({ ...filter, start: slice.start, end: slice.end });
      const frames = new RowFrames();
      const chunks = opts.store.streamRaw({
        name: 'exports.slice',
        sql: `WITH ${rendered.with} SELECT ${rendered.text} FROM usage_logs WHERE ${where.sql} ORDER BY datetime, event_key`,
        params: { ...where.params, ...fixedParams },
        settings,
        format: 'RowBinary',
      });
      for await (const chunk of chunks) {
        if (Date.now() > opts.deadline) throw new GenerationTimeout('the export took longer than allowed');
        const { bodies, ends } = frames.push(chunk);
        // Consecutive entries the engine rendered go out as one slice of `bodies`; a row it
        // left to Node (a NUL-delimited record of its fields) is rendered here.
        let from = 0;
        for (let i = 0, start = 0; i < ends.length; start = ends[i]!, i++) {
          const end = ends[i]!;
          if (bodies[start] === 0) {
            if (start > from) yield text(bodies.subarray(from, start));
            from = end;
            yield Buffer.from(await fallbackEntry(bodies.toString('utf8', start + 1, end - 1), fmt, renderer, accounts));
          }
          if (++rows % pageRows === 0) {
            if (end > from) yield text(bodies.subarray(from, end));
            from = end;
            await opts.onChunk?.(rows);
            await nextTurn();
          }
        }
        const last = ends.length > 0 ? ends[ends.length - 1]! : 0;
        if (last > from) yield text(bodies.subarray(from, last));
      }
      frames.finish();
    }
    if (rows % pageRows !== 0) await opts.onChunk?.(rows);
    const tail = fmt.tail();
    if (tail) yield Buffer.from(tail);
  }

  const out = Readable.from(bytes(), { objectMode: false, highWaterMark: 1 });
  if (opts.gzip) await pipeline(out, createGzip({ level: 6 }), opts.writer.stream);
  else await pipeline(out, opts.writer.stream);
  return { rows };
}

/** The entry of a row the engine left to Node, from the fields it sent (FALLBACK in exportSql.ts). */
async function fallbackEntry(fields: string, fmt: Formatter, renderer: EntryRenderer, accounts: AccountLoader): Promise<string> {
  const [kind, performer, ip, datetime, metadata, namespace, repository] = JSON.parse(fields) as FallbackFields;
  const row: UsageLogRow = { ...FALLBACK_ROW, kind, performer, ip, datetime, metadata, namespace, repository };
  if (performer !== '') await accounts.load([performer]);
  return fmt.entry(row, renderer.render(row));
}

/** usage_logs is ordered by (namespace, datetime, event_key): with the namespace fixed, the engine reads the window in key order. */
const readsInOrder = (filter: LogFilter): boolean => filter.namespace !== undefined;

/** The engine settings of an export's statements. */
export function pageSettings(filter: LogFilter, chunkRows: number): Record<string, number> {
  // In key order a window is one contiguous run of granules: a second read thread only splits
  // it and adds a merge of the two halves. Interleaved A/B on a 2M-row store (keyset pages
  // then): as fast on a quiet machine (6 pairs, medians 1.42 s both), faster when the cores
  // are shared (4 of 4 pairs at load 12–17), and a page of rendered text held about a third
  // less memory. A superuser slice is sorted, where two threads may help.
  // read_in_order_use_buffering=0: reading in order, the engine otherwise buffers rendered
  // blocks ahead for every part it merges; a 209k-row namespace export (100 MB of text, nine
  // parts) peaked 55-65 MB higher with it, and was no faster.
  return readsInOrder(filter) ? { max_block_size: chunkRows, max_threads: 1, read_in_order_use_buffering: 0 } : { max_block_size: chunkRows };
}

/** One keyset page: the slice's condition, the position it starts after, its entry count and last key. */
export interface ExportPage {
  where: { sql: string; params: Params };
  after: { sql: string; params: Params };
  n: number;
  last: Cursor;
}

/**
 * The window's keyset pages, oldest first, found by the narrow bound statement alone (count
 * and last key of the next `pageRows` keys): E2's floor (test/bench/exportChild.ts) walks them,
 * the cheapest read that still visits every entry of the export in order. With the namespace
 * fixed a page costs its own rows, however long the window; otherwise the window is cut into
 * slices first (exportSlices) and paged slice by slice.
 */
export async function* exportPages(opts: {
  store: ClickHouseStore;
  filter: LogFilter;
  chunkRows: number;
  pageRows: number;
  deadline: number;
}): AsyncGenerator<ExportPage> {
  const { store, filter, pageRows } = opts;
  const slices = readsInOrder(filter) ? [{ start: filter.start, end: filter.end }] : await exportSlices(store, filter);
  const settings = pageSettings(filter, opts.chunkRows);
  for (const slice of slices) {
    const where = whereFor({ ...filter, start: slice.start, end: slice.end });
    let cursor: Cursor | null = null;
    for (;;) {
      if (Date.now() > opts.deadline) throw new GenerationTimeout('the export took longer than allowed');
      const after: { sql: string; params: Params } = cursor
        ? {
            sql: ` AND datetime >= {after_time:DateTime64(3, 'UTC')} AND (datetime, event_key) > ({after_time:DateTime64(3, 'UTC')}, {after_key:UInt128})`,
            params: { after_time: cursor.datetime, after_key: cursor.eventKey },
          }
        : { sql: '', params: {} };
      const [bound] = await store.query<{ n: string; last_time: string; last_key: string }>({
        name: 'exports.pageBound',
        sql: `SELECT count() AS n, toString(max(datetime)) AS last_time, toString(argMax(event_key, (datetime, event_key))) AS last_key
              FROM (SELECT datetime, event_key FROM usage_logs WHERE ${where.sql}${after.sql}
                    ORDER BY datetime, event_key LIMIT {page_rows:UInt32})`,
        params: { ...where.params, ...after.params, page_rows: pageRows },
        settings,
      });
      const n = Number(bound?.n ?? 0);
      if (n === 0) break;
      const last = { datetime: bound!.last_time, eventKey: bound!.last_key };
      yield { where, after, n, last };
      if (n < pageRows) break;
      cursor = last;
    }
  }
}
