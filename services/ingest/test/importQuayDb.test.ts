/**
 * `importQuayDb` against a real PostgreSQL holding Quay's schema and indexes exactly as
 * Quay's migrations create them (test/fixtures/quay-schema.sql), a real Redis (database
 * 10) and the real embedded ClickHouse, with the real loader storing what the importer
 * hands off.
 */
import pg from 'pg';
import { createQuayDatabase, PG_BASE } from '@quaylogs/testing/quayDb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseStore, findAccounts, listImportCheckpoints } from '@quaylogs/clickhouse';
import { LOG_KINDS, type UsageLogRow } from '@quaylogs/core';
import { demoRows, demoWorld } from '@quaylogs/demo';
import { ingestBacklog, type Redis } from '@quaylogs/queue';
import { resetStore, useStoreAndRedis } from '@quaylogs/testing';
import { startLoader } from '../src/loader.ts';
import { type ImportProgress, importQuayDb, ImportError } from '../src/import/index.ts';

const DB_NAME = `quaylogs_import_test_${process.pid}`;
const PG_URL = `${PG_BASE}/${DB_NAME}`;
const SOURCE = 'quay-test';
const NOW = new Date('2024-07-10T00:00:00Z');

// Store (import checkpoints included) and Redis emptied before each test.
const fixture = useStoreAndRedis();
let store: ClickHouseStore;
let redis: Redis;
let db: pg.Client;
let quayDb: Awaited<ReturnType<typeof createQuayDatabase>> | undefined;
/** Rows Quay's tables hold, over logentry3 and logentry2. */
let totalRows = 0;
/** A content that exists 3 times in one second (twice in logentry3 far apart, once in logentry2). */
let tripletMetadata = '';

// ---------------------------------------------------------------- Quay's database

async function createDatabase(): Promise<void> {
  quayDb = await createQuayDatabase(DB_NAME);
  db = quayDb.db;
  // Legacy table, as Quay's migration 1783530bee68 creates it (FK and indexes included).
  await db.query(`
    CREATE TABLE logentry2 (
      id SERIAL NOT NULL, kind_id INTEGER NOT NULL, account_id INTEGER NOT NULL, performer_id INTEGER,
      repository_id INTEGER, datetime TIMESTAMP WITHOUT TIME ZONE NOT NULL, ip VARCHAR(255), metadata_json TEXT NOT NULL,
      CONSTRAINT pk_logentry2 PRIMARY KEY (id),
      CONSTRAINT fk_logentry2_kind_id_logentrykind FOREIGN KEY (kind_id) REFERENCES logentrykind (id));
    CREATE INDEX logentry2_account_id ON logentry2 (account_id);
    CREATE INDEX logentry2_account_id_datetime ON logentry2 (account_id, datetime);
    CREATE INDEX logentry2_datetime ON logentry2 (datetime);
    CREATE INDEX logentry2_kind_id ON logentry2 (kind_id);
    CREATE INDEX logentry2_performer_id ON logentry2 (performer_id);
    CREATE INDEX logentry2_performer_id_datetime ON logentry2 (performer_id, datetime);
    CREATE INDEX logentry2_repository_id ON logentry2 (repository_id);
    CREATE INDEX logentry2_repository_id_datetime ON logentry2 (repository_id, datetime);
    CREATE INDEX logentry2_repository_id_datetime_kind_id ON logentry2 (repository_id, datetime, kind_id);`);
}

interface QuayRow {
  kind_id: number;
  account_id: number;
  performer_id: number | null;
  repository_id: number | null;
  datetime: string;
  ip: string | null;
  metadata_json: string;
}

async function insertLogs(table: 'logentry3' | 'logentry2', rows: QuayRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    const part = rows.slice(i, i + 5000);
    await db.query(
      `INSERT INTO ${table} (kind_id, account_id, performer_id, repository_id, datetime, ip, metadata_json)
       SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::timestamp[], $6::text[], $7::text[])`,
      [
        part.map((r) => r.kind_id), part.map((r) => r.account_id), part.map((r) => r.performer_id),
        part.map((r) => r.repository_id), part.map((r) => r.datetime), part.map((r) => r.ip), part.map((r) => r.metadata_json),
      ],
    );
  }
}

