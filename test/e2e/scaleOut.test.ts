/**
 * Scale-out as separate OS processes over the server backend (the server lane: the real
 * engine behind ClickHouse's HTTP protocol, reached through CLICKHOUSE_URL) and one Redis:
 * one `quaylogs api`, three `quaylogs worker --roles loader`, one exporter and one poller
 * worker, all started at the same moment with QUAYLOGS_MIGRATE=auto, so their migrations
 * race (each must be applied exactly once). Entries arrive by three paths at once — HEC
 * posts to the api, the poller reading a Quay simulator, `quaylogs import quay-db` from a
 * PostgreSQL database holding Quay's schema — while one loader is SIGKILLed twice in the
 * middle of a batch (its insert intent is still in Redis when it dies) and restarted, and
 * an export runs to completion. Then every acknowledged entry is stored exactly once and
 * every rollup equals a recount of usage_logs.
 *
 * Size: QUAYLOGS_SCALEOUT_ENTRIES entries in total (default 1,000,000: 2 % polled, at most
 * 20,000, 15 % imported, the rest by HEC). 1M took 249 s on 2 shared cores under load
 * (load average 6-18); QUAYLOGS_SCALEOUT_ENTRIES=30000 about 75 s. Redis database 4.
 */
import { hostname, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { loadMigrations } from '@quaylogs/clickhouse';
import { INSERT_INTENTS_KEY, pendingEntries } from '@quaylogs/ingest';
import { DEADLETTER_STREAM, ingestBacklog, quitRedis, type Redis, redisForWorkers } from '@quaylogs/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuayDatabase } from '@quaylogs/testing/quayDb';
import { type QuaySim, type SimEntry, startQuaySim } from '@quaylogs/testing/quaySim';
import { type ServerLane, startServerLane } from '@quaylogs/testing/serverLane';
import { type CliProc, ROLLUPS, rollupMismatchSql, spawnCli, until } from '@quaylogs/testing/processes';
import { childEnv, freePort } from '@quaylogs/testing/up';
import { testRedisUrl } from '@quaylogs/testing';

const TOTAL = Number(process.env.QUAYLOGS_SCALEOUT_ENTRIES ?? 1_000_000);
const POLLED = Math.min(20_000, Math.floor(TOTAL * 0.02));
const IMPORTED = Math.floor(TOTAL * 0.15);
const HEC_ENTRIES = TOTAL - POLLED - IMPORTED;
const HEC_BODY = 1000;
const HEC_IN_FLIGHT = 4;

const ADMIN = 'scale-out-bootstrap-token-0123456789';
const HEC_TOKEN = 'scale-out-hec-token-0123456789';
const SIM_TOKEN = 'scale-out-quay-token';
const REDIS_URL = testRedisUrl('scaleOut');
const PG_NAME = `quaylogs_scaleout_${process.pid}`;
const NOW_S = Math.floor(Date.now() / 1000);

let lane: ServerLane;
let sim: QuaySim;
let quayDb: Awaited<ReturnType<typeof createQuayDatabase>>;
let redis: Redis;
let ch: ClickHouseClient;
let dataDir: string;
let apiPort: number;
const procs: CliProc[] = [];

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return childEnv({
    CLICKHOUSE_URL: lane.clickhouseUrl,
    REDIS_URL,
    QUAYLOGS_DATA_DIR: dataDir,
    QUAYLOGS_PORT: String(apiPort),
    QUAYLOGS_MIGRATE: 'auto',
    QUAYLOGS_BOOTSTRAP_TOKEN: ADMIN,
    QUAYLOGS_SECRET: 'scale-out-secret-0123456789abcdef',
    QUAYLOGS_HEC_TOKENS: `hec=${HEC_TOKEN}`,
    QUAYLOGS_LOG_LEVEL: 'info',
    QUAYLOGS_LOG_FORMAT: 'json',
    ...extra,
  });
}

function start(name: string, args: string[], extra: Record<string, string> = {}): CliProc {
  const p = spawnCli(name, args, env(extra));
  procs.push(p);
  return p;
}

async function q<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await ch.query({ query, query_params: params, format: 'JSONEachRow' });
  return rs.json<T>();
}

