import { openEmbeddedStore, type ClickHouseStore } from '@quaylogs/clickhouse';
import { LocalExportStore } from '@quaylogs/delivery';
import { writeExport } from '../../services/exporter/src/exportWriter.ts';
const store = await openEmbeddedStore({ path: '/tmp/exports-demo/clickhouse', database: 'quaylogs', readers: 1 });
const times: Record<string, { n: number; ms: number }> = {};
const add = (k: string, ms: number) => { const t = (times[k] ??= { n: 0, ms: 0 }); t.n++; t.ms += ms; };
const wrapped: ClickHouseStore = {
  ...store,
  query: async (spec) => { const t = performance.now(); try { return await store.query(spec); } finally { add(spec.name, performance.now() - t); } },
  queryRaw: async (spec) => { const t = performance.now(); try { return await store.queryRaw(spec); } finally { add(spec.name, performance.now() - t); } },
};
const ns = process.argv[2] === 'all' ? undefined : 'yoyodyne-legal';
const format = (process.argv[3] ?? 'json') as 'json';
const files = new LocalExportStore('/tmp/exports-bench/out');
const w = await files.create('prof');
const t0 = performance.now();
const filter = { start: new Date(process.argv[4] ?? '2026-09-01T00:00:00Z'), end: new Date('2026-12-04T00:00:00Z'), ...(ns ? { namespace: ns } : {}) };
const r = await writeExport({ store: wrapped, filter, format, gzip: false, details: { exportId: 'x', start: filter.start, end: filter.end, namespace: ns ?? '', repository: null }, writer: w, hashKind: 'local', chunkRows: 5000, deadline: Date.now() + 3600e3 });
await w.commit();
const total = performance.now() - t0;
console.log(r.rows, `${(total / 1000).toFixed(2)} s`, Math.round(r.rows / (total / 1000)), 'rows/s');
for (const [k, v] of Object.entries(times)) console.log(k, v.n, Math.round(v.ms), 'ms');
await files.remove('prof');
await store.close();
