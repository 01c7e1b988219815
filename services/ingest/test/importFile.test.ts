/**
 * `importFile` on the three file kinds it recognises — Quay's export document, Quay's
 * log-rotation archive (ids resolved through a real PostgreSQL holding Quay's schema),
 * our NDJSON — with a real Redis (database 11), the embedded ClickHouse and the real
 * loader; and bad files, which must fail with a clear message and hand off nothing.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { createQuayDatabase, PG_BASE } from '@quaylogs/testing/quayDb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseStore, findAccounts } from '@quaylogs/clickhouse';
import { formatRfc2822, LOG_KINDS } from '@quaylogs/core';
import { ingestBacklog, type Redis } from '@quaylogs/queue';
import { resetStore, useStoreAndRedis } from '@quaylogs/testing';
import { startLoader } from '../src/loader.ts';
import { importFile, ImportError } from '../src/import/index.ts';

const DB_NAME = `quaylogs_import_file_test_${process.pid}`;
const PG_URL = `${PG_BASE}/${DB_NAME}`;
const SOURCE = 'quay-files';

// Store (import checkpoints included) and Redis emptied before each test.
const fixture = useStoreAndRedis();
let store: ClickHouseStore;
let redis: Redis;
let db: pg.Client;
let quayDb: Awaited<ReturnType<typeof createQuayDatabase>> | undefined;
let dir: string;

interface Account { id: number; username: string; email: string; organization: boolean; robot: boolean }
const accounts = new Map<string, Account>();
const repos = new Map<string, number>();
const kindIds = new Map<string, number>();

/** A log entry as Quay's database holds it. */
interface Entry {
  kind: string;
  account: string;
  performer: string | null;
  repository: string | null;
  /** Naive UTC with microseconds, as Quay stores it. */
  datetime: string;
  ip: string | null;
  metadata: Record<string, unknown>;
}

// Python's json.dumps defaults: ", " and ": " separators, non-ASCII escaped.
function pyDumps(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyDumps).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyDumps(k)}: ${pyDumps(x)}`).join(', ')}}`;
}

/** ~n entries of namespace `acme` over a few hours, with identical entries in the same second. */
function makeEntries(n: number, startMs = Date.UTC(2024, 5, 18, 10, 0, 0)): Entry[] {
  const out: Entry[] = [];
  const performers = ['alice', 'acme+deployer', null, 'bob'];
  for (let i = 0; out.length < n; i++) {
    const at = new Date(startMs + Math.floor(i / 3) * 1000 + (i % 3) * 123);
    const performer = performers[i % performers.length]!;
    const repo = i % 5 === 0 ? null : i % 2 ? 'web' : 'api';
    const kind = repo === null ? (i % 10 === 0 ? 'org_create_team' : 'login_success') : i % 7 === 0 ? 'push_repo' : 'pull_repo';
    const metadata: Record<string, unknown> = repo
      ? { repo, namespace: 'acme', 'user-agent': 'docker/24.0.7', tag: `v${i % 4}`, ...(performer ? { username: performer } : {}) }
      : { type: 'quayauth', useragent: 'Mozilla/5.0 – Ünïcode', 'date/time': 1718700000 + i };
    const e: Entry = {
      kind,
      account: 'acme',
      performer,
      repository: repo,
      datetime: at.toISOString().slice(0, 19).replace('T', ' ') + (i % 4 === 0 ? '' : `.${String(((i * 7919) % 999_999) + 1).padStart(6, '0')}`),
      ip: i % 9 === 0 ? null : `10.0.${i % 7}.${i % 200}`,
      metadata,
    };
    out.push(e);
    // Two real identical pulls in the same second.
    if (i % 13 === 1) out.push({ ...e, datetime: e.datetime.slice(0, 19) + '.999000' });
  }
  return out.slice(0, n);
}

const isoSecond = (dt: string) => new Date(`${dt.slice(0, 19).replace(' ', 'T')}Z`);

/** Quay's API shape of an entry (docs/compatibility.md). */
function apiEntry(e: Entry): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: e.kind, metadata: e.metadata, ip: e.ip, datetime: formatRfc2822(isoSecond(e.datetime)) };
  if (e.performer) {
    const p = accounts.get(e.performer)!;
    out.performer = { kind: 'user', name: p.username, is_robot: p.robot, avatar: { name: p.username, hash: 'ab12', color: '#969696', kind: p.robot ? 'robot' : 'user' } };
  }
  return out;
}

