/**
 * One process that holds an embedded store and lends it to other processes over a small
 * JSON protocol on loopback (see remoteStore.ts; spawn it by STORE_HOST_SCRIPT), so tests can run several loaders or
 * migrators as separate OS processes against one real engine. Not a test file itself.
 *
 *   node --import tsx storeHost.ts <storeDir> [--no-migrate]   prints {"port": N} once listening
 *
 * A request the host has received is finished even if its client dies meanwhile, as a
 * ClickHouse server finishes an insert whose body it has read.
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { type ClickHouseStore, migrate, openEmbeddedStore } from '@quaylogs/clickhouse';

const [dir, flag] = process.argv.slice(2);
if (!dir) throw new Error('usage: storeHost.ts <storeDir> [--no-migrate]');
const store: ClickHouseStore = await openEmbeddedStore({ path: join(dir, 'clickhouse'), database: 'quaylogs' });
if (flag !== '--no-migrate') await migrate(store);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      try {
        const { op, spec } = JSON.parse(Buffer.concat(chunks).toString('utf8'), (_k, v: unknown) =>
          v && typeof v === 'object' && '$bigint' in v ? BigInt((v as { $bigint: string }).$bigint) : v,
        ) as { op: string; spec: any };
        let out: unknown = null;
        if (op === 'query') out = await store.query(spec);
        else if (op === 'command') await store.command(spec);
        else if (op === 'insert') await store.insert(spec);
        else if (op === 'queryRaw') out = (await store.queryRaw(spec)).toString('base64');
        else if (op === 'streamRaw') {
          const parts: Buffer[] = [];
          for await (const chunk of store.streamRaw(spec)) parts.push(chunk);
          out = Buffer.concat(parts).toString('base64');
        }
        else if (op === 'ping') out = await store.ping();
        else throw new Error(`unknown op ${op}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ out }));
      } catch (err) {
        const e = err as { message?: string; type?: string; code?: string };
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: String(e.message ?? err), type: e.type, code: e.code } }));
      }
    })();
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void store.close().then(() => process.exit(0));
});
