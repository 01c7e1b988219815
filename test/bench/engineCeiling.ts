/**
 * Work the ingest server process (ingestChild.ts) does on the bench's command:
 *
 * - measureInsertCeiling (I0): how fast the embedded engine itself inserts `usage_logs`
 *   rows, its materialized views included, in 50,000-row batches of demo rows:
 *     payload — ready-made JSONCompactEachRow text of usage_logs' columns, the format the store
 *               inserts (the figure); json — the same rows as JSONEachRow objects (the former format);
 *     loader  — `insertUsageLogs` from row objects, serialisation included (the loader's call);
 *     engine  — `INSERT … SELECT` from a Memory table holding the rows: no parsing at all.
 *   Each variant inserts rows of its own seed (the tables deduplicate identical blocks).
 * - exportOnce (I4's background export): one export, Quay's JSON document, with the
 *   exporter's own generation code, in this process (as `quaylogs up` runs it).
 */
import { rmSync } from 'node:fs';
import { type ClickHouseStore, insertPayload, insertUsageLogs, toJsonLines, USAGE_LOG_COLUMNS } from '@quaylogs/clickhouse';
import type { UsageLogRow } from '@quaylogs/core';
import { LocalExportStore } from '@quaylogs/delivery';
import { demoRows } from '@quaylogs/demo';
import { DEFAULT_TUNING } from '../../services/exporter/src/context.ts';
import { writeExport } from '../../services/exporter/src/exportWriter.ts';

const BATCH = 50_000;

export interface InsertCeiling {
  rows: number;
  payloadRowsPerS: number;
  jsonRowsPerS: number;
  loaderRowsPerS: number;
  engineRowsPerS: number;
}

function rowsOf(rows: number, seed: number, now: Date, source: string): UsageLogRow[][] {
  return [...demoRows({ rows, seed, now, days: 30, source }, BATCH)];
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

export async function measureInsertCeiling(store: ClickHouseStore, opts: { rows: number; seed: number; now: Date }): Promise<InsertCeiling> {
  // Warm-up: table metadata, first parts.
  for (const b of rowsOf(BATCH, opts.seed + 100, opts.now, 'i0-warm')) await insertUsageLogs(store, b);

  const payloads = rowsOf(opts.rows, opts.seed, opts.now, 'i0-payload').map((b) => insertPayload(b, USAGE_LOG_COLUMNS));
  let payloadS = 0;
  for (const text of payloads) {
    payloadS += await time(() => store.insertStream({ table: 'usage_logs', source: [text], batchBytes: 1 << 30, columns: USAGE_LOG_COLUMNS }));
  }
  payloads.length = 0;

  const jsonPayloads = rowsOf(opts.rows, opts.seed + 3, opts.now, 'i0-json').map((b) => toJsonLines(b));
  let jsonS = 0;
  for (const text of jsonPayloads) jsonS += await time(() => store.insertStream({ table: 'usage_logs', source: [text], batchBytes: 1 << 30 }));
  jsonPayloads.length = 0;

  const objects = rowsOf(opts.rows, opts.seed + 1, opts.now, 'i0-loader');
  let loaderS = 0;
  for (const b of objects) loaderS += await time(() => insertUsageLogs(store, b));
  objects.length = 0;

  await store.command({ name: 'bench.i0Staging', sql: 'CREATE TABLE IF NOT EXISTS i0_staging AS usage_logs ENGINE = Memory' });
  for (const b of rowsOf(opts.rows, opts.seed + 2, opts.now, 'i0-engine')) await store.insert({ table: 'i0_staging', rows: b });
  const engineS = await time(() =>
    store.command({ name: 'bench.i0Engine', sql: 'INSERT INTO usage_logs SELECT * FROM i0_staging', settings: { async_insert: 0, max_insert_threads: 1 } }),
  );
  await store.command({ name: 'bench.i0StagingDrop', sql: 'DROP TABLE IF EXISTS i0_staging' });

  return { rows: opts.rows, payloadRowsPerS: opts.rows / payloadS, jsonRowsPerS: opts.rows / jsonS, loaderRowsPerS: opts.rows / loaderS, engineRowsPerS: opts.rows / engineS };
}

export async function exportOnce(store: ClickHouseStore, dir: string, start: Date, end: Date): Promise<{ rows: number; bytes: number; seconds: number }> {
  const files = new LocalExportStore(dir);
  const id = `i4-export-${Date.now()}`;
  const writer = await files.create(id);
  const t0 = performance.now();
  const { rows } = await writeExport({
    store,
    filter: { start, end },
    format: 'json',
    gzip: false,
    details: { exportId: id, start, end, namespace: '', repository: null },
    writer,
    hashKind: 'local',
    chunkRows: DEFAULT_TUNING.chunkRows,
    deadline: Date.now() + 3600_000,
  });
  const stored = await writer.commit();
  const seconds = (performance.now() - t0) / 1000;
  await files.remove(id).catch(() => rmSync(dir, { recursive: true, force: true }));
  return { rows, bytes: stored.size, seconds };
}