const mdy = (epochS: number) => {
  const d = new Date(epochS * 1000);
  return `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/${d.getUTCFullYear()}`;
};

/** Polled entries: distinct seconds (Quay's paging is exact then), the last hours before now. */
function polledEntries(): SimEntry[] {
  return Array.from({ length: POLLED }, (_, i) => ({
    namespace: `poll${i % 3}`,
    kind: i % 2 ? 'pull_repo' : 'push_repo',
    performer: `pollbot${i % 2}`,
    ip: '10.2.0.1',
    datetime: new Date((NOW_S - 3_600 - POLLED + i) * 1000),
    metadata: { seq: i, repo: `r${i % 5}`, namespace: `poll${i % 3}` },
  }));
}

/** Quay's logentry3, filled in PostgreSQL itself: IMPORTED entries in distinct seconds of the last two days. */
async function fillQuayDb(): Promise<void> {
  const db = quayDb.db;
  await db.query("INSERT INTO logentrykind (name) VALUES ('pull_repo'), ('push_repo')");
  for (const [name, org] of [['db0', true], ['db1', true], ['db2', true], ['dbuser', false]] as const) {
    await db.query(
      `INSERT INTO "user" (uuid, username, email, verified, organization, robot, invoice_email, last_invalid_login)
       VALUES (gen_random_uuid()::text, $1, $2, true, $3, false, false, now())`,
      [name, `${name}@quay.invalid`, org],
    );
  }
  await db.query(`INSERT INTO repository (namespace_user_id, name, visibility_id, badge_token)
                  SELECT id, 'repo', 1, 'x' FROM "user" WHERE organization`);
  await db.query(
    `INSERT INTO logentry3 (kind_id, account_id, performer_id, repository_id, datetime, ip, metadata_json)
     SELECT k.ids[1 + g % 2], a.ids[1 + g % 3], p.id, r.ids[1 + g % 3],
            to_timestamp($2::bigint + g) AT TIME ZONE 'UTC', '10.3.0.1', '{"seq": ' || g || '}'
       FROM generate_series(0, $1::int - 1) AS g,
            (SELECT array_agg(id ORDER BY name) AS ids FROM logentrykind) AS k,
            (SELECT array_agg(id ORDER BY username) AS ids FROM "user" WHERE organization) AS a,
            (SELECT array_agg(r.id ORDER BY u.username) AS ids FROM repository r JOIN "user" u ON u.id = r.namespace_user_id) AS r,
            (SELECT id FROM "user" WHERE username = 'dbuser') AS p`,
    [IMPORTED, NOW_S - 2 * 86_400],
  );
}

const hecEvent = (seq: number) => ({
  event: {
    account: `hec${seq % 7}`, datetime: NOW_S - 3 * 86_400 + Math.floor((seq * 3 * 86_400) / HEC_ENTRIES), ip: '10.1.0.1',
    kind: seq % 3 ? 'pull_repo' : 'push_repo', metadata_json: { seq, namespace: `hec${seq % 7}`, repo: `r${seq % 11}` },
    namespace_name: `hec${seq % 7}`, performer: `user${seq % 5}`, performer_email: null, performer_kind: null,
    performer_username: `user${seq % 5}`, repository: `r${seq % 11}`, repository_name: `r${seq % 11}`,
  },
  host: 'quay.example.com',
  sourcetype: 'access_combined',
});