/** Fills Quay's tables from the demo generator: kinds, users/orgs/robots, repositories, log rows. */
async function fillQuay(rowCount: number): Promise<void> {
  // Kind ids are installation-specific: number them in reverse to prove names are mapped by name.
  const kinds = [...LOG_KINDS].reverse();
  await db.query('INSERT INTO logentrykind (name) SELECT unnest($1::text[])', [kinds]);
  const kindId = new Map((await db.query<{ id: number; name: string }>('SELECT id, name FROM logentrykind')).rows.map((k) => [k.name, k.id]));

  const opts = { rows: rowCount, seed: 11, now: NOW, days: 20, source: SOURCE };
  const world = demoWorld(opts);
  const rows: UsageLogRow[] = [];
  for (const batch of demoRows(opts, 5000)) rows.push(...batch);
  const accounts = new Map(world.accounts.map((a) => [a.name, a]));
  for (const r of rows) {
    for (const name of [r.namespace, r.performer]) {
      if (name !== '' && !accounts.has(name)) accounts.set(name, { name, kind: name.includes('+') ? 'robot' : 'user', email: null });
    }
    if (!kindId.has(r.kind)) {
      const res = await db.query<{ id: number }>('INSERT INTO logentrykind (name) VALUES ($1) RETURNING id', [r.kind]);
      kindId.set(r.kind, res.rows[0]!.id);
    }
  }
  const userId = new Map<string, number>();
  const emails = new Set<string>();
  for (const a of accounts.values()) {
    // Quay: e-mail is NOT NULL, and unique among users and robots (user_email_unique_non_org).
    const email = a.email !== null && !emails.has(a.email) ? a.email : `${a.name.replace('+', '.')}-${a.kind}@quay.invalid`;
    emails.add(email);
    const res = await db.query<{ id: number }>(
      `INSERT INTO "user" (uuid, username, email, verified, organization, robot, invoice_email, last_invalid_login)
       VALUES (gen_random_uuid()::text, $1, $2, true, $3, $4, false, now()) RETURNING id`,
      [a.name, email, a.kind === 'org', a.kind === 'robot'],
    );
    userId.set(a.name, res.rows[0]!.id);
  }
  const repoId = new Map<string, number>();
  for (const r of world.repositories) {
    const ns = userId.get(r.namespace);
    if (ns === undefined) continue;
    const res = await db.query<{ id: number }>(
      "INSERT INTO repository (namespace_user_id, name, visibility_id, badge_token) VALUES ($1, $2, 1, 'x') RETURNING id",
      [ns, r.name],
    );
    repoId.set(`${r.namespace}/${r.name}`, res.rows[0]!.id);
  }
  const serviceAccount = Math.min(...userId.values()); // Quay's fallback account for namespace-less entries

  const toQuay = (r: UsageLogRow, i: number): QuayRow => ({
    kind_id: kindId.get(r.kind)!,
    account_id: r.namespace === '' ? serviceAccount : userId.get(r.namespace)!,
    performer_id: r.performer === '' ? null : userId.get(r.performer)!,
    repository_id: r.repository === '' ? null : (repoId.get(`${r.namespace}/${r.repository}`) ?? null),
    // Quay keeps microseconds; the importer truncates to milliseconds.
    datetime: `${r.datetime}${String((i * 7919) % 1000).padStart(3, '0')}`,
    ip: r.ip === '' ? null : r.ip,
    // Python's json.dumps separators, as Quay writes metadata_json.
    metadata_json: JSON.stringify(JSON.parse(r.metadata)).replaceAll('":', '": ').replaceAll(',"', ', "'),
  });
  const quayRows = rows.map(toQuay);

  // Identical entries in the same second: twins right after the original (same batch) and
  // at the end of the table (a later batch), a triplet spread over logentry3 and logentry2.
  const withTwins: QuayRow[] = [];
  quayRows.forEach((r, i) => {
    withTwins.push(r);
    if (i % 97 === 5) withTwins.push({ ...r, datetime: r.datetime.slice(0, 19) + '.999999' });
  });
  const lateTwins = quayRows.filter((_, i) => i % 89 === 3).map((r) => ({ ...r }));
  const triplet = { ...quayRows[1234 % quayRows.length]!, metadata_json: '{"triplet": true}' };
  tripletMetadata = triplet.metadata_json;
  // Rows whose ids no longer resolve: a deleted performer, a deleted repository, an unknown kind.
  const orphans: QuayRow[] = [
    { ...quayRows[10]!, performer_id: 999_999, metadata_json: '{"orphan": "performer"}' },
    { ...quayRows[11]!, repository_id: 999_999, metadata_json: '{"repo": "gone-repo", "namespace": "x"}' },
    { ...quayRows[12]!, kind_id: 9_999, metadata_json: '{"orphan": "kind"}' },
  ];
  await insertLogs('logentry3', [...withTwins, triplet, ...orphans, ...lateTwins, triplet]);
  await insertLogs('logentry2', [triplet, ...quayRows.slice(0, 40)]);
  const n = await db.query<{ n: number }>('SELECT (SELECT count(*) FROM logentry3) + (SELECT count(*) FROM logentry2) AS n');
  totalRows = Number(n.rows[0]!.n);
}

