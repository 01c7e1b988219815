/**
 * The ingest figures' server process (I0–I4): an embedded store (fresh, or the bench's
 * loaded one for I4), the quaylogs API, the HEC receiver in its own process on the
 * public port, and the loader, wired as `quaylogs up` wires them, over a dedicated
 * Redis database. It runs apart from the bench
 * process because the embedded engine binds one data directory per process and
 * because load generators must not share an event loop with the server.
 *
 * argv[2]: JSON { dataDir, redisUrl, hecToken, source, storePath?, adminToken? }
 * stdout:  `{"ready":true,"url":…}`, then one JSON line per command answered.
 * fd 3:    one JSON command per line, `{"id":n,"cmd":…}`:
 *   count {source}           → {n}: rows of that source now queryable
 *   kinds {source}           → {kinds: {kind: n}}
 *   import {pgUrl, source}   → runs `import quay-db` into the stream: {rows, seconds, completed}
 *   importStart {pgUrl, source} / importStop → the same import in the background, stopped on demand
 *   export {start, end}      → one export (Quay's JSON document) of that window: {rows, bytes, seconds}
 *   ceiling {rows, seed, now} → I0, the engine's own insert rates (see engineCeiling.ts)
 *   receiver                 → {pid, nice, apiNice, cpu}: the receiver process, both processes' nice values, and
 *                              CPU time and time waiting for a CPU so far (ms) of the receiver's main thread and of this process
 *   stop                     → shuts down in order and exits
 */
import { appendFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { getPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { migrate, openEmbeddedStore } from '@quaylogs/clickhouse';
import { loadConfig } from '@quaylogs/config';
import { DEADLETTER_STREAM, FENCE_COUNTER_KEY, ingestStreamKeys, LOG_GENERATIONS_KEY, redisForProducers, redisForWorkers } from '@quaylogs/queue';
import { buildApp, ensureBootstrapAdmin, startIsolatedReceiver } from '@quaylogs/api';
import { hecPlugin } from '../../services/api/src/routes/hec.ts';
import { exportOnce, measureInsertCeiling } from './engineCeiling.ts';
import { schedstat } from './openLoop.ts';
import { INSERT_INTENTS_KEY, LOADER_MEMBERS_KEY, leaseKeyOf, startLoader } from '../../services/ingest/src/loader.ts';

interface Args {
  dataDir: string;
  redisUrl: string;
  hecToken: string;
  source: string;
  /** Open this (loaded) store instead of a fresh one under dataDir. */
  storePath?: string;
  /** A superuser bearer token for the API (I4's aggregate loop). */
  adminToken?: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const send = (obj: object) => process.stdout.write(JSON.stringify(obj) + '\n');

const store = await openEmbeddedStore({ path: args.storePath ?? join(args.dataDir, 'clickhouse'), database: 'quaylogs' });
await migrate(store);
const producer = redisForProducers(args.redisUrl);
const worker = redisForWorkers(args.redisUrl);
// The ingest stream's keys are fixed names, so the bench needs a Redis database of its
// own. It never flushes one: it refuses a database holding anything else, and removes
// only the ingest keys it used.
// The loader's insert intents, leases and fences too: a server killed mid-run leaves them behind.
const INGEST_KEYS = [
  ...ingestStreamKeys(),
  ...ingestStreamKeys().map(leaseKeyOf),
  ...ingestStreamKeys().map((k) => `${leaseKeyOf(k)}:fence`),
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
// The receiver's and the API's CPU priority as `up` sets them (their defaults), or as the
// environment asks (QUAYLOGS_API_NICE=0 measures without).
const config = loadConfig({
  QUAYLOGS_SECRET: secret,
  QUAYLOGS_LOG_LEVEL: 'silent',
  ...Object.fromEntries(['QUAYLOGS_API_NICE', 'QUAYLOGS_RECEIVER_NICE'].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : []))),
});
const tokens = new Map([[args.hecToken, args.source]]);
const { app, ctx } = await buildApp({
  store,
  config,
  secret,
  logger: false,
  audit: { write: async () => {} },
  plugins: [hecPlugin({ redis: producer, tokens, maxBodyBytes: config.QUAYLOGS_HEC_MAX_BODY_BYTES })],
});
if (args.adminToken) await ensureBootstrapAdmin(ctx, args.adminToken);
// Loader diagnostics go to stderr (the bench shows the tail when something fails);
// BENCH_INGEST_LOG=<file> also writes every loader line, timestamped, there (stall hunts).
const ingestLog = process.env.BENCH_INGEST_LOG;
const trace = (line: string) => {
  if (ingestLog) appendFileSync(ingestLog, `${new Date().toISOString()} ${process.pid} ${line}\n`);
};
const loader = startLoader({
  redis: worker,
  store,
  consumer: 'bench-loader',
  log: (obj, msg) => {
    trace(`${msg} ${JSON.stringify(obj)}`);
    if (msg !== 'loader: batch stored') process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`);
  },
});
// As in `quaylogs up`: the API on loopback, the receiver process on the public port.
await app.listen({ host: '127.0.0.1', port: 0 });
const receiver = await startIsolatedReceiver({
  host: '127.0.0.1',
  port: 0,
  redisUrl: args.redisUrl,
  tokens,
  maxBodyBytes: config.QUAYLOGS_HEC_MAX_BODY_BYTES,
  api: app.server,
  logLevel: ingestLog ? 'info' : 'warn',
  nice: { receiver: config.QUAYLOGS_RECEIVER_NICE, api: config.QUAYLOGS_API_NICE },
  // BENCH_PROFILE_DIR: the receiver process's CPU profile too.
  ...(process.env.BENCH_PROFILE_DIR ? { execArgv: ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] } : {}),
  log: { info: () => undefined, warn: (obj, msg) => process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`), error: (obj, msg) => process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`) },
});
send({ ready: true, url: `http://127.0.0.1:${receiver.port}`, apiUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` });

async function count(source: string): Promise<number> {
  const [r] = await store.query<{ n: string }>({
    name: 'bench.ingestCount',
    sql: 'SELECT count() AS n FROM usage_logs WHERE source = {source:String}',
    params: { source },
  });
  return Number(r?.n ?? 0);
}

let background: { abort: AbortController; done: Promise<{ rows: number; completed: boolean; seconds: number }> } | null = null;

async function stop(): Promise<void> {
  background?.abort.abort();
  await background?.done.catch(() => undefined);
  await receiver.stop();
  await app.close();
  await loader.stop();
  await worker.del(...INGEST_KEYS).catch(() => undefined);
  producer.disconnect();
  worker.disconnect();
  await store.close();
}

// Commands run concurrently (I4 keeps an export running while it asks for counts).
async function handle(line: string): Promise<void> {
  const msg = JSON.parse(line) as { id: number; cmd: string; source?: string; pgUrl?: string; start?: string; end?: string; rows?: number; seed?: number; now?: string };
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
      case 'importStart': {
        const { importQuayDb } = await import('../../services/ingest/src/import/index.ts');
        const importer = redisForWorkers(args.redisUrl);
        const abort = new AbortController();
        const t0 = performance.now();
        const done = importQuayDb({ pgUrl: msg.pgUrl!, redis: importer, store, source: msg.source!, restart: true, signal: abort.signal })
          .then((res) => ({ rows: res.rows, completed: res.completed, seconds: (performance.now() - t0) / 1000 }))
          .finally(() => importer.disconnect());
        background = { abort, done };
        send({ id: msg.id, started: true });
        break;
      }
      case 'importStop': {
        if (!background) throw new Error('no import running');
        background.abort.abort();
        const res = await background.done;
        background = null;
        send({ id: msg.id, ...res });
        break;
      }
      case 'export':
        send({ id: msg.id, ...(await exportOnce(store, join(args.dataDir, 'exports'), new Date(msg.start!), new Date(msg.end!))) });
        break;
      case 'ceiling':
        send({ id: msg.id, ...(await measureInsertCeiling(store, { rows: msg.rows!, seed: msg.seed!, now: new Date(msg.now!) })) });
        break;
      case 'receiver':
        // The receiver process and both processes' priorities, for the figures' notes.
        send({
          id: msg.id,
          pid: receiver.pid(),
          nice: receiver.pid() ? getPriority(receiver.pid()) : null,
          apiNice: getPriority(),
          cpu: { receiver: receiver.pid() ? schedstat(receiver.pid()!, true) : null, server: schedstat('self') },
        });
        break;
      case 'inflight':
        send({ id: msg.id, statements: store.inFlight?.() ?? [] });
        break;
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

// Commands arrive on fd 3 (a socket the bench holds), never on stdin: see stdinShield.ts.
const rl = createInterface({ input: new Socket({ fd: 3, readable: true, writable: false }) });
for await (const line of rl) {
  if (line.trim()) void handle(line);
}
// fd 3 closed: the bench process is gone; shut down in order.
await stop();
process.exit(0);
