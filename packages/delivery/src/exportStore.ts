/**
 * Where export files live. The interface is what the exporter writes through and
 * the download route reads through, so object storage can replace the local
 * directory later. A file becomes visible only when it is complete (written to a
 * `.part` file, then renamed), so a crash never leaves a half file under a real id.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

export interface StoredFile {
  fileId: string;
  size: number;
  modified: Date;
}

export interface ExportFileWriter {
  /** Write the file's bytes here (respect backpressure); then `commit` or `abort`. */
  readonly stream: Writable;
  /** Makes the file visible under its id; resolves with its size. */
  commit(): Promise<StoredFile>;
  /** Drops what was written. */
  abort(): Promise<void>;
}

export interface ExportStore {
  /** Starts a new file. Any earlier partial file of the same id is discarded. */
  create(fileId: string): Promise<ExportFileWriter>;
  stat(fileId: string): Promise<StoredFile | null>;
  /** The file's bytes, or null when it does not exist. */
  open(fileId: string): Promise<{ stream: Readable; size: number } | null>;
  remove(fileId: string): Promise<void>;
  /** Every complete file (for cleanup). */
  list(): Promise<StoredFile[]>;
}

const FILE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$/;

export function isValidFileId(fileId: string): boolean {
  return FILE_ID.test(fileId);
}

function checkId(fileId: string): void {
  if (!isValidFileId(fileId)) throw new RangeError(`invalid export file id ${JSON.stringify(fileId)}`);
}

/** Files under one directory (QUAYLOGS_DATA_DIR/exports): `<id>` complete, `<id>.part` being written. */
export class LocalExportStore implements ExportStore {
  constructor(readonly dir: string) {}

  private path(fileId: string): string {
    checkId(fileId);
    return join(this.dir, fileId);
  }

  async create(fileId: string): Promise<ExportFileWriter> {
    const final = this.path(fileId);
    const part = `${final}.part`;
    await mkdir(this.dir, { recursive: true });
    await rm(part, { force: true });
    const stream = createWriteStream(part, { flags: 'w', mode: 0o600 });
    let done = false;
    return {
      stream,
      async commit() {
        if (done) throw new Error('export file already committed or aborted');
        done = true;
        if (!stream.writableFinished) {
          if (!stream.writableEnded) stream.end();
          await finished(stream);
        }
        // On disk before it gets its real name: a crash leaves either nothing or the whole file.
        const handle = await open(part, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(part, final);
        const s = await stat(final);
        return { fileId, size: s.size, modified: s.mtime };
      },
      async abort() {
        if (done) return;
        done = true;
        stream.destroy();
        await rm(part, { force: true });
      },
    };
  }

  async stat(fileId: string): Promise<StoredFile | null> {
    try {
      const s = await stat(this.path(fileId));
      return s.isFile() ? { fileId, size: s.size, modified: s.mtime } : null;
    } catch {
      return null;
    }
  }

  async open(fileId: string): Promise<{ stream: Readable; size: number } | null> {
    const found = await this.stat(fileId);
    if (!found) return null;
    return { stream: createReadStream(this.path(fileId)), size: found.size };
  }

  async remove(fileId: string): Promise<void> {
    await rm(this.path(fileId), { force: true });
  }

  async list(): Promise<StoredFile[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: StoredFile[] = [];
    for (const name of names) {
      if (!isValidFileId(name)) continue;
      const found = await this.stat(name);
      if (found) out.push(found);
    }
    return out;
  }
}

/** The local store under a data directory. */
export function localExportStore(dataDir: string): LocalExportStore {
  return new LocalExportStore(join(dataDir, 'exports'));
}

const EXPORT_TYPES = {
  json: { extension: 'json', contentType: 'application/json' },
  ndjson: { extension: 'ndjson', contentType: 'application/x-ndjson' },
  csv: { extension: 'csv', contentType: 'text/csv; charset=utf-8' },
} as const;

/** What an export file is called and served as (download route, e-mail attachment). */
export function describeExportFile(
  exportId: string,
  format: keyof typeof EXPORT_TYPES,
  gzip: boolean,
): { filename: string; contentType: string } {
  const t = EXPORT_TYPES[format];
  return gzip
    ? { filename: `quay-logs-${exportId}.${t.extension}.gz`, contentType: 'application/gzip' }
    : { filename: `quay-logs-${exportId}.${t.extension}`, contentType: t.contentType };
}
