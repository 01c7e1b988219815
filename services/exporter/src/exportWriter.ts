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
import { type ClickHouseStore, findAccounts, type LogFilter, USAGE_LOG_COLUMNS, whereFor } from '@quaylogs/clickhouse';
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

/** Streams the matching rows into the writer's stream; returns how many were written. */
export async function writeExport(opts: WriteExportOptions): Promise<{ rows: number }> {
  const fmt = formatterFor(opts.format, opts.details);
  const where = whereFor(opts.filter);
  const accounts = new AccountCache(opts.store);
  const renderer = new EntryRenderer(accounts.map, opts.hashKind);
  let rows = 0;

  async function* bytes(): AsyncGenerator<Buffer> {
    const head = fmt.head();
    if (head) yield Buffer.from(head);
    const source = opts.store.stream<UsageLogRow>({
      name: 'exports.generate',
      sql: `SELECT ${USAGE_LOG_COLUMNS.join(', ')} FROM usage_logs WHERE ${where.sql} ORDER BY datetime, event_key`,
      params: where.params,
      // Bounded blocks; a big window sorts on disk rather than in memory.
      settings: { max_block_size: opts.chunkRows, max_bytes_before_external_sort: 256 * 1024 * 1024 },
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
    const tail = fmt.tail();
    if (tail) yield Buffer.from(tail);
  }

  const source = Readable.from(bytes(), { objectMode: false, highWaterMark: 1 });
  if (opts.gzip) await pipeline(source, createGzip({ level: 6 }), opts.writer.stream);
  else await pipeline(source, opts.writer.stream);
  return { rows };
}
