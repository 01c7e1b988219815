/**
 * `quaylogs import file <path> [--quay-db URL]`: imports a file of Quay usage logs.
 *
 * Recognised from the content (gzip by its magic bytes, whatever the name):
 * - Quay's export document (docs/compatibility.md): `{"export_id", "details", "logs": [...,
 *   {"terminator": true}]}`; entries in the API's shape, namespace from `details`;
 * - a log-rotation archive: a JSON array of rows with numeric ids, resolved through
 *   Quay's database (`quayDbUrl`, the CLI's `--quay-db`), which is then required;
 * - NDJSON of our own export format: one API-shaped entry per line.
 *
 * The file is streamed: only one batch of entries is held at a time. Event keys are
 * content hashes with the ordinal among identical entries of the same second in file
 * order (StreamKeyer), so importing the same file again adds nothing. A checkpoint (per
 * source and file content) records how many entries are in the stream: an interrupted
 * import resumes there (earlier entries are read and keyed again, not re-sent).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { AccountInfo, UsageLogRow } from '@quaylogs/core';
import { type ClickHouseStore, getImportCheckpoint, putImportCheckpoint } from '@quaylogs/clickhouse';
import type { Redis } from '@quaylogs/queue';
import type pg from 'pg';
import { StreamKeyer } from './eventKeys.ts';
import { elementKind, recordFromRotationRow, rowFromApiEntry, withKey, type ApiRow } from './fileEntries.ts';
import { type ImportProgress, importerHandOff, ProgressMeter } from './handOff.ts';
import type { ImportResult } from './importQuayDb.ts';
import { JsonShapeError, JsonSplitter, type JsonItem } from './jsonSplitter.ts';
import { accountOf, connectQuayDb, ImportError, QuayNames } from './quayDb.ts';
import { type QuayLogRecord, rowFromRecord } from './quayRows.ts';

export type ImportFileFormat = 'quay-export' | 'rotation-archive' | 'ndjson';

export interface ImportFileOptions {
  path: string;
  redis: Redis;
  /** Where the file's checkpoint is kept (entries handed off so far, per source and file). */
  store: ClickHouseStore;
  /** `source` of every imported row. Default `quay`. */
  source?: string;
  /** Quay's PostgreSQL database: required for rotation archives, used for account e-mails otherwise. */
  quayDbUrl?: string;
  onProgress?: (p: ImportProgress) => void;
  /** Stops after the batch in hand; the result then says `completed: false`. */
  signal?: AbortSignal;
  /** Ignore the file's checkpoint and hand off every entry again (keys keep this idempotent). */
  restart?: boolean;
  /** Entries per hand-off (default 5000). */
  batchRows?: number;
  /** See HandOffOptions.maxBacklog. */
  maxBacklog?: number;
  /** Minimum time between checkpoint writes (default 2000 ms). */
  checkpointEveryMs?: number;
}

export interface ImportFileResult extends ImportResult {
  format: ImportFileFormat;
  gzip: boolean;
  /** The export's id (Quay export documents). */
  exportId?: string;
  /** Entries a previous run had handed off (not sent again). */
  resumedAfter: number;
  /** Entries of an already-forgotten second (more than an hour out of order) keyed from ordinal 0. */
  lateEntries: number;
}

/** One log entry of the file, numbered in file order. */
type Pending = { seq: number; offset: number } & ({ api: ApiRow } | { rotation: QuayLogRecord });

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The gzip flag and a fingerprint naming the file's content in checkpoints (size + hash of its first MiB). */
async function inspect(path: string, size: number): Promise<{ gzip: boolean; fingerprint: string }> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, 1 << 20));
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const gzip = bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b;
    const hash = createHash('sha256').update(head.subarray(0, bytesRead)).digest('hex').slice(0, 32);
    return { gzip, fingerprint: `file:${size}:${hash}` };
  } finally {
    await fh.close();
  }
}

