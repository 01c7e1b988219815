/**
 * Helpers that read exports the way a user would: the status route, the download
 * link, and the entries `/logs` lists for the same window.
 */
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { type ClickHouseStore, findAccounts, listUsageLogs, type LogFilter, upsertAccounts } from '@quaylogs/clickhouse';
import { type AccountInfo, renderLogEntry, type UsageLogRow } from '@quaylogs/core';
import { demoRows, demoWorld } from '@quaylogs/demo';
import { call } from '@quaylogs/testing';
import { eventually, type Stack } from './stack.ts';

export async function waitForExport(s: Stack, exportId: string, until: (body: any) => boolean = (b) => b.status === 'delivered' || b.status === 'failed', timeoutMs = 60_000): Promise<any> {
  return eventually(async () => {
    const res = await call(s.api, 'GET', `/api/v1/exportlogs/${exportId}`);
    return res.status === 200 && until(res.body) ? res.body : undefined;
  }, timeoutMs, 150);
}

export async function download(url: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** The JSON text of every entry `/logs` would list for the filter, newest first (the route's own query and renderer). */
export async function logsEntries(store: ClickHouseStore, filter: LogFilter): Promise<string[]> {
  const { rows } = await listUsageLogs(store, filter, null, 5_000_000);
  const accounts = new Map<string, AccountInfo>();
  const names = [...new Set(rows.map((r) => r.performer))];
  for (let i = 0; i < names.length; i += 5_000) {
    for (const [k, v] of await findAccounts(store, names.slice(i, i + 5_000))) accounts.set(k, v);
  }
  return rows.map((r) => JSON.stringify(renderLogEntry(r, accounts, false, 'local')));
}

/** Compares two lists of entry JSON texts, pointing at the first difference. */
export function expectSameEntries(actual: string[], expected: string[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) expect({ index: i, entry: actual[i] }).toEqual({ index: i, entry: expected[i] });
  }
}

/** Parses Quay's export document and returns its log entries (terminator checked and dropped). */
export function parseQuayDocument(bytes: Buffer, gzip = false): { doc: any; entries: string[] } {
  const text = (gzip ? gunzipSync(bytes) : bytes).toString('utf8');
  const doc = JSON.parse(text);
  expect(Object.keys(doc)).toEqual(['export_id', 'details', 'logs']);
  expect(doc.logs.at(-1)).toEqual({ terminator: true });
  return { doc, entries: doc.logs.slice(0, -1).map((e: unknown) => JSON.stringify(e)) };
}

/**
 * RFC 4180 records of an export CSV. Export fields never hold a raw line break (the
 * metadata column is JSON, whose strings escape them), so records split on CRLF.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    const out: string[] = [];
    let i = 0;
    for (;;) {
      if (line[i] === '"') {
        let value = '';
        let j = i + 1;
        for (;;) {
          const q = line.indexOf('"', j);
          if (q === -1) throw new Error(`unterminated quoted field: ${line}`);
          if (line[q + 1] === '"') {
            value += line.slice(j, q + 1);
            j = q + 2;
          } else {
            value += line.slice(j, q);
            i = q + 1;
            break;
          }
        }
        out.push(value);
      } else {
        const comma = line.indexOf(',', i);
        const stop = comma === -1 ? line.length : comma;
        out.push(line.slice(i, stop));
        i = stop;
      }
      if (i >= line.length) break;
      i++; // the comma
      if (i === line.length) {
        out.push('');
        break;
      }
    }
    records.push(out);
  }
  return records;
}

/** Loads `rows` demo entries (fixed seed and clock), all re-homed into `namespace`, with their accounts. */
export async function seedDemo(store: ClickHouseStore, opts: { rows: number; namespace: string; now: Date; days: number }): Promise<void> {
  const demo = { rows: opts.rows, seed: 11, now: opts.now, days: opts.days, organizations: 1 };
  await upsertAccounts(store, 'demo', [...demoWorld(demo).accounts, { name: opts.namespace, kind: 'org', email: null }]);
  async function* lines() {
    for (const batch of demoRows(demo, 20_000)) {
      let text = '';
      for (const row of batch) text += JSON.stringify({ ...row, namespace: opts.namespace } satisfies UsageLogRow) + '\n';
      yield text;
    }
  }
  await store.insertStream({ table: 'usage_logs', source: lines(), batchBytes: 32 * 1024 * 1024 });
}