/**
 * Quay's aggregate (data/model/log.py get_aggregated_logs: count(id) grouped by kind_id and
 * the day, per log table, summed over the tables by table_logs_model.get_aggregated_log_counts),
 * grouped by the real date instead of Quay's day-of-month number.
 */
async function quayAggregate(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const table of ['logentry3', 'logentry2']) {
    const res = await db.query<{ kind_id: number; day: string; count: string }>(
      `SELECT kind_id, to_char(date_trunc('day', datetime), 'YYYY-MM-DD') AS day, count(id) AS count
         FROM ${table} WHERE datetime >= $1 AND datetime < $2
        GROUP BY date_trunc('day', datetime), kind_id`,
      ['2000-01-01', '2100-01-01'],
    );
    const kinds = new Map((await db.query<{ id: number; name: string }>('SELECT id, name FROM logentrykind')).rows.map((k) => [k.id, k.name]));
    for (const r of res.rows) {
      const key = `${kinds.get(r.kind_id) ?? 'unknown'} ${r.day}`;
      out.set(key, (out.get(key) ?? 0) + Number(r.count));
    }
  }
  return out;
}

async function storedAggregate(): Promise<Map<string, number>> {
  const rows = await store.query<{ kind: string; day: string; n: string }>({
    name: 'test.aggregate',
    sql: `SELECT kind, toString(toDate(datetime)) AS day, count() AS n FROM usage_logs
          WHERE source = {source:String} GROUP BY kind, day`,
    params: { source: SOURCE },
  });
  return new Map(rows.map((r) => [`${r.kind} ${r.day}`, Number(r.n)]));
}

async function storedCount(): Promise<number> {
  const [r] = await store.query<{ n: string }>({ name: 'test.count', sql: 'SELECT count() AS n FROM usage_logs' });
  return Number(r!.n);
}

/** Runs the real loader until everything in the stream is stored. */
async function drain(): Promise<void> {
  const loader = startLoader({ redis, store, consumer: `import-test-${process.pid}`, batchMs: 50 });
  try {
    await loader.drain();
  } finally {
    await loader.stop();
  }
}

const run = (extra: Partial<Parameters<typeof importQuayDb>[0]> = {}) =>
  importQuayDb({ pgUrl: PG_URL, redis, store, source: SOURCE, batchRows: 500, checkpointEveryMs: 0, ...extra });

beforeAll(async () => {
  await createDatabase();
  await fillQuay(4000);
  ({ store, redis } = fixture);
});

afterAll(async () => {
  await quayDb?.drop();
});