/** Quay's export document, laid out as workers/exportactionlogsworker.py writes it. */
function exportDocument(entries: Entry[], exportId = 'c6f4d2f8-export'): string {
  const details = { start_time: 'Tue, 18 Jun 2024 00:00:00 -0000', end_time: 'Thu, 20 Jun 2024 23:59:59 -0000', namespace: 'acme', repository: null };
  const logs = entries.map((e) => pyDumps(apiEntry(e)));
  return `{\n      "export_id": ${pyDumps(exportId)},\n      "details": ${pyDumps(details)},\n      "logs": [\n    ${logs.map((l) => `${l},`).join('')}\n        {"terminator": true}]\n    }`;
}

/** A log-rotation archive as workers/logrotateworker.py writes it: gzipped JSON array, ids. */
function rotationArchive(entries: Entry[]): Buffer {
  const rows = entries.map((e) => ({
    kind_id: kindIds.get(e.kind)!,
    account_id: accounts.get(e.account)!.id,
    performer_id: e.performer ? accounts.get(e.performer)!.id : null,
    repository_id: e.repository ? repos.get(e.repository)! : null,
    datetime: e.datetime, // str(datetime): fraction only when non-zero
    ip: String(e.ip ?? 'None'), // str(ip): None becomes "None"
    metadata_json: e.metadata,
  }));
  return gzipSync(pyDumps(rows));
}

async function storedCount(): Promise<number> {
  const [r] = await store.query<{ n: string }>({ name: 'test.count', sql: 'SELECT count() AS n FROM usage_logs' });
  return Number(r!.n);
}

async function drain(): Promise<void> {
  const loader = startLoader({ redis, store, consumer: `import-file-test-${process.pid}`, batchMs: 50 });
  try {
    await loader.drain();
  } finally {
    await loader.stop();
  }
}

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const run = (path: string, extra: Partial<Parameters<typeof importFile>[0]> = {}) =>
  importFile({ path, redis, store, source: SOURCE, checkpointEveryMs: 0, ...extra });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quaylogs-import-file-'));
  quayDb = await createQuayDatabase(DB_NAME);
  db = quayDb.db;
  await db.query('INSERT INTO logentrykind (name) SELECT unnest($1::text[])', [LOG_KINDS]);
  for (const k of (await db.query<{ id: number; name: string }>('SELECT id, name FROM logentrykind')).rows) kindIds.set(k.name, k.id);
  for (const [username, email, organization, robot] of [
    ['acme', 'billing@acme.example', true, false],
    ['alice', 'Alice@Example.com', false, false],
    ['bob', 'bob@example.com', false, false],
    ['acme+deployer', '5b0f6c9e-1d2a-4c55-9d7e-0c8a4f1e2b3c', false, true],
  ] as const) {
    const res = await db.query<{ id: number }>(
      `INSERT INTO "user" (username, email, verified, organization, robot, invoice_email, last_invalid_login)
       VALUES ($1, $2, true, $3, $4, false, now()) RETURNING id`,
      [username, email, organization, robot],
    );
    accounts.set(username, { id: res.rows[0]!.id, username, email, organization, robot });
  }
  for (const name of ['web', 'api']) {
    const res = await db.query<{ id: number }>(
      "INSERT INTO repository (namespace_user_id, name, visibility_id, badge_token) VALUES ($1, $2, 1, 'x') RETURNING id",
      [accounts.get('acme')!.id, name],
    );
    repos.set(name, res.rows[0]!.id);
  }
  ({ store, redis } = fixture);
});

