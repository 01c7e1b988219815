/**
 * Export files stay byte for byte what they are: the JSON document, NDJSON and CSV of a
 * fixed set of stored entries (deterministic rows over three days, plus the awkward
 * ones — non-ASCII and astral characters, quotes, backslashes, slashes, control
 * characters, U+2028, robots, no performer, no ip, metadata stored with spaces, entries
 * sharing a millisecond) are pinned by their SHA-256, taken from the renderer in Node
 * before any rendering moved into ClickHouse. Any change to how an export is rendered must
 * keep these bytes. Real embedded ClickHouse; the files are written by the exporter's own code.
 *
 * Then stored text the pinned set does not hold — metadata as Quay's Python writes it, escapes
 * JavaScript would not write, numbers it would print differently, keys it would reorder or
 * merge, text that is no JSON object, CSV fields that need quoting, many entries sharing one
 * millisecond across page boundaries, a namespace fed by two sources, an empty window — each
 * compared with the reference export (support/referenceExport.ts: every row decoded and
 * rendered by the Node renderer, as the exporter did before).
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseStore, insertUsageLogs, type LogFilter, upsertAccounts } from '@quaylogs/clickhouse';
import type { UsageLogRow } from '@quaylogs/core';
import { LocalExportStore } from '@quaylogs/delivery';
import { row as baseRow, openTestStore } from '@quaylogs/testing';
import type { ExportFormat } from '../src/exportFormats.ts';
import { renderedEntrySql, renderParams } from '../src/exportSql.ts';
import { writeExport } from '../src/exportWriter.ts';
import { referenceExport } from './support/referenceExport.ts';

const START = new Date('2024-06-01T00:00:00Z');
const END = new Date('2024-06-04T00:00:00Z');

function row(i: number, over: Partial<UsageLogRow> = {}): UsageLogRow {
  const ms = START.getTime() + ((i * 7_919_113) % (3 * 86_400_000));
  const iso = new Date(ms).toISOString();
  return baseRow({
    source: 'quay',
    namespace: i % 5 === 0 ? 'other' : 'acme',
    repository: ['web', 'api', '', 'db'][i % 4]!,
    kind: ['pull_repo', 'push_repo', 'create_tag', 'delete_tag', 'login_success'][i % 5]!,
    performer: ['alice', 'bob', 'acme+deployer', '', 'carol'][i % 5]!,
    ip: i % 7 === 0 ? '' : `10.0.${i % 250}.${(i * 3) % 250}`,
    datetime: `${iso.slice(0, 10)} ${iso.slice(11, 23)}`,
    metadata: JSON.stringify({ repo: ['web', 'api', '', 'db'][i % 4], tag: `v${i % 37}`, n: i % 11, ok: i % 2 === 0, ...(i % 9 === 0 ? { list: [1, 2.5, null, 'x'] } : {}) }),
    event_key: String(1_000_000 + i),
    ...over,
  });
}

const AWKWARD: Partial<UsageLogRow>[] = [
  { repository: 'café', metadata: JSON.stringify({ message: 'naïve 😀 façade', path: 'a/b/c' }) },
  { metadata: JSON.stringify({ quote: 'say "hi"', backslash: 'C:\\dir\\', newline: 'a\nb\tc', ctrl: '\u0001\u001f', sep: 'x\u2028y\u2029z' }) },
  { performer: 'acme+robot', ip: '', metadata: '{}' },
  { performer: '', ip: '2001:db8::1', kind: 'change_repo_permission' },
  { metadata: '{"spaced": 1, "nested": {"k": [1, 2]}}' },
  { metadata: JSON.stringify({ '2': 'numeric key', b: 1, a: 'é' }) },
  { repository: 'with,comma', metadata: JSON.stringify({ csv: 'x,"y"\r\nz' }) },
  { performer: 'ünïcode-user', namespace: 'acme' },
];

/**
 * Stored metadata text beyond the pinned set (with field overrides): [metadata, row fields,
 * whether ClickHouse renders it (true) or leaves it to Node (false) in json, ndjson, csv].
 */
