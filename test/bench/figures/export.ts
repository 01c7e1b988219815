/**
 * E1: export of the largest namespace's 30 days to Quay's export file (rows/s).
 *   PostgreSQL: Quay's yield_logs_for_export walk (windows from 1 s, doubling under
 *   1,000 rows) rendered into Quay's export document.
 *   quaylogs: the exporter's generation step (writeExport: one streamed, ordered
 *   read from ClickHouse) into the local export store.
 *   Both sides render entries with the same renderer and write the same document to
 *   the same kind of file, so the difference is the data path.
 * E2: peak RSS growth of a process running the exporter's generation over a
 *   2M-row export (child process; see exportChild.ts).
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { type LogFilter, USAGE_LOG_COLUMNS, whereFor } from '@quaylogs/clickhouse';
import { type AccountInfo, NO_EXTENDED_FIELDS, type UsageLogRow } from '@quaylogs/core';
import { pgMillis } from '../compare.ts';
import { DAY_MS, SOURCE } from '../dataset.ts';
import { getUserOrOrg, type PgLogRow, quayExportBatches } from '../pg/quayQueries.ts';
import { CH_DATABASE } from '../quaylogsStore.ts';
import { timed, timePair } from '../timing.ts';
import { type BenchContext, type Figure, type Measurement, NotMeasured } from '../types.ts';
import { REPO_ROOT, requirePaths, tryImport } from './codePaths.ts';

type ExportWriterModule = typeof import('../../../services/exporter/src/exportWriter.ts');
type ExportFormatsModule = typeof import('../../../services/exporter/src/exportFormats.ts');
type DeliveryModule = typeof import('@quaylogs/delivery');

const WRITER = 'services/exporter/src/exportWriter.ts';
const FORMATS = 'services/exporter/src/exportFormats.ts';
const CONTEXT = 'services/exporter/src/context.ts';
const E2_ROWS = 2_000_000;

async function exporterCode(): Promise<
  { writer: ExportWriterModule; formats: ExportFormatsModule; delivery: DeliveryModule; chunkRows: number; reason: null } | { reason: string }
> {
  const gone = requirePaths([WRITER, FORMATS, CONTEXT, 'packages/delivery/src/exportStore.ts']);
  if (gone) return { reason: gone };
  const writer = await tryImport<ExportWriterModule>(WRITER);
  if (!writer.mod) return { reason: writer.reason };
  const formats = await tryImport<ExportFormatsModule>(FORMATS);
  if (!formats.mod) return { reason: formats.reason };
  const ctx = await tryImport<{ DEFAULT_TUNING?: { chunkRows?: number } }>(CONTEXT);
  let delivery: DeliveryModule;
  try {
    delivery = await import('@quaylogs/delivery');
  } catch (err) {
    return { reason: `@quaylogs/delivery does not load: ${(err as Error).message.split('\n')[0]}` };
  }
  if (typeof writer.mod.writeExport !== 'function') return { reason: `${WRITER} has no writeExport` };
  if (typeof formats.mod.formatterFor !== 'function' || typeof formats.mod.EntryRenderer !== 'function') {
    return { reason: `${FORMATS} has no formatterFor / EntryRenderer` };
  }
  if (typeof delivery.LocalExportStore !== 'function') return { reason: '@quaylogs/delivery has no LocalExportStore' };
  return { writer: writer.mod, formats: formats.mod, delivery, chunkRows: ctx.mod?.DEFAULT_TUNING?.chunkRows ?? 5_000, reason: null };
}

/** A stored row as the renderer needs it, from Quay's row and its joined performer. */
function rowFromPg(r: PgLogRow & Record<string, unknown>, namespace: string, kindName: ReadonlyMap<number, string>): UsageLogRow {
  return {
    source: SOURCE,
    namespace,
    repository: '',
    kind: kindName.get(r.kind_id) ?? `#${r.kind_id}`,
    performer: r.p_username ?? '',
    ip: r.ip ?? '',
    datetime: pgMillis(r.datetime),
    metadata: r.metadata_json,
    event_key: '0',
    ...NO_EXTENDED_FIELDS,
  };
}