afterAll(async () => {
  await quayDb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('importFile', () => {
  it("imports Quay's export document (plain and gzipped): every entry once, terminator skipped, namespace from details", async () => {
    const entries = makeEntries(1200);
    const doc = exportDocument(entries);
    const result = await run(file('export.json', doc), { batchRows: 250 });
    expect(result).toMatchObject({ format: 'quay-export', gzip: false, exportId: 'c6f4d2f8-export', rows: 1200, skipped: 0, completed: true });
    await drain();
    expect(await storedCount()).toBe(1200);

    const rows = await store.query<Record<string, string>>({
      name: 'test.rows',
      sql: `SELECT namespace, repository, kind, performer, ip, toString(datetime) AS datetime, metadata FROM usage_logs
            ORDER BY datetime, kind, performer, metadata, ip`,
    });
    const first = entries[1]!; // acme+deployer pulls acme/web, with an IP
    expect(rows).toContainEqual({
      namespace: 'acme',
      repository: 'web',
      kind: first.kind,
      performer: first.performer ?? '',
      ip: first.ip ?? '',
      datetime: `${first.datetime.slice(0, 19)}.000`,
      metadata: JSON.stringify(first.metadata),
    });
    // Identical entries in one second stay two.
    const twins = entries.filter((e, i) => i > 0 && e.metadata === entries[i - 1]!.metadata).length;
    expect(twins).toBeGreaterThan(50);
    const [dup] = await store.query<{ n: string }>({
      name: 'test.twins',
      sql: `SELECT sum(c - 1) AS n FROM (SELECT count() AS c FROM usage_logs
            GROUP BY kind, performer, ip, toStartOfSecond(datetime), metadata HAVING c > 1)`,
    });
    expect(Number(dup!.n)).toBe(twins);

    // The same document gzipped (any file name) is recognised and adds nothing: same keys.
    const gz = await run(file('export-copy.bin', gzipSync(doc)));
    expect(gz).toMatchObject({ format: 'quay-export', gzip: true, rows: 1200 });
    await drain();
    expect(await storedCount()).toBe(1200);
  });

  it('imports a log-rotation archive through --quay-db: ids resolved, "None" IPs and raw metadata restored; without the flag it says so', async () => {
    const entries = makeEntries(900);
    entries.push({ ...entries[3]!, metadata: { __raw: 'not json {' } });
    const path = file('1-905-logentry3.txt.gz', rotationArchive(entries));

    await expect(run(path)).rejects.toThrow(/log-rotation archive.*--quay-db <postgres-url>/);
    await expect(run(path)).rejects.toBeInstanceOf(ImportError);
    expect(await ingestBacklog(redis)).toBe(0);

    const result = await run(path, { quayDbUrl: PG_URL, batchRows: 200 });
    expect(result).toMatchObject({ format: 'rotation-archive', gzip: true, rows: 901, skipped: 0, completed: true });
    await drain();
    expect(await storedCount()).toBe(901);
    const sample = await store.query<Record<string, string>>({
      name: 'test.sample',
      sql: `SELECT namespace, repository, performer, ip, toString(datetime) AS datetime FROM usage_logs
            WHERE metadata = {m:String} ORDER BY datetime LIMIT 1`,
      params: { m: JSON.stringify(entries[1]!.metadata) },
    });
    const e = entries[1]!;
    expect(sample[0]).toEqual({
      namespace: 'acme',
      repository: e.repository ?? '',
      performer: e.performer ?? '',
      ip: e.ip ?? '',
      datetime: `${e.datetime.slice(0, 19)}.${(e.datetime.slice(20) + '000').slice(0, 3)}`,
    });
    const [noIp] = await store.query<{ n: string }>({ name: 'test.noip', sql: "SELECT count() AS n FROM usage_logs WHERE ip = ''" });
    expect(Number(noIp!.n)).toBe(entries.filter((x) => x.ip === null).length);
    const [raw] = await store.query<{ n: string }>({ name: 'test.raw', sql: "SELECT count() AS n FROM usage_logs WHERE metadata = 'not json {'" });
    expect(raw!.n).toBe('1');
    const known = await findAccounts(store, ['acme', 'alice', 'acme+deployer']);
    expect(known.get('acme')).toEqual({ name: 'acme', kind: 'org', email: 'billing@acme.example' });
    expect(known.get('alice')).toEqual({ name: 'alice', kind: 'user', email: 'Alice@Example.com' });
    expect(known.get('acme+deployer')).toMatchObject({ kind: 'robot' });

  });

  it('an export document and a rotation archive of the same entries give them the same event keys', async () => {
    const entries = makeEntries(600);
    const keys = async () =>
      (await store.query<{ k: string }>({ name: 'test.keys', sql: 'SELECT toString(event_key) AS k FROM usage_logs ORDER BY k' })).map((r) => r.k);
    await run(file('same-archive.txt.gz', rotationArchive(entries)), { quayDbUrl: PG_URL, batchRows: 128 });
    await drain();
    const fromArchive = await keys();
    expect(fromArchive).toHaveLength(600);
    await resetStore(store);
    await run(file('same-export.json', exportDocument(entries)), { batchRows: 77 });
    await drain();
    expect(await keys()).toEqual(fromArchive);
  });

  it('imports NDJSON of our export format, keeping namespace, repository, extended fields and event keys it carries', async () => {
    const entries = makeEntries(300);
    const lines = entries.map((e, i) => {
      const line: Record<string, unknown> = { ...apiEntry(e), namespace: e.account };
      if (e.repository) line.repository = e.repository;
      if (i === 0) Object.assign(line, { event_key: '123456789012345678901234567890', request_id: 'req-1', http_method: 'GET' });
      return JSON.stringify(line);
    });
    const result = await run(file('logs.ndjson', `${lines.join('\n')}\n`));
    expect(result).toMatchObject({ format: 'ndjson', rows: 300, completed: true });
    await drain();
    expect(await storedCount()).toBe(300);
    const [r] = await store.query<Record<string, string>>({
      name: 'test.keyed',
      sql: "SELECT toString(event_key) AS k, request_id, http_method, namespace FROM usage_logs WHERE request_id = 'req-1'",
    });
    expect(r).toEqual({ k: '123456789012345678901234567890', request_id: 'req-1', http_method: 'GET', namespace: 'acme' });
  });

  it('an interrupted file import resumes after the entries already handed off', async () => {
    const entries = makeEntries(1000);
    const path = file('resume.json.gz', gzipSync(exportDocument(entries)));
    const controller = new AbortController();
    const first = await run(path, { batchRows: 100, signal: controller.signal, onProgress: (p) => { if (p.rows >= 300) controller.abort(); } });
    expect(first.completed).toBe(false);
    expect(first.rows).toBeGreaterThanOrEqual(300);
    expect(first.rows).toBeLessThan(1000);
    const second = await run(path, { batchRows: 100 });
    expect(second).toMatchObject({ completed: true, resumedAfter: first.rows, rows: 1000 - first.rows });
    await drain();
    expect(await storedCount()).toBe(1000);
    expect(await run(path)).toMatchObject({ rows: 0, completed: true });
  });

  it('bad files fail with a clear message and hand nothing off', async () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ['empty.json', '', /holds no JSON value/],
      ['text.txt', 'hello, world\n', /not a Quay export document, log-rotation archive or NDJSON.*does not start with a JSON object or array/],
      ['truncated.json', exportDocument(makeEntries(50)).slice(0, 3000), /ends inside .*truncated/],
      ['truncated.gz', gzipSync(exportDocument(makeEntries(200))).subarray(0, 400), /damaged or truncated gzip/],
      ['binary.bin', Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x80, 0x81, 0x7b]), /not UTF-8|not a Quay export/],
      ['other.json', '{"name": "not a log", "size": 3}\n', /entry at character 0: not a Quay log entry/],
      ['array.json', '[{"a": 1}]', /neither a log-rotation row .* nor a log entry/],
      ['badjson.ndjson', '{"kind": "pull_repo", "datetime": "Tue, 18 Jun 2024 18:59:13 -0000"}\n{"kind": oops}\n', /unexpected|invalid JSON/],
      ['nologs.json', '{"export_id": "x", "details": {}}', /no "logs" array/],
    ];
    for (const [name, content, message] of cases) {
      const err = await run(file(name, content)).then(() => null, (e: unknown) => e);
      expect(err, name).toBeInstanceOf(ImportError);
      expect((err as Error).message, name).toMatch(message);
      expect((err as Error).message, name).toContain(name);
    }
    await expect(run(join(dir, 'missing.json'))).rejects.toThrow(/cannot read .*missing\.json/);
    expect(await ingestBacklog(redis)).toBe(0);
  });
});
