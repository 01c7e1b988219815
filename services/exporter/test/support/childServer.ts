/**
 * A whole quaylogs in a child process (API with the exports plugin, and the
 * exporter) on an embedded ClickHouse data directory, for the crash test. Writes
 * `READY`, `CHUNK <rows>`, `GENERATED <export id>` lines to stdout.
 *
 * Env: CHILD_DATA_DIR, CHILD_REDIS_URL, CHILD_PORT, CHILD_SEED_ROWS (first start),
 * CHILD_CHUNK_DELAY_MS, plus the QUAYLOGS_* settings.
 */
import { upsertAccounts, countUsageLogs, migrate, openStore } from '@quaylogs/clickhouse';
import { loadConfig } from '@quaylogs/config';
import { demoRows, demoWorld } from '@quaylogs/demo';
import { redisForProducers, redisForWorkers } from '@quaylogs/queue';
import { buildApp, ensureBootstrapAdmin, exportsPlugin } from '@quaylogs/api';
import { startExporter } from '../../src/index.ts';
import type { ExporterLog } from '../../src/index.ts';

const env = process.env;
const config = loadConfig({ ...env, QUAYLOGS_DATA_DIR: env.CHILD_DATA_DIR! });
const store = await openStore(config);
await migrate(store);
const seedRows = Number(env.CHILD_SEED_ROWS ?? 0);
if (seedRows > 0 && (await countUsageLogs(store)) === 0) {
  const demo = { rows: seedRows, seed: 11, now: new Date('2024-07-01T00:00:00Z'), days: 30, organizations: 1 };
  await upsertAccounts(store, 'demo', demoWorld(demo).accounts);
  async function* lines() {
    for (const batch of demoRows(demo, 20_000)) {
      let text = '';
      for (const row of batch) text += JSON.stringify({ ...row, namespace: 'acme-corp' }) + '\n';
      yield text;
    }
  }
  await store.insertStream({ table: 'usage_logs', source: lines() });
}

const producer = redisForProducers(env.CHILD_REDIS_URL!);
const workers = redisForWorkers(env.CHILD_REDIS_URL!);
const { app, ctx } = await buildApp({
  store,
  config,
  secret: config.QUAYLOGS_SECRET!,
  plugins: [exportsPlugin({ redis: producer, generateJobOptions: { backoff: { type: 'exponential', delay: 100 } } })],
});
await ensureBootstrapAdmin(ctx, config.QUAYLOGS_BOOTSTRAP_TOKEN!);
await app.listen({ host: '127.0.0.1', port: Number(env.CHILD_PORT) });

const say = (line: string) => process.stdout.write(`${line}\n`);
const log: ExporterLog = {
  debug: () => undefined,
  info: (obj, msg) => {
    if (msg === 'export generated') say(`GENERATED ${(obj as { export_id?: string }).export_id}`);
  },
  warn: (obj, msg) => say(`WARN ${msg} ${JSON.stringify(obj)}`),
  error: (obj, msg) => say(`ERROR ${msg} ${JSON.stringify(obj)}`),
};
const delay = Number(env.CHILD_CHUNK_DELAY_MS ?? 0);
await startExporter({
  redis: workers,
  store,
  config,
  log,
  baseUrl: `http://127.0.0.1:${env.CHILD_PORT}`,
  tuning: {
    chunkRows: 2_000,
    lockDurationMs: 3_000,
    stalledIntervalMs: 1_000,
    deliveryBackoffMs: 1_500,
    afterChunk: async (_id, rows) => {
      say(`CHUNK ${rows}`);
      if (delay) await new Promise((r) => setTimeout(r, delay));
    },
  },
});
say('READY');