export const e1: Figure = {
  id: 'E1',
  title: "export, largest namespace, 30 days, Quay's export file",
  unit: 'rows/s',
  better: 'higher',
  target: { kind: 'ratio', min: 5, text: "≥ 5× Quay's batched export" },
  unavailable: async () => (await exporterCode()).reason,
  async measure(ctx): Promise<Measurement> {
    const code = await exporterCode();
    if (code.reason !== null) throw new NotMeasured(code.reason);
    const { writer, formats, delivery, chunkRows } = code;
    const ns = ctx.data.subjects.top.namespace;
    const w = ctx.data.last30;
    // Quay's export window: the start day through the end day, "+1 day − 1 ms".
    const end = new Date(w.end.getTime() - 1);
    const details = { exportId: 'e1', start: w.start, end, namespace: ns, repository: null };
    const files = new delivery.LocalExportStore(join(ctx.scratch, 'exports'));
    const kinds = ctx.data.ids.kindName;
    const nsRow = await getUserOrOrg(ctx.pg, ns);
    if (!nsRow) throw new Error(`namespace ${ns} has no user row`);

    const pgSide = async () => {
      const file = await files.create('e1-postgres');
      const fmt = formats.formatterFor('json', details);
      const accounts = new Map<string, AccountInfo>();
      const renderer = new formats.EntryRenderer(accounts, 'local');
      let rows = 0;
      const stats = { queries: 0 };
      async function* bytes(): AsyncGenerator<Buffer> {
        yield Buffer.from(fmt.head());
        for await (const batch of quayExportBatches(ctx.pg, nsRow!.id, w.start.getTime(), end.getTime(), stats)) {
          let text = '';
          for (const r of batch as (PgLogRow & Record<string, unknown>)[]) {
            if (r.p_username && !accounts.has(r.p_username)) {
              accounts.set(r.p_username, {
                name: r.p_username,
                kind: r.p_robot ? 'robot' : r.p_organization ? 'org' : 'user',
                email: typeof r.p_email === 'string' && !r.p_robot ? r.p_email : null,
              });
            }
            const row = rowFromPg(r, ns, kinds);
            text += fmt.entry(row, renderer.render(row));
          }
          rows += batch.length;
          yield Buffer.from(text);
        }
        yield Buffer.from(fmt.tail());
      }
      await pipeline(Readable.from(bytes(), { objectMode: false, highWaterMark: 1 }), file.stream);
      const stored = await file.commit();
      return { rows, bytes: stored.size, queries: stats.queries };
    };

    const qlSide = async () => {
      const file = await files.create('e1-quaylogs');
      const filter: LogFilter = { start: w.start, end, namespace: ns };
      const res = await writer.writeExport({
        store: ctx.store,
        filter,
        format: 'json',
        gzip: false,
        details,
        writer: file,
        hashKind: 'local',
        chunkRows,
        deadline: Date.now() + 3600_000,
      });
      const stored = await file.commit();
      return { rows: res.rows, bytes: stored.size };
    };

    let pgInfo = { rows: 0, bytes: 0, queries: 0 };
    let qlInfo = { rows: 0, bytes: 0 };
    const r = await timePair({
      runs: ctx.opts.runs,
      pg: pgSide,
      quaylogs: qlSide,
      check: (a, b) => {
        pgInfo = a;
        qlInfo = b;
        return {
          equal: a.rows === b.rows && a.rows > 0,
          detail: `export rows: PostgreSQL ${a.rows.toLocaleString('en-US')}, quaylogs ${b.rows.toLocaleString('en-US')}`,
        };
      },
    });
    await files.remove('e1-postgres');
    await files.remove('e1-quaylogs');

    // Where the time goes: each side's data path alone (no rendering, no file).
    const pgScan = await timed(async () => {
      let n = 0;
      for await (const batch of quayExportBatches(ctx.pg, nsRow.id, w.start.getTime(), end.getTime())) n += batch.length;
      return n;
    });
    const where = whereFor({ start: w.start, end, namespace: ns });
    const qlScan = await timed(async () => {
      let n = 0;
      for await (const block of ctx.store.stream<UsageLogRow>({
        name: 'bench.exportScan',
        sql: `SELECT ${USAGE_LOG_COLUMNS.join(', ')} FROM usage_logs WHERE ${where.sql} ORDER BY datetime, event_key`,
        params: where.params,
        settings: { max_block_size: chunkRows },
      })) n += block.length;
      return n;
    });
    const scanLine = (ms: number, rows: number) => `${(ms / 1000).toFixed(2)} s, ${Math.round(rows / (ms / 1000)).toLocaleString('en-US')} rows/s`;
    const perSecond = (ms: number) => pgInfo.rows / (ms / 1000);
    return {
      pg: perSecond(r.pg),
      quaylogs: qlInfo.rows / (r.quaylogs / 1000),
      pgRuns: r.pgRuns.map(perSecond),
      quaylogsRuns: r.quaylogsRuns.map((ms) => qlInfo.rows / (ms / 1000)),
      check: r.check,
      notes: [
        `namespace ${ns}, ${pgInfo.rows.toLocaleString('en-US')} rows; median export time PostgreSQL ${(r.pg / 1000).toFixed(2)} s (${pgInfo.queries} window queries), quaylogs ${(r.quaylogs / 1000).toFixed(2)} s`,
        `files: PostgreSQL side ${(pgInfo.bytes / 1e6).toFixed(1)} MB, quaylogs ${(qlInfo.bytes / 1e6).toFixed(1)} MB (same renderer; Quay's walk has no ORDER BY, so entries may be ordered differently within a window)`,
        "Quay renders in Python; here both sides render with quaylogs' renderer in Node, so the PostgreSQL column is a lower bound for Quay's cost",
      ],
      profile: {
        pg: [`data path alone (Quay's window walk, rows fetched, nothing rendered): ${scanLine(pgScan.ms, pgScan.value)}`],
        quaylogs: [`data path alone (the exporter's ordered stream, nothing rendered): ${scanLine(qlScan.ms, qlScan.value)}`],
      },
    };
  },
};

