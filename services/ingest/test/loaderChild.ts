/**
 * A loader in its own process, for the crash test (not a test file itself).
 *
 *   node --import tsx loaderChild.ts load  <storeDir> <redisUrl>   run the loader, log JSON lines
 *   node --import tsx loaderChild.ts count <storeDir> <redisUrl>   drain, print the counts, exit
 *
 * With STORE_PORT=<port> the loader uses the store a store host (@quaylogs/testing) lends (several
 * loader processes then share one engine; <storeDir> is ignored), named LOADER_NAME.
 *
 * With PAUSE_AFTER_FIRST_INSERT=1 the process freezes (event loop blocked) right after
 * logging its first stored batch that inserted rows — after ClickHouse accepted it, before the stream entries
 * are acknowledged — so the parent can SIGKILL it at exactly that point.
 */
import { join } from 'node:path';
import { migrate, openEmbeddedStore } from '@quaylogs/clickhouse';
import { ingestBacklog, redisForWorkers } from '@quaylogs/queue';
import { pendingEntries, startLoader } from '../src/index.ts';
import { remoteStore } from '@quaylogs/testing/remoteStore';

const [mode, dir, redisUrl] = process.argv.slice(2);
if (!mode || !dir || !redisUrl) throw new Error('usage: loaderChild.ts load|count <storeDir> <redisUrl>');

const out = (obj: object) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const store = process.env.STORE_PORT
  ? remoteStore(Number(process.env.STORE_PORT))
  : await openEmbeddedStore({ path: join(dir, 'clickhouse'), database: 'quaylogs' });
if (!process.env.STORE_PORT) await migrate(store);
const redis = redisForWorkers(redisUrl);
let paused = false;
const loader = startLoader({
  redis,
  store,
  consumer: process.env.LOADER_NAME ?? 'crash-loader',
  batchRows: Number(process.env.BATCH_ROWS ?? 20_000),
  batchMs: 100,
  leaseMs: Number(process.env.LEASE_MS ?? 1_000),
  log: (obj, msg) => {
    out({ msg, ...obj });
    // The first batch that inserted rows (a batch of duplicates only leaves nothing to replay).
    if (msg === 'loader: batch stored' && (obj as { inserted?: number }).inserted! > 0 && process.env.PAUSE_AFTER_FIRST_INSERT === '1' && !paused) {
      paused = true;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
    }
  },
});
out({ msg: 'child: started', pid: process.pid });

if (mode === 'count') {
  await loader.drain();
  await loader.stop();
  const [r] = await store.query<{ rows: string; keys: string }>({
    name: 'child.count',
    sql: 'SELECT count() AS rows, uniqExact(event_key) AS keys FROM usage_logs',
  });
  const [k] = await store.query<{ n: string }>({ name: 'child.rollup', sql: 'SELECT sum(count) AS n FROM usage_daily_kind' });
  out({
    msg: 'child: counts',
    rows: Number(r!.rows),
    keys: Number(r!.keys),
    rollup: Number(k!.n),
    length: await ingestBacklog(redis),
    pending: await pendingEntries(redis),
  });
  redis.disconnect();
  await store.close();
  process.exit(0);
}