/** Posts every HEC entry in bodies of HEC_BODY, HEC_IN_FLIGHT at a time; resolves with the bodies Splunk's Success acknowledged. */
async function feedHec(base: string): Promise<{ acked: number[]; refused: string[] }> {
  const acked: number[] = [];
  const refused: string[] = [];
  let next = 0;
  const bodies = Math.ceil(HEC_ENTRIES / HEC_BODY);
  const lane = async () => {
    for (let b = next++; b < bodies; b = next++) {
      const n = Math.min(HEC_BODY, HEC_ENTRIES - b * HEC_BODY);
      const body = Array.from({ length: n }, (_, i) => JSON.stringify(hecEvent(b * HEC_BODY + i))).join('\n');
      try {
        const res = await fetch(`${base}/services/collector/event`, { method: 'POST', headers: { authorization: `Splunk ${HEC_TOKEN}` }, body });
        const text = await res.text();
        if (res.status === 200 && JSON.parse(text).code === 0) acked.push(b);
        else refused.push(`${res.status} ${text.slice(0, 200)}`);
      } catch (err) {
        refused.push(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: HEC_IN_FLIGHT }, lane));
  return { acked: acked.sort((a, b) => a - b), refused };
}

/**
 * Waits until one of `loaders` (the first listed wins a tie) is in the middle of a batch — its
 * insert intent is in Redis —, SIGKILLs it there and says which one it was.
 */
async function killMidBatch(loaders: CliProc[]): Promise<{ victim: CliProc; intentLeft: boolean; pending: number }> {
  const field = (p: CliProc) => `${hostname()}-${p.child.pid}`;
  const victim = await until(
    'a loader to be in the middle of a batch',
    async () => {
      const held = new Set(await redis.hkeys(INSERT_INTENTS_KEY));
      return loaders.find((p) => held.has(field(p)));
    },
    300_000,
    2,
  );
  await victim.kill('SIGKILL');
  return { victim, intentLeft: (await redis.hexists(INSERT_INTENTS_KEY, field(victim))) === 1, pending: await pendingEntries(redis) };
}

beforeAll(async () => {
  redis = redisForWorkers(REDIS_URL);
  await redis.flushdb();
  dataDir = mkdtempSync(join(tmpdir(), 'quaylogs-scaleout-'));
  apiPort = await freePort();
  [lane, sim, quayDb] = await Promise.all([
    startServerLane(),
    startQuaySim({ tokens: { [SIM_TOKEN]: { username: 'admin', superuser: true, readAllOrgs: true } }, entries: polledEntries() }),
    createQuayDatabase(PG_NAME),
  ]);
  await fillQuayDb();
  ch = createClient({ url: lane.url, username: lane.user, password: lane.password, database: 'quaylogs', request_timeout: 300_000 });
  writeFileSync(
    join(dataDir, 'sources.yaml'),
    `sources:\n  - name: polled\n    url: ${sim.url}\n    token: ${SIM_TOKEN}\n    superuser: true\n    interval: 1m\n    start: ${mdy(NOW_S - 86_400)}\n`,
  );
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await ch?.close();
  await sim?.close();
  await quayDb?.drop();
  await lane?.stop();
  if (redis) {
    await redis.flushdb();
    await quitRedis(redis);
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('scale-out: api, three loaders, an exporter and a poller as separate processes', () => {
  it(`stores ${TOTAL} entries fed by HEC, poller and import at once exactly once, through two SIGKILLs mid-batch`, async () => {
    const t0 = Date.now();
    const marks: string[] = [];
    const mark = (what: string) => marks.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`) && console.log(marks.at(-1));
    const base = `http://127.0.0.1:${apiPort}`;
    // All at the same moment, each applying migrations itself.
    const api = start('api', ['api']);
    const loaders = [1, 2, 3].map((n) => start(`loader-${n}`, ['worker', '--roles', 'loader']));
    const exporter = start('exporter', ['worker', '--roles', 'exporter']);
    const poller = start('poller', ['worker', '--roles', 'poller'], { QUAYLOGS_CONFIG: join(dataDir, 'sources.yaml') });
    await until('the api', async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined), 180_000);
    const tReady = Date.now();
    mark('ready');

    // Each migration applied exactly once, whoever applied it.
    const migrations = await q<{ version: number; n: string }>('SELECT version, count() AS n FROM schema_migrations GROUP BY version ORDER BY version');
    expect(migrations.map((r) => [Number(r.version), Number(r.n)])).toEqual(loadMigrations().map((m) => [m.version, 1]));

    // Three paths at once: HEC posts, the poller (already running), an import from Quay's database.
    const hec = feedHec(base);
    const importer = start('import', ['import', 'quay-db', quayDb.url, '--source', 'imported']);

    // Twice, a loader dies in the middle of a batch (its insert intent still in Redis) and is
    // restarted; the second time the restarted one is the first choice. A kill that lands just
    // after the batch was acknowledged (the intent seen, then gone before the signal) is still a
    // crash, but not mid-batch: it does not count, and another loader is killed.
    const kills: { loader: string; intentLeft: boolean; pending: number }[] = [];
    const midBatch = () => kills.filter((k) => k.intentLeft);
    for (let k = 1; midBatch().length < 2 && k <= 6; k++) {
      const live = loaders.filter((l) => l.child.exitCode === null && l.child.signalCode === null).reverse();
      const { victim, intentLeft, pending } = await killMidBatch(live);
      kills.push({ loader: victim.name, intentLeft, pending });
      mark(`kill ${k}`);
      loaders.push(start(`${victim.name.replace(/ .*/, '')} (restart ${k})`, ['worker', '--roles', 'loader']));
    }
    // An export requested while entries flow (once some of its namespace's are stored) runs to completion on the exporter process.
    await until('entries of hec0 to be stored', async () => {
      const [r] = await q<{ n: string }>("SELECT count() AS n FROM usage_logs WHERE source = 'hec' AND namespace = 'hec0'");
      return Number(r!.n) > 0 ? true : undefined;
    }, 300_000, 500);
    const exportRes = await fetch(`${base}/api/v1/organization/hec0/exportlogs?starttime=${mdy(NOW_S - 4 * 86_400)}&endtime=${mdy(NOW_S)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(exportRes.status).toBe(200);
    const { export_id: exportId } = (await exportRes.json()) as { export_id: string };

    expect(midBatch()).toHaveLength(2);
    expect(midBatch().every((k) => k.pending > 0)).toBe(true);

    const { acked, refused } = await hec;
    const tFed = Date.now();
    mark('fed');
    expect(refused).toEqual([]);
    expect(await importer.done, importer.out().slice(-2000)).toBe(0);
    mark('imported');

    const exported = await until(
      'the export to be delivered',
      async () => {
        const res = await fetch(`${base}/api/v1/exportlogs/${exportId}`, { headers: { authorization: `Bearer ${ADMIN}` } });
        const body = (await res.json()) as { status: string; rows: number };
        if (body.status === 'failed') throw new Error(`export failed: ${JSON.stringify(body)}`);
        return body.status === 'delivered' ? body : undefined;
      },
      600_000,
      1_000,
    );
    expect(exported.rows).toBeGreaterThan(0);
    mark('exported');

    // The stream drains, no insert is left half done, and the poller has read the simulator
    // again after that (a re-read adds nothing, but would store what a first pass lost).
    const polls = () => poller.out().split('\n').filter((l) => l.includes('poller: namespace polled')).length;
    let state = {};
    await until(
      () => `the stream to drain: ${JSON.stringify(state)}`,
      async () => {
        state = { backlog: await ingestBacklog(redis), intents: await redis.hkeys(INSERT_INTENTS_KEY), polls: polls() };
        return (await ingestBacklog(redis)) === 0 && (await redis.hlen(INSERT_INTENTS_KEY)) === 0 ? true : undefined;
      },
      Number(process.env.SCALEOUT_DRAIN_MS ?? 600_000),
      1_000,
    );
    const drainedPolls = polls();
    await until('one more poll', async () => (polls() > drainedPolls ? true : undefined), 180_000, 1_000);
    await until('the stream to drain again', async () => ((await ingestBacklog(redis)) === 0 && (await redis.hlen(INSERT_INTENTS_KEY)) === 0 ? true : undefined), 180_000, 1_000);
    // What was stored, for the failure message (and the evidence if an entry is missing).
    const summary = {
      bySource: await q('SELECT source, namespace, count() AS n, uniqExact(event_key) AS k FROM usage_logs GROUP BY source, namespace ORDER BY source, namespace'),
      deadLetters: await redis.xlen(DEADLETTER_STREAM),
      loaderEvents: loaders.flatMap((l) =>
        l.out().split('\n').filter((x) => /replayedFrom|dead-letter|insert failed|cycle failed|left to the shard|final batch/.test(x)).map((x) => `${l.name}: ${x.slice(0, 400)}`),
      ),
    };
    console.log(JSON.stringify(summary, null, 1));
    const tDrained = Date.now();
    mark('drained');
    expect(summary.deadLetters).toBe(0);

    // Every acknowledged HEC entry exactly once: rows, keys and HEC sequence numbers agree, per body.
    const [h] = await q<{ rows: string; keys: string; seqs: string; ackedSeqs: string }>(
      `SELECT count() AS rows, uniqExact(event_key) AS keys, uniqExact(seq) AS seqs,
              uniqExactIf(seq, intDiv(seq, {body:UInt32}) IN {acked:Array(UInt32)}) AS ackedSeqs
         FROM (SELECT event_key, JSONExtractUInt(metadata, 'seq') AS seq FROM usage_logs WHERE source = {source:String})`,
      { source: 'hec', body: HEC_BODY, acked },
    );
    const ackedEntries = acked.reduce((n, b) => n + Math.min(HEC_BODY, HEC_ENTRIES - b * HEC_BODY), 0);
    expect(ackedEntries).toBe(HEC_ENTRIES);
    expect(h).toEqual({ rows: String(ackedEntries), keys: String(ackedEntries), seqs: String(ackedEntries), ackedSeqs: String(ackedEntries) });

    // Polled and imported entries: each of Quay's entries exactly once (their content keys, and their seq).
    for (const [source, expected] of [['polled', POLLED], ['imported', IMPORTED]] as const) {
      const [r] = await q<{ rows: string; keys: string; seqs: string; lo: string; hi: string }>(
        `SELECT count() AS rows, uniqExact(event_key) AS keys, uniqExact(seq) AS seqs, min(seq) AS lo, max(seq) AS hi
           FROM (SELECT event_key, JSONExtractUInt(metadata, 'seq') AS seq FROM usage_logs WHERE source = {source:String})`,
        { source },
      );
      expect({ source, ...r }).toEqual({ source, rows: String(expected), keys: String(expected), seqs: String(expected), lo: '0', hi: String(expected - 1) });
    }
    // Nothing else, apart from quaylogs' own audit entries (the export request among them).
    const audit = await q<{ source: string; namespace: string; kind: string }>(
      "SELECT source, namespace, kind FROM usage_logs WHERE source NOT IN ('hec', 'polled', 'imported')",
    );
    expect(audit).toContainEqual({ source: 'quaylogs', namespace: 'hec0', kind: 'export_logs_success' });
    expect(new Set(audit.map((r) => r.source))).toEqual(new Set(['quaylogs']));
    const [all] = await q<{ rows: string; keys: string }>('SELECT count() AS rows, uniqExact(event_key) AS keys FROM usage_logs');
    expect(Number(all!.rows)).toBe(TOTAL + audit.length);
    expect(all!.keys).toBe(all!.rows);

    // Every rollup equals a GROUP BY recount of usage_logs.
    for (const rollup of ROLLUPS) {
      const [m] = await q<{ n: string }>(rollupMismatchSql(rollup));
      expect({ table: rollup.table, mismatches: Number(m!.n) }).toEqual({ table: rollup.table, mismatches: 0 });
    }
    const [total] = await q<{ n: string }>('SELECT sum(count) AS n FROM usage_daily_kind');
    expect(Number(total!.n)).toBe(TOTAL + audit.length);

    // Still each migration exactly once, now that every process has been through its schema step.
    const after = await q<{ version: number; n: string }>('SELECT version, count() AS n FROM schema_migrations GROUP BY version ORDER BY version');
    expect(after.map((r) => [Number(r.version), Number(r.n)])).toEqual(loadMigrations().map((m) => [m.version, 1]));

    // The survivors stop cleanly.
    const survivors = [api, exporter, poller, ...loaders.filter((l) => l.child.signalCode === null)];
    await Promise.all(survivors.map((p) => p.kill('SIGTERM')));
    expect(Object.fromEntries(await Promise.all(survivors.map(async (p) => [p.name, await p.done])))).toEqual(
      Object.fromEntries(survivors.map((p) => [p.name, 0])),
    );
    console.log(
      `scale-out: ${TOTAL} entries (hec ${HEC_ENTRIES}, import ${IMPORTED}, poll ${POLLED}); ready ${((tReady - t0) / 1000).toFixed(0)} s, ` +
        `fed ${((tFed - tReady) / 1000).toFixed(0)} s, drained ${((tDrained - tReady) / 1000).toFixed(0)} s after ready; kills ${JSON.stringify(kills)}; ${marks.join(', ')}`,
    );
  }, 1_800_000);
});