describe('importQuayDb', () => {
  it("stores counts per kind and day equal to Quay's own aggregate SQL on its tables", async () => {
    const progress: ImportProgress[] = [];
    const result = await run({ onProgress: (p) => progress.push(p) });
    expect(result).toMatchObject({ rows: totalRows, skipped: 0, completed: true });
    expect(result.tables.map((t) => t.table)).toEqual(['logentry2', 'logentry3']);
    expect(progress[0]!.total).toBe(totalRows);
    expect(progress.at(-1)).toMatchObject({ rows: totalRows, total: totalRows, etaS: 0 });
    expect(progress.length).toBeGreaterThan(5);
    await drain();

    expect(await storedCount()).toBe(totalRows);
    expect(Object.fromEntries(await storedAggregate())).toEqual(Object.fromEntries(await quayAggregate()));

    // Quay's exact SQL (day-of-month buckets, summed over the log tables) over one calendar
    // month agrees with ours by day of month.
    const kinds = new Map((await db.query<{ id: number; name: string }>('SELECT id, name FROM logentrykind')).rows.map((k) => [k.id, k.name]));
    const expected = new Map<string, number>();
    for (const table of ['logentry3', 'logentry2']) {
      const quay = await db.query<{ kind_id: number; day: string; count: string }>(
        `SELECT kind_id, EXTRACT(day FROM datetime) AS day, COUNT(id) AS count FROM ${table}
          WHERE datetime >= $1 AND datetime < $2 GROUP BY EXTRACT(day FROM datetime), kind_id`,
        ['2024-07-01', '2024-08-01'],
      );
      for (const r of quay.rows) {
        const key = `${kinds.get(r.kind_id) ?? 'unknown'} ${Number(r.day)}`;
        expected.set(key, (expected.get(key) ?? 0) + Number(r.count));
      }
    }
    const ours = await store.query<{ kind: string; day: string; n: string }>({
      name: 'test.monthDays',
      sql: `SELECT kind, toString(toDayOfMonth(datetime)) AS day, count() AS n FROM usage_logs
            WHERE datetime >= '2024-07-01 00:00:00' AND datetime < '2024-08-01 00:00:00' GROUP BY kind, day`,
    });
    expect(expected.size).toBeGreaterThan(20);
    expect(Object.fromEntries(ours.map((r) => [`${r.kind} ${r.day}`, Number(r.n)]))).toEqual(Object.fromEntries(expected));
  });

  it('maps names, robots, deleted ids and metadata as Quay renders them, and keeps identical entries of one second apart', async () => {
    await run();
    await drain();
    // The triplet: twice in logentry3 (far apart in id order), once in logentry2, one second.
    const [t] = await store.query<{ n: string; keys: string }>({
      name: 'test.triplet',
      sql: 'SELECT count() AS n, uniqExact(event_key) AS keys FROM usage_logs WHERE metadata = {m:String}',
      params: { m: tripletMetadata },
    });
    expect(t).toEqual({ n: '3', keys: '3' });
    // Twins placed next to their original and at the end of the table survive too.
    const [dups] = await store.query<{ n: string }>({
      name: 'test.dups',
      sql: `SELECT count() AS n FROM (SELECT count() AS c FROM usage_logs
            GROUP BY namespace, repository, kind, performer, ip, toStartOfSecond(datetime), metadata HAVING c > 1)`,
    });
    expect(Number(dups!.n)).toBeGreaterThan(80);

    const orphans = await store.query<Record<string, string>>({
      name: 'test.orphans',
      sql: `SELECT kind, performer, repository, metadata FROM usage_logs WHERE metadata LIKE '%orphan%' OR metadata LIKE '%gone-repo%' ORDER BY metadata`,
    });
    expect(orphans.find((r) => r.metadata!.includes('performer'))).toMatchObject({ performer: '' });
    expect(orphans.find((r) => r.metadata!.includes('gone-repo'))).toMatchObject({ repository: 'gone-repo' });
    expect(orphans.find((r) => r.metadata!.includes('"kind"'))).toMatchObject({ kind: 'unknown' });

    // One stored row next to its Quay row: names, ms-truncated time, metadata text as stored.
    const q = await db.query<{ username: string; performer: string | null; repo: string | null; kind: string; dt: string; ip: string | null; metadata_json: string; robot: boolean | null }>(
      `SELECT a.username, p.username AS performer, r.name AS repo, k.name AS kind, to_char(l.datetime, 'YYYY-MM-DD HH24:MI:SS.US') AS dt,
              l.ip, l.metadata_json, p.robot
         FROM logentry3 l JOIN "user" a ON a.id = l.account_id LEFT JOIN "user" p ON p.id = l.performer_id
         LEFT JOIN repository r ON r.id = l.repository_id JOIN logentrykind k ON k.id = l.kind_id
        WHERE p.robot AND l.repository_id IS NOT NULL ORDER BY l.id LIMIT 1`,
    );
    const quayRow = q.rows[0]!;
    const stored = await store.query<Record<string, string>>({
      name: 'test.one',
      sql: `SELECT namespace, repository, kind, performer, ip, toString(datetime) AS datetime, metadata FROM usage_logs
            WHERE metadata = {m:String} AND performer = {p:String} LIMIT 1`,
      params: { m: quayRow.metadata_json, p: quayRow.performer! },
    });
    expect(stored[0]).toEqual({
      namespace: quayRow.username,
      repository: quayRow.repo,
      kind: quayRow.kind,
      performer: quayRow.performer,
      ip: quayRow.ip ?? '',
      datetime: quayRow.dt.slice(0, 23),
      metadata: quayRow.metadata_json,
    });
    const accounts = await findAccounts(store, [quayRow.username, quayRow.performer!]);
    expect(accounts.get(quayRow.performer!)).toMatchObject({ kind: 'robot' });
    const ns = await db.query<{ email: string; organization: boolean }>('SELECT email, organization FROM "user" WHERE username = $1', [quayRow.username]);
    expect(accounts.get(quayRow.username)).toEqual({
      name: quayRow.username,
      kind: ns.rows[0]!.organization ? 'org' : 'user',
      email: ns.rows[0]!.email,
    });
  });

  it('gives every entry the same event key whatever the batch size (look-backs across batch edges and out-of-order ids)', async () => {
    const keys = async () =>
      (await store.query<{ k: string }>({ name: 'test.keys', sql: 'SELECT toString(event_key) AS k FROM usage_logs ORDER BY k' })).map((r) => r.k);
    await run({ batchRows: 100_000 });
    await drain();
    const oneBatch = await keys();
    expect(oneBatch).toHaveLength(totalRows);
    for (const batchRows of [97, 1333]) {
      await redis.flushdb();
      await resetStore(store);
      // No loader runs during run(): room for every batch in the stream.
      await run({ batchRows, restart: true, maxBacklog: 1_000 });
      await drain();
      expect(await keys()).toEqual(oneBatch);
    }
  }, 180_000);

  it('a second run adds nothing: the checkpoint skips every row, and a restart from scratch is dropped by event key', async () => {
    await run();
    await drain();
    expect(await storedCount()).toBe(totalRows);

    const again = await run();
    expect(again).toMatchObject({ rows: 0, completed: true });
    expect(await ingestBacklog(redis)).toBe(0);

    const restart = await run({ restart: true });
    expect(restart.rows).toBe(totalRows);
    await drain();
    expect(await storedCount()).toBe(totalRows);
    expect(Object.fromEntries(await storedAggregate())).toEqual(Object.fromEntries(await quayAggregate()));
  });

  it('an interrupted run (progress callback throws) resumes at its checkpoint and ends with the exact total', async () => {
    let batches = 0;
    const boom = new Error('interrupted');
    await expect(run({ onProgress: () => { if (++batches === 3) throw boom; } })).rejects.toBe(boom);
    const checkpoints = await listImportCheckpoints(store, SOURCE);
    const handed = checkpoints.reduce((n, c) => n + c.rows, 0);
    expect(handed).toBeGreaterThan(0);
    expect(handed).toBeLessThan(totalRows);
    await drain();
    expect(await storedCount()).toBe(handed);

    const rest = await run();
    expect(rest.rows).toBe(totalRows - handed);
    await drain();
    expect(await storedCount()).toBe(totalRows);
    expect(Object.fromEntries(await storedAggregate())).toEqual(Object.fromEntries(await quayAggregate()));
  });

  it('an aborted run (AbortSignal) stops after the batch in hand and a later run completes it', async () => {
    const controller = new AbortController();
    const first = await run({ signal: controller.signal, onProgress: (p) => { if (p.rows >= 1000) controller.abort(); } });
    expect(first.completed).toBe(false);
    expect(first.rows).toBeGreaterThanOrEqual(1000);
    expect(first.rows).toBeLessThan(totalRows);
    const second = await run();
    expect(second).toMatchObject({ completed: true, rows: totalRows - first.rows });
    await drain();
    expect(await storedCount()).toBe(totalRows);
  });

  it('says clearly when the database is not Quay’s or cannot be reached', async () => {
    await expect(importQuayDb({ pgUrl: `${PG_BASE}/postgres`, redis, store })).rejects.toThrow(/has no "logentrykind" table/);
    await expect(importQuayDb({ pgUrl: 'postgres://postgres@127.0.0.1:1/quay', redis, store })).rejects.toThrow(ImportError);
    await expect(importQuayDb({ pgUrl: 'postgres://postgres@127.0.0.1:1/quay', redis, store })).rejects.toThrow(/cannot connect to Quay's database/);
    expect(await ingestBacklog(redis)).toBe(0);
  });
});