export async function importFile(opts: ImportFileOptions): Promise<ImportFileResult> {
  const { path } = opts;
  const source = opts.source ?? 'quay';
  if (source.trim() === '') throw new ImportError('source must not be empty');
  const batchRows = opts.batchRows ?? 5000;
  if (!Number.isSafeInteger(batchRows) || batchRows < 1 || batchRows > 100_000) {
    throw new ImportError(`batchRows must be an integer from 1 to 100000, got ${batchRows}`);
  }
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ImportError(`${path} is not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof ImportError) throw err;
    throw new ImportError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const { gzip, fingerprint } = await inspect(path, size);
  const cpKey = { source, target: fingerprint, table: 'file' };
  const cp = opts.restart ? null : await getImportCheckpoint(opts.store, cpKey);
  const resumeAfter = cp?.lastId ?? 0;

  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const input = gzip ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (err) => input.destroy(err));
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const splitter = new JsonSplitter();
  const keyer = new StreamKeyer();
  const meter = new ProgressMeter(0, opts.onProgress);
  const handOff = importerHandOff(opts, source, meter);
  const result: ImportFileResult = {
    format: 'ndjson', gzip, rows: 0, skipped: 0, skippedExamples: [], completed: true, resumedAfter: resumeAfter, lateEntries: 0,
  };

  let db: pg.Client | undefined;
  let names: QuayNames | undefined;
  const resolverFor = async (): Promise<QuayNames | undefined> => {
    if (names || opts.quayDbUrl === undefined) return names;
    db = await connectQuayDb(opts.quayDbUrl);
    names = await QuayNames.load(db);
    return names;
  };

  let exportNamespace: string | undefined;
  let sawLogs = false;
  let pending: Pending[] = [];
  let seq = 0;
  let handedOff = resumeAfter; // entries (by seq) whose rows are all in the stream
  let saved = resumeAfter;
  let lastSave = Date.now();
  const save = async () => {
    if (handedOff === saved) return;
    await putImportCheckpoint(opts.store, { ...cpKey, lastId: handedOff, rows: (cp?.rows ?? 0) + result.rows });
    saved = handedOff;
    lastSave = Date.now();
  };

  const skip = (why: string, offset: number) => {
    result.skipped++;
    if (result.skippedExamples.length < 5) result.skippedExamples.push(`entry at character ${offset}: ${why}`);
  };

  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const last = batch[batch.length - 1]!.seq;
    const accounts = new Map<string, AccountInfo>();
    const resolver = await resolverFor();
    if (resolver) {
      const ids: (number | null)[] = [];
      const repoIds: (number | null)[] = [];
      const byName: string[] = [];
      for (const p of batch) {
        if ('rotation' in p) {
          ids.push(p.rotation.account_id, p.rotation.performer_id);
          repoIds.push(p.rotation.repository_id);
        } else if (p.seq > resumeAfter) {
          byName.push(p.api.row.namespace, p.api.row.performer);
        }
      }
      await resolver.prefetch(ids, repoIds);
      await resolver.prefetchByName(byName);
    }
    const rows: UsageLogRow[] = [];
    for (const p of batch) {
      // Entries a previous run handed off are still keyed: ordinals count them.
      const send = p.seq > resumeAfter;
      if ('rotation' in p) {
        const row = rowFromRecord(p.rotation, resolver!, source, send ? accounts : undefined);
        if (typeof row === 'string') {
          if (send) skip(row, p.offset);
          continue;
        }
        const keyed = keyer.key(row);
        if (send) rows.push(keyed);
      } else {
        const keyed = withKey(p.api, (r) => keyer.key(r));
        if (!send) continue;
        rows.push(keyed);
        for (const name of resolver ? [keyed.namespace, keyed.performer] : []) {
          const u = name === '' ? null : resolver!.userByName(name);
          if (u) accounts.set(u.username, accountOf(u));
        }
      }
    }
    if (last > resumeAfter) {
      await handOff.send(rows, handOff.newAccounts(accounts.values()));
      result.rows += rows.length;
      handedOff = last;
      if (Date.now() - lastSave >= (opts.checkpointEveryMs ?? 2000)) await save();
    }
    const fraction = size > 0 ? raw.bytesRead / size : 1;
    if (fraction > 0) meter.total = Math.round((result.rows + result.skipped) / Math.min(1, fraction)) || 0;
    meter.add(rows.length, true);
  };

  const entry = (offset: number, body: { api: ApiRow } | { rotation: QuayLogRecord }) => {
    pending.push({ seq: ++seq, offset, ...body });
  };

  const apiEntry = (value: unknown, item: JsonItem, namespace?: string) => {
    const row = rowFromApiEntry(value, { source, namespace });
    if ('invalid' in row) throw entryError(path, item, row.invalid);
    if ('skip' in row) {
      ++seq;
      if (seq > resumeAfter) skip(row.skip, item.offset);
      return;
    }
    entry(item.offset, { api: row });
  };

  const handle = (item: JsonItem) => {
    let value: unknown;
    try {
      value = JSON.parse(item.text);
    } catch (err) {
      throw new ImportError(`${path}: invalid JSON at character ${item.offset}: ${(err as Error).message}`);
    }
    const shape = splitter.shape;
    if (shape === 'export') {
      result.format = 'quay-export';
      if (item.key === 'export_id') {
        if (typeof value === 'string' || typeof value === 'number') result.exportId = String(value);
      } else if (item.key === 'details') {
        if (isObject(value) && typeof value.namespace === 'string' && value.namespace !== '') exportNamespace = value.namespace;
      } else if (item.key === 'logs') {
        sawLogs = true;
        if (!(isObject(value) && value.terminator === true)) apiEntry(value, item, exportNamespace);
      }
      return;
    }
    if (shape === 'values') {
      result.format = 'ndjson';
      apiEntry(value, item);
      return;
    }
    // A top-level array: rotation rows (ids), or API entries.
    const kind = elementKind(value);
    if (kind === 'rotation') {
      result.format = 'rotation-archive';
      if (opts.quayDbUrl === undefined) {
        throw new ImportError(
          `${path} is a Quay log-rotation archive: its rows name kinds, accounts and repositories by numeric id. ` +
            "Pass --quay-db <postgres-url> (Quay's database) so they can be resolved.",
        );
      }
      const rec = recordFromRotationRow(value);
      if (typeof rec === 'string') throw entryError(path, item, rec);
      entry(item.offset, { rotation: rec });
    } else if (kind === 'api') {
      result.format = 'quay-export';
      apiEntry(value, item);
    } else {
      throw entryError(path, item, 'neither a log-rotation row (kind_id, account_id, …) nor a log entry (kind, datetime, …)');
    }
  };

  const take = async (items: JsonItem[]) => {
    for (const item of items) {
      handle(item);
      if (pending.length >= batchRows) await flush();
    }
  };

  let failed = false;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (opts.signal?.aborted) {
        result.completed = false;
        break;
      }
      await take(splitter.push(decoder.decode(chunk, { stream: true })));
    }
    if (result.completed) {
      await take(splitter.push(decoder.decode()));
      await take(splitter.end());
      if (splitter.shape === 'export' && !sawLogs) throw new ImportError(`${path}: the export document has no "logs" array`);
      await flush();
    }
  } catch (err) {
    if (opts.signal?.aborted && !(err instanceof ImportError)) {
      result.completed = false;
    } else {
      failed = true;
      throw describeError(path, gzip, err);
    }
  } finally {
    raw.destroy();
    await db?.end().catch(() => undefined);
    try {
      await save();
    } catch (err) {
      // eslint-disable-next-line no-unsafe-finally -- deliberate: a failed save surfaces unless an earlier error already does
      if (!failed) throw err;
    }
  }
  result.lateEntries = keyer.late;
  meter.total = result.rows;
  meter.report(true);
  return result;
}

function entryError(path: string, item: JsonItem, why: string): ImportError {
  return new ImportError(`${path}: entry at character ${item.offset}: ${why}`);
}

function describeError(path: string, gzip: boolean, err: unknown): Error {
  if (err instanceof ImportError) return err;
  if (err instanceof JsonShapeError) {
    return new ImportError(`${path} is not a Quay export document, log-rotation archive or NDJSON log file: ${err.message}`);
  }
  const e = err as NodeJS.ErrnoException;
  if (e instanceof TypeError && /encoded data was not valid|invalid/i.test(e.message) && (e as { code?: string }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') {
    return new ImportError(`${path} is not UTF-8 text${gzip ? ' (after gunzip)' : ''}, so not a log file`);
  }
  if (gzip && typeof e.code === 'string' && e.code.startsWith('Z_')) {
    return new ImportError(`${path} is a damaged or truncated gzip file: ${e.message}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}
