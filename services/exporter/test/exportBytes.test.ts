/**
 * Export files stay byte for byte what they are: the JSON document, NDJSON and CSV of a
 * fixed set of stored entries (deterministic rows over three days, plus the awkward
 * ones — non-ASCII and astral characters, quotes, backslashes, slashes, control
 * characters, U+2028, robots, no performer, no ip, metadata stored with spaces, entries
 * sharing a millisecond) are pinned by their SHA-256, taken from the renderer in Node
 * before any rendering moved into ClickHouse. Any change to how an export is rendered must
 * keep these bytes. Real embedded ClickHouse; the files are written by the exporter's own code.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseStore, insertUsageLogs, upsertAccounts } from '@quaylogs/clickhouse';
import type { UsageLogRow } from '@quaylogs/core';
import { LocalExportStore } from '@quaylogs/delivery';
import { row as baseRow, openTestStore } from '@quaylogs/testing';
import type { ExportFormat } from '../src/exportFormats.ts';
import { writeExport } from '../src/exportWriter.ts';

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

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
const dir = mkdtempSync(join(tmpdir(), 'quaylogs-export-bytes-'));

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  const rows = Array.from({ length: 3_000 }, (_, i) => row(i));
  AWKWARD.forEach((over, j) => rows.push(row(3_000 + j, { namespace: 'acme', datetime: '2024-06-02 12:00:00.000', ...over })));
  await insertUsageLogs(store, rows);
  await upsertAccounts(store, 'quay', [
    { name: 'alice', kind: 'user', email: 'alice@example.com' },
    { name: 'bob', kind: 'user', email: null },
    { name: 'acme', kind: 'org', email: null },
    { name: 'acme+deployer', kind: 'robot', email: null },
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
