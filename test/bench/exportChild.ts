/**
 * E2's child process: runs one export with the exporter's own generation code
 * (writeExport into the local export store) over the bench store, and reports
 * how far its resident set grew above the level it had before the export.
 *
 * Peak: Linux keeps the process's high-water mark (VmHWM); writing "5" to
 * /proc/self/clear_refs resets it to the current RSS just before the export, so
 * VmHWM afterwards is the peak during the export. RSS is also sampled every
 * 10 ms as a cross-check (and as the measure where clear_refs is not allowed).
 *
 * pass "floor" walks the same keyset pages with the exporter's own bound statement (count
 * and last key of each page, two narrow columns) and renders and writes nothing: the
 * cheapest pass that still visits every row page by page, E2's floor.
 *
 * argv[2]: JSON { storePath, database, start, end, namespace?, outDir, chunkRows, pass? }
 * stdout:  one JSON line { rows, bytes, seconds, baselineRss, peakRss, hwmReset }
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { openEmbeddedStore, type LogFilter } from '@quaylogs/clickhouse';
import { LocalExportStore } from '@quaylogs/delivery';
import { exportPages, PAGE_ROWS, writeExport } from '../../services/exporter/src/exportWriter.ts';

interface Args {
  storePath: string;
  database: string;
  start: string;
  end: string;
  namespace?: string;
  outDir: string;
  chunkRows: number;
  pass?: 'export' | 'floor';
}

function statusKb(field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const store = await openEmbeddedStore({ path: args.storePath, database: args.database, readers: 1 });
const filter: LogFilter = {
  start: new Date(args.start),
  end: new Date(args.end),
  ...(args.namespace !== undefined ? { namespace: args.namespace } : {}),
};
// Warm the engine (first query loads table metadata and marks) before taking the baseline.
await store.query({ name: 'bench.warm', sql: 'SELECT count() AS n FROM usage_logs WHERE datetime >= now() - INTERVAL 1 DAY' });
global.gc?.();
const files = new LocalExportStore(args.outDir);
const writer = await files.create('e2-export');

const baselineRss = statusKb('VmRSS') ?? process.memoryUsage().rss;
let hwmReset = false;
try {
  writeFileSync('/proc/self/clear_refs', '5');
  hwmReset = true;
} catch {
  /* not permitted: rely on sampling */
}
let sampled = process.memoryUsage().rss;
const timer = setInterval(() => {
  sampled = Math.max(sampled, process.memoryUsage().rss);
}, 10);

const t0 = performance.now();
const deadline = Date.now() + 3600_000;
let rows = 0;
if (args.pass === 'floor') {
  for await (const page of exportPages({ store, filter, chunkRows: args.chunkRows, pageRows: PAGE_ROWS, deadline })) rows += page.n;
} else {
  ({ rows } = await writeExport({
    store,
    filter,
    format: 'json',
    gzip: false,
    details: { exportId: 'e2-export', start: filter.start, end: filter.end, namespace: args.namespace ?? '', repository: null },
    writer,
    hashKind: 'local',
    chunkRows: args.chunkRows,
    deadline,
  }));
}
const stored = await writer.commit();
const seconds = (performance.now() - t0) / 1000;
clearInterval(timer);
sampled = Math.max(sampled, process.memoryUsage().rss);
const hwm = hwmReset ? statusKb('VmHWM') : null;
await files.remove('e2-export');
await store.close();
process.stdout.write(
  JSON.stringify({ rows, bytes: stored.size, seconds, baselineRss, peakRss: Math.max(sampled, hwm ?? 0), hwmReset }) + '\n',
);
