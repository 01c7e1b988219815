/**
 * The ingest figures' server process (I1, I2, I3): a fresh embedded store, the
 * quaylogs API with the HEC receiver, and the loader, wired as `quaylogs up`
 * wires them, over a dedicated Redis database. It runs apart from the bench
 * process because the embedded engine binds one data directory per process and
 * because load generators must not share an event loop with the server.
 *
 * argv[2]: JSON { dataDir, redisUrl, hecToken, source }
 * stdout:  `{"ready":true,"url":…}`, then one JSON line per command answered.
 * stdin:   one JSON command per line, `{"id":n,"cmd":…}`:
 *   count {source}           → {n}: rows of that source now queryable
 *   kinds {source}           → {kinds: {kind: n}}
 *   import {pgUrl, source}   → runs `import quay-db` into the stream: {rows, seconds, completed}
 *   stop                     → shuts down in order and exits
 */
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { migrate, openEmbeddedStore } from '@quaylogs/clickhouse';
import { loadConfig } from '@quaylogs/config';
import { DEADLETTER_STREAM, FENCE_COUNTER_KEY, ingestStreamKeys, LOG_GENERATIONS_KEY, redisForProducers, redisForWorkers } from '@quaylogs/queue';
import { buildApp } from '@quaylogs/api';
import { hecPlugin } from '../../services/api/src/routes/hec.ts';
import { INSERT_INTENTS_KEY, LOADER_MEMBERS_KEY, leaseKeyOf, startLoader } from '../../services/ingest/src/loader.ts';

interface Args {
  dataDir: string;
  redisUrl: string;
  hecToken: string;
  source: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const send = (obj: object) => process.stdout.write(JSON.stringify(obj) + '\n');

const store = await openEmbeddedStore({ path: join(args.dataDir, 'clickhouse'), database: 'quaylogs' });
await migrate(store);
const producer = redisForProducers(args.redisUrl);
const worker = redisForWorkers(args.redisUrl);
// The ingest stream's keys are fixed names, so the bench needs a Redis database of its
// own. It never flushes one: it refuses a database holding anything else, and removes
// only the ingest keys it used.
const INGEST_KEYS = [
  ...ingestStreamKeys(),
  ...ingestStreamKeys().map(leaseKeyOf),
  DEADLETTER_STREAM,
  LOG_GENERATIONS_KEY,
  INSERT_INTENTS_KEY,
  LOADER_MEMBERS_KEY,
  FENCE_COUNTER_KEY,
];
const foreign: string[] = [];
let cursor = '0';
do {
  const [next, keys] = await worker.scan(cursor, 'COUNT', 1000);
  cursor = next;
  for (const k of keys) if (!INGEST_KEYS.includes(k)) foreign.push(k);
} while (cursor !== '0' && foreign.length < 5);
if (foreign.length) {
  process.stderr.write(`Redis ${args.redisUrl} holds keys the bench does not own (${foreign.slice(0, 3).join(', ')}…): pick a free database with --redis-url\n`);
  process.exit(3);
}
await worker.del(...INGEST_KEYS);
const secret = 'bench-ingest-secret-0123456789';
const config = loadConfig({ QUAYLOGS_SECRET: secret, QUAYLOGS_LOG_LEVEL: 'silent' });
const { app } = await buildApp({
  store,
  config,
  secret,
  logger: false,
  audit: { write: async () => {} },
  plugins: [hecPlugin({ redis: producer, tokens: new Map([[args.hecToken, args.source]]), maxBodyBytes: config.QUAYLOGS_HEC_MAX_BODY_BYTES })],
});
// Loader diagnostics go to stderr (the bench shows the tail when something fails).
const loader = startLoader({
  redis: worker,
  store,
  consumer: 'bench-loader',
  log: (obj, msg) => {
    if (msg !== 'loader: batch stored') process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`);
  },
});
await app.listen({ host: '127.0.0.1', port: 0 });
send({ ready: true, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` });

async function count(source: string): Promise<number> {
  const [r] = await store.query<{ n: string }>({
    name: 'bench.ingestCount',
    sql: 'SELECT count() AS n FROM usage_logs WHERE source = {source:String}',
    params: { source },
  });
  return Number(r?.n ?? 0);
}

async function stop(): Promise<void> {
  await app.close();
  await loader.stop();
  await worker.del(...INGEST_KEYS).catch(() => undefined);
  producer.disconnect();
  worker.disconnect();
  await store.close();
}

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const msg = JSON.parse(line) as { id: number; cmd: string; source?: string; pgUrl?: string };
  try {
    switch (msg.cmd) {
      case 'count':
        send({ id: msg.id, n: await count(msg.source!) });
        break;
      case 'kinds': {
        const rows = await store.query<{ kind: string; n: string }>({
          name: 'bench.ingestKinds',
          sql: 'SELECT kind, count() AS n FROM usage_logs WHERE source = {source:String} GROUP BY kind',
          params: { source: msg.source! },
        });
        send({ id: msg.id, kinds: Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)])) });
        break;
      }
      case 'import': {
        const { importQuayDb } = await import('../../services/ingest/src/import/index.ts');
        const importer = redisForWorkers(args.redisUrl);
        const t0 = performance.now();
        try {
          const res = await importQuayDb({ pgUrl: msg.pgUrl!, redis: importer, store, source: msg.source!, restart: true });
          send({ id: msg.id, rows: res.rows, skipped: res.skipped, completed: res.completed, seconds: (performance.now() - t0) / 1000 });
        } finally {
          importer.disconnect();
        }
        break;
      }
      case 'stop':
        await stop();
        send({ id: msg.id, stopped: true });
        process.exit(0);
        break;
      default:
        send({ id: msg.id, error: `unknown command ${msg.cmd}` });
    }
  } catch (err) {
    send({ id: msg.id, error: (err as Error).message });
  }
}
// stdin closed: the bench process is gone; shut down in order.
await stop();
process.exit(0);
