/**
 * Server backend: a ClickHouse server (or a cluster's load balancer) over HTTP.
 * Same contract as the embedded backend; settings still travel in the SQL so the
 * two behave identically.
 */
import { Readable } from 'node:stream';
import { createClient } from '@clickhouse/client';
import {
  type ClickHouseStore,
  type InsertSpec,
  type QuerySpec,
  type RawStreamSpec,
  type StreamInsertSpec,
  insertSql,
  lineBatches,
  rawStreamSql,
  selectSql,
  insertPayload,
} from './store.ts';

export interface ServerOptions {
  url: string;
  database: string;
  queryTimeoutS?: number;
}

export async function openServerStore(opts: ServerOptions): Promise<ClickHouseStore> {
  const bootstrap = createClient({ url: opts.url, request_timeout: 30_000 });
  await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${opts.database}` });
  await bootstrap.close();
  const client = createClient({
    url: opts.url,
    database: opts.database,
    request_timeout: Math.max(30, (opts.queryTimeoutS ?? 30) + 5) * 1000,
    max_open_connections: 16,
  });

  return {
    backend: 'server',
    database: opts.database,
    async query<T>(spec: QuerySpec): Promise<T[]> {
      const rs = await client.query({
        query: selectSql(spec, opts.queryTimeoutS),
        query_params: spec.params ?? {},
        format: 'JSONEachRow',
      });
      return (await rs.json()) as T[];
    },
    async *stream<T>(spec: QuerySpec): AsyncIterable<T[]> {
      const rs = await client.query({ query: selectSql(spec), query_params: spec.params ?? {}, format: 'JSONEachRow' });
      for await (const rows of rs.stream()) {
        yield rows.map((r) => r.json<T>());
      }
    },
    async queryRaw(spec: QuerySpec): Promise<Buffer> {
      const rs = await client.exec({ query: `${selectSql(spec, opts.queryTimeoutS)} FORMAT RawBLOB`, query_params: spec.params ?? {} });
      const parts: Buffer[] = [];
      for await (const chunk of rs.stream) parts.push(chunk as Buffer);
      return Buffer.concat(parts);
    },
    async *streamRaw(spec: RawStreamSpec): AsyncIterable<Buffer> {
      // A consumer that stops early aborts the request: the client closes its socket and the
      // server cancels the statement (destroying the response stream alone left the request
      // open until its timeout).
      const abort = new AbortController();
      const rs = await client.exec({ query: rawStreamSql(spec), query_params: spec.params ?? {}, abort_signal: abort.signal });
      let done = false;
      try {
        for await (const chunk of rs.stream) yield chunk as Buffer;
        done = true;
      } finally {
        if (!done) abort.abort();
      }
    },
    async command(spec: QuerySpec): Promise<void> {
      const sql = spec.settings ? selectSql(spec) : spec.sql;
      await client.command({ query: sql, query_params: spec.params ?? {} });
    },
    async insert(spec: InsertSpec): Promise<void> {
      if (spec.rows.length === 0) return;
      const rs = await client.exec({
        query: insertSql(spec.table, spec.dedupToken, spec.columns),
        values: Readable.from([insertPayload(spec.rows, spec.columns)]),
      });
      rs.stream.resume();
    },
    async insertStream(spec: StreamInsertSpec) {
      let rows = 0;
      let bytes = 0;
      for await (const batch of lineBatches(spec.source, spec.batchBytes ?? 16 * 1024 * 1024)) {
        const rs = await client.exec({ query: insertSql(spec.table, undefined, spec.columns), values: Readable.from([batch.text]) });
        rs.stream.resume();
        rows += batch.rows;
        bytes += batch.text.length;
        spec.onProgress?.({ rows, bytes });
      }
      return { rows, bytes };
    },
    async ping() {
      const r = await client.ping();
      return r.success;
    },
    async close() {
      await client.close();
    },
  };
}
