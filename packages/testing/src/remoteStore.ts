/**
 * A ClickHouseStore whose every call goes to a storeHost.ts process (tests only): several
 * OS processes share one real embedded engine. Streams (rows and raw) come back in one chunk.
 */
import { request } from 'node:http';
import { type ClickHouseStore, type InsertSpec, type QuerySpec, type RawStreamSpec, StoreError, type StreamInsertSpec } from '@quaylogs/clickhouse';

function call<T>(port: number, op: string, spec: unknown): Promise<T> {
  // BigInt parameters (UInt128 event keys) travel as tagged strings.
  const body = JSON.stringify({ op, spec }, (_k, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v));
  return new Promise<T>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { out?: T; error?: { message: string; type?: string; code?: string } };
        if (parsed.error) reject(Object.assign(new StoreError(parsed.error.message), { type: parsed.error.type, code: parsed.error.code }));
        else resolve(parsed.out as T);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function remoteStore(port: number): ClickHouseStore {
  return {
    backend: 'server',
    database: 'quaylogs',
    query: <T>(spec: QuerySpec) => call<T[]>(port, 'query', spec),
    async *stream<T>(spec: QuerySpec) {
      yield await call<T[]>(port, 'query', spec);
    },
    queryRaw: async (spec: QuerySpec) => Buffer.from(await call<string>(port, 'queryRaw', spec), 'base64'),
    async *streamRaw(spec: RawStreamSpec) {
      yield Buffer.from(await call<string>(port, 'streamRaw', spec), 'base64');
    },
    command: (spec: QuerySpec) => call<void>(port, 'command', spec),
    insert: (spec: InsertSpec) => call<void>(port, 'insert', spec),
    async insertStream(spec: StreamInsertSpec) {
      let text = '';
      for await (const c of spec.source as AsyncIterable<string | Buffer>) text += typeof c === 'string' ? c : c.toString('utf8');
      const cols = spec.columns;
      const rows = text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as object | unknown[])
        .map((r) => (cols && Array.isArray(r) ? Object.fromEntries(cols.map((c, i) => [c, r[i]])) : r));
      await call<void>(port, 'insert', { table: spec.table, rows });
      return { rows: rows.length, bytes: text.length };
    },
    ping: () => call<boolean>(port, 'ping', null).catch(() => false),
    close: async () => undefined,
  };
}