/** The most recent whole days (all namespaces) that together hold at least `rows` entries. */
function windowWith(ctx: BenchContext, rows: number): { start: Date; end: Date; rows: number } {
  const end = ctx.data.last90.end;
  let start = end;
  let total = 0;
  while (total < rows && start.getTime() > end.getTime() - 120 * DAY_MS) {
    start = new Date(start.getTime() - DAY_MS);
    total += ctx.data.perDay.get(start.toISOString().slice(0, 10)) ?? 0;
  }
  return { start, end, rows: total };
}

const execFileAsync = promisify(execFile);

export const e2: Figure = {
  id: 'E2',
  title: 'exporter peak RSS growth, 2M-row export',
  unit: 'MB',
  better: 'lower',
  target: { kind: 'max', value: 100, text: '< 100 MB' },
  unavailable: async () => (await exporterCode()).reason,
  async measure(ctx): Promise<Measurement> {
    const code = await exporterCode();
    if (code.reason !== null) throw new NotMeasured(code.reason);
    const win = windowWith(ctx, E2_ROWS);
    const args = {
      storePath: ctx.storePath,
      database: CH_DATABASE,
      start: win.start.toISOString(),
      end: win.end.toISOString(),
      outDir: join(ctx.scratch, 'e2-exports'),
      chunkRows: code.chunkRows,
    };
    type ChildResult = { rows: number; bytes: number; seconds: number; baselineRss: number; peakRss: number; hwmReset: boolean };
    // Each pass in a fresh child process, so neither inherits the other's engine caches or heap.
    const pass = async (kind: 'export' | 'floor'): Promise<ChildResult> => {
      const out = await ctx.withStoreReleased(() =>
        execFileAsync(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'test/bench/exportChild.ts'), JSON.stringify({ ...args, pass: kind })], {
          cwd: REPO_ROOT,
          maxBuffer: 16 * 1024 * 1024,
          timeout: 3600_000,
        }),
      );
      return JSON.parse(out.stdout.trim().split('\n').pop()!) as ChildResult;
    };
    const res = await pass('export');
    const floor = await pass('floor');
    const growthMb = Math.max(0, res.peakRss - res.baselineRss) / 1e6;
    const notes = [
      `${res.rows.toLocaleString('en-US')} rows (all namespaces, ${win.start.toISOString().slice(0, 10)} … ${new Date(win.end.getTime() - DAY_MS).toISOString().slice(0, 10)}), Quay's JSON document, ${(res.bytes / 1e6).toFixed(0)} MB written in ${res.seconds.toFixed(1)} s`,
      `RSS before the export ${(res.baselineRss / 1e6).toFixed(0)} MB, peak during it ${(res.peakRss / 1e6).toFixed(0)} MB (${res.hwmReset ? 'kernel high-water mark, reset before the export' : 'sampled every 10 ms'}); embedded ClickHouse runs inside the process`,
      `floor: the same keyset pages walked by their bound statement alone (count and last key, nothing rendered or written; ${floor.rows.toLocaleString('en-US')} rows in ${floor.seconds.toFixed(1)} s), in a fresh child: RSS growth ${(Math.max(0, floor.peakRss - floor.baselineRss) / 1e6).toFixed(1)} MB`,
    ];
    if (res.rows < E2_ROWS) notes.push(`the data set holds only ${res.rows.toLocaleString('en-US')} rows: the export is smaller than 2M rows`);
    return {
      pg: null,
      quaylogs: growthMb,
      check: {
        equal: res.rows === win.rows,
        detail: `exported ${res.rows.toLocaleString('en-US')} rows, the window holds ${win.rows.toLocaleString('en-US')}`,
      },
      notes,
    };
  },
};