const MORE: [string, Partial<UsageLogRow>, [json: boolean, ndjson: boolean, csv: boolean]][] = [
  // Quay's Python (json.dumps, ensure_ascii): spaces after separators, \uXXXX escapes, astral pairs.
  ['{"repo": "web", "tag": "caf\\u00e9", "emoji": "\\ud83d\\ude00", "n": 3}', {}, [true, true, true]],
  ['{"repo": "web", "namespace": "july", "username": "alice", "manifest_digest": "sha256:abc"}', {}, [true, true, true]],
  ['{"lone": "\\ud800x"}', {}, [false, false, false]],
  ['{"raw": "naïve 😀 \u2028 \u00a0"}', {}, [true, false, false]],
  ['{"slash": "a\\/b", "upper": "\\u00E9", "plain": "\\u0041", "bs": "\\u0008"}', {}, [true, true, true]],
  ['{"f": 1.0, "g": 1e-07, "h": 1E3, "big": 12345678901234567890, "neg0": -0}', {}, [false, false, false]],
  ['{"ok": 1.5, "i": -42, "z": 0, "small": 0.000001, "t": true, "u": null}', {}, [true, true, true]],
  ['{"a": 1, "a": 2}', {}, [false, false, false]],
  ['{"o": {"k": 1, "k": 2}}', {}, [false, false, false]],
  ['{"o": {"k": 1, "j": {"deep": [1, {"x": "y"}]}}, "l": [{"x": 1}]}', {}, [false, false, false]],
  ['{"a": {"b": {"c": [{"d": 1}, []]}}, "e": [[], {}]}', {}, [true, true, true]],
  // Conservative: one key in two objects, or an escaped quote anywhere, goes to Node (same bytes).
  ['{"a": {"n": 1}, "b": {"n": 2}}', {}, [false, false, false]],
  ['{"q": "say \\"hi\\""}', {}, [false, false, false]],
  ['{"o": {"k": 1, "j": [1, 2]}, "e": {}, "s": "plain"}', {}, [true, true, true]],
  ['{"10": "index", "b": 1, "1": "first"}', {}, [false, false, false]],
  ['{"-1": "not an index", "1a": "neither"}', {}, [true, true, true]],
  // Conservative: an all-digit key that is no array index still goes to Node (same bytes).
  ['{"01": "not an index either", "s": "{braces in a string}"}', {}, [false, false, false]],
  ['', {}, [true, true, true]],
  ['not json', {}, [false, false, false]],
  ['[1, 2]', {}, [false, false, false]],
  ['null', {}, [false, false, false]],
  ['{"trailing": 1} x', {}, [false, false, false]],
  ['{ "spaced" : [ 1 , 2 ] ,\n "tab":\t"x y" }', {}, [true, true, true]],
  ['{"ctrl": "\\u0001\\t"}', {}, [true, true, true]],
  ['{"ctrl": "\\u001f"}', {}, [false, false, false]],
  ['{"html": "<a href=\'x\'>&amp;</a>", "neg": [-1.5, 0.25]}', {}, [true, true, true]],
  ['{"neg0": -0.0}', {}, [false, false, false]],
  ['{}', { performer: 'Mixed.Case', ip: '1.2.3.4, 5.6.7.8' }, [true, true, true]],
  ['{}', { performer: 'svc', kind: 'pull_repo' }, [true, true, true]],
  ['{}', { performer: 'ghost+robot', ip: '' }, [true, true, true]],
  ['{}', { performer: '', repository: 'quo"te', kind: 'k,ind' }, [true, true, true]],
  ['{}', { performer: 'we"ird\\name', ip: 'a"b' }, [false, false, true]],
  ['{}', { performer: 'new\nline', repository: 'multi\r\nline' }, [true, true, true]],
];

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
const dir = mkdtempSync(join(tmpdir(), 'quaylogs-export-bytes-'));

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  const rows = Array.from({ length: 3_000 }, (_, i) => row(i));
  AWKWARD.forEach((over, j) => rows.push(row(3_000 + j, { namespace: 'acme', datetime: '2024-06-02 12:00:00.000', ...over })));
  // July: the stored text the pinned set does not hold (outside its window, so its bytes stay).
  MORE.forEach(([metadata, over], j) => rows.push(row(5_000 + j, { namespace: 'july', datetime: `2024-07-02 0${j % 10}:00:00.000`, metadata, ...over })));
  for (let i = 0; i < 130; i++) {
    rows.push(row(6_000 + i, { namespace: 'same', datetime: i < 100 ? '2024-07-03 10:00:00.000' : '2024-07-03 10:00:00.001', event_key: String(900_000 - i * 7) }));
  }
  for (let i = 0; i < 60; i++) {
    rows.push(row(7_000 + i, { namespace: 'shared', source: i % 2 === 0 ? 'quay' : 'quay-eu', datetime: `2024-07-04 10:00:0${i % 3}.000` }));
  }
  await insertUsageLogs(store, rows);
  await upsertAccounts(store, 'quay', [
    { name: 'alice', kind: 'user', email: 'alice@example.com' },
    { name: 'bob', kind: 'user', email: null },
    { name: 'acme', kind: 'org', email: null },
    { name: 'acme+deployer', kind: 'robot', email: null },
    { name: 'Mixed.Case', kind: 'user', email: '  Ünïcode@Example.COM ' },
    { name: 'svc', kind: 'robot', email: null },
  ]);
}, 120_000);

afterAll(async () => {
  await cleanup?.();
  rmSync(dir, { recursive: true, force: true });
});

async function exportBytes(format: ExportFormat, namespace: string | undefined, chunkRows: number): Promise<Buffer> {
  const files = new LocalExportStore(dir);
  const id = `bytes-${format}-${namespace ?? 'all'}-${chunkRows}`;
  const writer = await files.create(id);
  const details = { exportId: '7d3e1b52-1f0a-4c7e-9a55-0b1d2c3e4f60', start: START, end: END, namespace: namespace ?? '', repository: null };
  await writeExport({
    store,
    filter: { start: START, end: END, ...(namespace !== undefined ? { namespace } : {}) },
    format,
    gzip: false,
    details,
    writer,
    hashKind: 'local',
    chunkRows,
    deadline: Date.now() + 600_000,
  });
  await writer.commit();
  return readFileSync(join(dir, id));
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** SHA-256 and size of each file as the Node renderer wrote it. */
const EXPECTED: Record<string, { sha256: string; bytes: number }> = {
  'json acme': { sha256: '523f0aa2c5f3a715e6d3835057285f9b6edbcc24939332dc1e3013bec338ade9', bytes: 694_719 },
  'json all namespaces': { sha256: 'be3df2aff32c1c740c1ce60e126630947664c87af61b20e08bcbe4384cadfe7a', bytes: 893_803 },
  'ndjson acme': { sha256: '1c434dddbda74bb2764421bc6416ebf4799656ee506931b06c74b60d61a6a152', bytes: 694_402 },
  'ndjson all namespaces': { sha256: '98dc4c675a82b84b179761acecce1de677ac7a8e04a1c3a480936a52a081484f', bytes: 893_490 },
  'csv acme': { sha256: '19b3d1a433cfdcf1faa697bbae3dbcc1dd5460c6d4c66535e79ab8978361cf2a', bytes: 303_974 },
  'csv all namespaces': { sha256: 'a621bbeee6426b1ce03590dea14ffb600b653a6a871f4598a9559cbe7fa06f6e', bytes: 380_158 },
};

describe('export files are byte-identical to the Node renderer', () => {
  for (const format of ['json', 'ndjson', 'csv'] as const) {
    for (const namespace of ['acme', undefined]) {
      const name = `${format} ${namespace ?? 'all namespaces'}`;
      it(`${name}: the same bytes, whatever the block size`, async () => {
        const small = await exportBytes(format, namespace, 97);
        const big = await exportBytes(format, namespace, 5_000);
        expect(sha(small)).toBe(sha(big));
        expect({ sha256: sha(big), bytes: big.length }).toEqual(EXPECTED[name]);
      });
    }
  }
});

const JULY = { start: new Date('2024-07-01T00:00:00Z'), end: new Date('2024-08-01T00:00:00Z') };

async function exportOf(filter: LogFilter, format: ExportFormat, opts: { pageRows?: number; gzip?: boolean } = {}) {
  const files = new LocalExportStore(dir);
  const id = `more-${createHash('sha256').update(JSON.stringify([filter, format, opts])).digest('hex').slice(0, 16)}`;
  const writer = await files.create(id);
  const details = { exportId: 'e', start: filter.start, end: filter.end, namespace: filter.namespace ?? '', repository: null };
  const pages: number[] = [];
  const res = await writeExport({
    store,
    filter,
    format,
    gzip: opts.gzip ?? false,
    details,
    writer,
    hashKind: 'local',
    chunkRows: 5_000,
    deadline: Date.now() + 600_000,
    ...(opts.pageRows !== undefined ? { pageRows: opts.pageRows } : {}),
    onChunk: (rows) => void pages.push(rows),
  });
  await writer.commit();
  const file = readFileSync(join(dir, id));
  return { bytes: opts.gzip ? gunzipSync(file) : file, rows: res.rows, pages, reference: await referenceExport(store, filter, format, details) };
}

describe('export files equal the reference export (the Node renderer over every row)', () => {
  for (const format of ['json', 'ndjson', 'csv'] as const) {
    it(`${format}: Python-written, oddly escaped, non-object and CSV-hostile stored text`, async () => {
      const out = await exportOf({ ...JULY, namespace: 'july' }, format);
      expect(out.rows).toBe(MORE.length);
      expect(out.reference.rows).toBe(MORE.length);
      expect(out.bytes.toString('utf8')).toBe(out.reference.bytes.toString('utf8'));
      expect(out.bytes.equals(out.reference.bytes)).toBe(true);
    });

    it(`${format}: 130 entries, 100 of them in one millisecond, in pages of 7 — none lost or repeated`, async () => {
      const out = await exportOf({ ...JULY, namespace: 'same' }, format, { pageRows: 7 });
      expect(out.rows).toBe(130);
      expect(out.pages).toEqual(Array.from({ length: 19 }, (_, i) => Math.min(130, (i + 1) * 7)));
      expect(out.bytes.equals(out.reference.bytes)).toBe(true);
    });

    it(`${format}: a namespace two sources feed, and every namespace, in small pages`, async () => {
      for (const filter of [{ ...JULY, namespace: 'shared' }, JULY]) {
        const out = await exportOf(filter, format, { pageRows: 11 });
        expect(out.rows).toBe(out.reference.rows);
        expect(out.bytes.equals(out.reference.bytes)).toBe(true);
      }
    });

    it(`${format}: an empty window is the head and tail alone`, async () => {
      const out = await exportOf({ start: new Date('2023-01-01T00:00:00Z'), end: new Date('2023-02-01T00:00:00Z'), namespace: 'acme' }, format);
      expect(out.rows).toBe(0);
      expect(out.pages).toEqual([]);
      expect(out.bytes.equals(out.reference.bytes)).toBe(true);
      expect(out.bytes.toString()).toBe({ json: `{\n      "export_id": "e",\n      "details": {"start_time": "Sun, 01 Jan 2023 00:00:00 -0000", "end_time": "Tue, 31 Jan 2023 23:59:59 -0000", "namespace": "acme", "repository": null},\n      "logs": [\n    \n        {"terminator": true}]\n      }`, ndjson: '', csv: 'datetime,kind,namespace,repository,performer,performer_is_robot,ip,metadata\r\n' }[format]);
    });
  }

  it('gzip wraps the same bytes', async () => {
    const out = await exportOf({ ...JULY, namespace: 'july' }, 'json', { gzip: true, pageRows: 5 });
    expect(out.bytes.equals(out.reference.bytes)).toBe(true);
  });

  it('ClickHouse renders the ordinary rows itself; only text it cannot prove byte-identical goes to Node', async () => {
    for (const [format, column] of [['json', 0], ['ndjson', 1], ['csv', 2]] as const) {
      const sql = renderedEntrySql(format);
      const performers = ['alice', 'bob', 'carol', 'acme+deployer', ...MORE.map((m) => m[1].performer ?? '').filter(Boolean)];
      const page = await store.queryRaw({
        name: 'test.renderedRows',
        sql: `WITH ${sql.with} SELECT concat(if(position(${sql.text}, '\\0') > 0, '0', '1'), '') FROM usage_logs WHERE namespace = 'july' ORDER BY datetime, event_key`,
        params: { ...renderParams(format), performer_names: ['', ...performers], performer_texts: ['', ...performers.map(() => 'x')] },
      });
      // Stored at hour j % 10 of one day, so in the export sorted by that hour, then by j.
      const rendered = page.toString('latin1');
      const expected = MORE.map((m, j) => ({ j, at: `0${j % 10}`, ch: m[2][column] ? '1' : '0' })).sort((a, b) => a.at.localeCompare(b.at) || a.j - b.j).map((e) => e.ch).join('');
      expect(rendered, format).toBe(expected);
    }
  });
});
