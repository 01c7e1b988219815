/**
 * Rows of the source `quaylogs` are quaylogs' own audit entries (the bootstrap admin).
 *
 * The Splunk HEC receiver over real HTTP on loopback, with a real Redis (database 1) and
 * the real embedded ClickHouse: Quay's exact event body (docs/compatibility.md), posted singly,
 * batched and gzipped, becomes rows with every field mapped, visible through Quay's logs
 * API once the loader drained; bad input gets Splunk's error and stores nothing.
 */
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { gzipSync, createGzip } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { loadConfig } from '@quaylogs/config';
import { ingestBacklog, quitRedis, type Redis, redisForProducers, redisForWorkers } from '@quaylogs/queue';
import { ingestStatus, startLoader } from '@quaylogs/ingest';
import { openTestStore, resetStore, testRedisUrl } from '@quaylogs/testing';
import { buildApp, ensureBootstrapAdmin } from '../src/index.ts';
import { hecPlugin, parseHecTokens } from '../src/routes/hec.ts';
import { ingestStatusPlugin } from '../src/routes/ingestStatus.ts';
import { ADMIN_TOKEN, type ApiFixture, call, SECRET, userWithToken } from './fixtures.ts';

const REDIS_URL = testRedisUrl();
const TOKEN = '6f0b1b6e-7c5e-4d1e-9a51-2f6c8f1c0a11';
const OTHER_TOKEN = 'b2d9a7c4-1111-4222-8333-944455556666';
const MAX_BODY = 256 * 1024;

let f: ApiFixture;
let redis: Redis;
let worker: Redis;
let cleanupStore: () => Promise<void>;

beforeAll(async () => {
  const opened = await openTestStore();
  cleanupStore = opened.cleanup;
  const store: ClickHouseStore = opened.store;
  redis = redisForProducers(REDIS_URL);
  worker = redisForWorkers(REDIS_URL);
  const config = loadConfig({ QUAYLOGS_BOOTSTRAP_TOKEN: ADMIN_TOKEN, QUAYLOGS_SECRET: SECRET });
  const { app, ctx } = await buildApp({
    store,
    config,
    secret: SECRET,
    plugins: [
      hecPlugin({ redis, tokens: parseHecTokens(`quay-prod=${TOKEN},quay-dev=${OTHER_TOKEN}`), maxBodyBytes: MAX_BODY }),
      ingestStatusPlugin({ status: () => ingestStatus(store, worker) }),
    ],
  });
  await ensureBootstrapAdmin(ctx, ADMIN_TOKEN);
  await app.listen({ host: '127.0.0.1', port: 0 });
  f = {
    store, app, ctx,
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: async () => undefined,
    reset: async () => undefined,
    auditStored: async () => undefined,
  };
});
afterAll(async () => {
  await f.app.close();
  await quitRedis(redis);
  await quitRedis(worker);
  await cleanupStore();
});
beforeEach(async () => {
  await worker.flushdb();
  await resetStore(f.store);
  f.ctx.auth.invalidate();
  await ensureBootstrapAdmin(f.ctx, ADMIN_TOKEN);
});

/** Python's json.dumps(obj, sort_keys=True, ensure_ascii=False): what Quay's producer sends. */
function pyDumps(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(pyDumps).join(', ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${pyDumps((v as Record<string, unknown>)[k])}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}

/** Quay's event with extended logging off (performer_email present and null). */
function quayEvent(over: Record<string, unknown> = {}) {
  return {
    event: {
      account: 'myorg', auth_type: null, datetime: 1718737153, http_method: null, ip: '10.1.2.3', kind: 'push_repo',
      metadata_json: { namespace: 'myorg', repo: 'busybox', tag: 'latest', 'user-agent': 'docker/24.0.7' },
      namespace_name: 'myorg', performer: 'alice', performer_email: null, performer_kind: null, performer_username: 'alice',
      repository: 'busybox', repository_name: 'busybox', request_id: null, request_url: null, user_agent: null, x_forwarded_for: null,
      ...over,
    },
    host: 'quay.example.com',
    sourcetype: 'access_combined',
  };
}

/** Quay's event with extended logging on (no performer_email; every extended field set). */
const EXTENDED = {
  event: {
    account: 'myorg', auth_type: 'bearer', datetime: 1718737154, http_method: 'PUT', ip: '10.9.8.7', kind: 'push_repo',
    metadata_json: { namespace: 'myorg', repo: 'web', tag: 'v1', 'user-agent': 'podman/5.0', note: 'héllo ✓' },
    namespace_name: 'myorg', performer: 'myorg+builder', performer_kind: 'robot', performer_username: 'myorg+builder',
    repository: 'web', repository_name: 'web', request_id: 'req-42', request_url: '/v2/myorg/web/manifests/v1',
    user_agent: 'podman/5.0', x_forwarded_for: '203.0.113.9',
  },
  host: 'quay.example.com',
  index: 'quay_audit',
  sourcetype: 'access_combined',
};

async function post(
  body: string | Buffer,
  opts: { token?: string | null; auth?: string; path?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; json: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  if (opts.auth !== undefined) headers.authorization = opts.auth;
  else if (opts.token !== null) headers.authorization = `Splunk ${opts.token ?? TOKEN}`;
  const res = await fetch(f.url + (opts.path ?? '/services/collector/event'), { method: 'POST', headers, body });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, text, json };
}

async function drain(): Promise<void> {
  const loader = startLoader({ redis: worker, store: f.store, consumer: 'hec-test', batchMs: 20 });
  try {
    await loader.drain();
  } finally {
    await loader.stop();
  }
}

async function storedRows(): Promise<Record<string, string>[]> {
  return f.store.query({
    name: 'test.rows',
    sql: `SELECT source, namespace, repository, kind, performer, ip, toString(datetime) AS datetime, metadata, request_url,
                 http_method, user_agent, request_id, auth_type, performer_kind, x_forwarded_for
          FROM usage_logs WHERE source != 'quaylogs' ORDER BY datetime, kind, performer`,
  });
}

const SUCCESS = { text: 'Success', code: 0 };
/** Metadata as stored: the object Quay sent, compact, in Quay's (sorted) key order. */
const asSent = (o: unknown) => JSON.stringify(JSON.parse(pyDumps(o)));

describe('HEC receiver: Quay\'s events become rows', () => {
  it('Quay\'s exact body posted singly, batched and gzipped is stored with every field mapped and served by /logs and /aggregatelogs', async () => {
    // Singly, byte for byte what Quay's producer sends.
    expect(await post(Buffer.from(pyDumps(quayEvent()), 'utf8'))).toMatchObject({ status: 200, json: SUCCESS });
    expect(await post(pyDumps(EXTENDED), { path: '/services/collector' })).toMatchObject({ status: 200, json: SUCCESS });
    // Batched (Splunk's concatenated form), with the older forms of each field.
    const batch = [
      quayEvent({ datetime: '2024-06-18T18:59:15.123456', kind: 'pull_repo', account: null, performer: null, repository: null }),
      quayEvent({ datetime: '2024-06-18 18:59:16', kind: 'pull_repo', metadata_json: '{"repo": "busybox", "tag": "1.36"}' }),
      quayEvent({ datetime: 1718737157.25, kind: 'delete_tag', performer: 'bob', performer_username: 'bob' }),
      quayEvent({ datetime: '1718737158', kind: 'pull_repo', ip: null, metadata_json: null }),
    ];
    expect(await post(batch.map(pyDumps).join('\n'), { path: '/services/collector/event/1.0' })).toMatchObject({ status: 200, json: SUCCESS });
    // Gzipped, two events back to back without a separator, HTTP Basic with the token as password.
    const gz = gzipSync(pyDumps(quayEvent({ datetime: 1718737159, kind: 'create_tag' })) + pyDumps(quayEvent({ datetime: 1718737160, kind: 'create_tag' })));
    const basic = `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`;
    expect(await post(gz, { auth: basic, headers: { 'content-encoding': 'gzip' } })).toMatchObject({ status: 200, json: SUCCESS });
    // Another registry's token: another source.
    expect(await post(pyDumps(quayEvent({ datetime: 1718737161 })), { token: OTHER_TOKEN })).toMatchObject({ status: 200, json: SUCCESS });

    expect(await ingestBacklog(worker)).toBe(5); // one entry per request (its events' namespaces share a shard)
    await drain();

    const rows = await storedRows();
    expect(rows).toHaveLength(9);
    const blank = { request_url: '', http_method: '', user_agent: '', request_id: '', auth_type: '', performer_kind: '', x_forwarded_for: '' };
    expect(rows[0]).toEqual({
      source: 'quay-prod', namespace: 'myorg', repository: 'busybox', kind: 'push_repo', performer: 'alice', ip: '10.1.2.3',
      datetime: '2024-06-18 18:59:13.000', metadata: asSent(quayEvent().event.metadata_json), ...blank,
    });
    expect(rows[1]).toEqual({
      source: 'quay-prod', namespace: 'myorg', repository: 'web', kind: 'push_repo', performer: 'myorg+builder', ip: '10.9.8.7',
      datetime: '2024-06-18 18:59:14.000', metadata: asSent(EXTENDED.event.metadata_json),
      request_url: '/v2/myorg/web/manifests/v1', http_method: 'PUT', user_agent: 'podman/5.0', request_id: 'req-42',
      auth_type: 'bearer', performer_kind: 'robot', x_forwarded_for: '203.0.113.9',
    });
    // account/performer/repository null ⇒ namespace_name / performer_username / repository_name.
    expect(rows[2]).toMatchObject({ namespace: 'myorg', performer: 'alice', repository: 'busybox', datetime: '2024-06-18 18:59:15.123' });
    expect(rows[3]).toMatchObject({ datetime: '2024-06-18 18:59:16.000', metadata: '{"repo":"busybox","tag":"1.36"}' });
    expect(rows[4]).toMatchObject({ datetime: '2024-06-18 18:59:17.250', kind: 'delete_tag', performer: 'bob' });
    expect(rows[5]).toMatchObject({ datetime: '2024-06-18 18:59:18.000', ip: '', metadata: '{}' });
    expect(rows.slice(6, 8).map((r) => [r.kind, r.datetime])).toEqual([
      ['create_tag', '2024-06-18 18:59:19.000'],
      ['create_tag', '2024-06-18 18:59:20.000'],
    ]);
    expect(rows[8]).toMatchObject({ source: 'quay-dev', datetime: '2024-06-18 18:59:21.000' });

    const logs = await call(f, 'GET', '/api/v1/organization/myorg/logs?starttime=06/18/2024&endtime=06/18/2024');
    expect(logs.status).toBe(200);
    expect(logs.body.logs).toHaveLength(9);
    const robotPush = logs.body.logs.find((l: any) => l.datetime === 'Tue, 18 Jun 2024 18:59:14 -0000');
    expect(robotPush).toMatchObject({
      kind: 'push_repo', ip: '10.9.8.7', metadata: EXTENDED.event.metadata_json,
      performer: { kind: 'user', name: 'myorg+builder', is_robot: true },
    });
    const agg = await call(f, 'GET', '/api/v1/organization/myorg/aggregatelogs?starttime=06/18/2024&endtime=06/18/2024');
    expect(agg.status).toBe(200);
    const counts = Object.fromEntries(agg.body.aggregated.map((a: any) => [a.kind, a.count]));
    expect(counts).toEqual({ push_repo: 3, pull_repo: 3, delete_tag: 1, create_tag: 2 });
    const repo = await call(f, 'GET', '/api/v1/repository/myorg/web/logs?starttime=06/18/2024&endtime=06/18/2024');
    expect(repo.body.logs).toHaveLength(1);
  });

  it('every accepted event is its own entry (two identical posts are two rows), and unknown kinds are stored as they are', async () => {
    const body = pyDumps(quayEvent({ kind: 'quay_kind_from_the_future', datetime: Math.floor(Date.now() / 1000) }));
    expect((await post(body)).json).toEqual(SUCCESS);
    expect((await post(body)).json).toEqual(SUCCESS);
    await drain();
    const logs = await call(f, 'GET', '/api/v1/organization/myorg/logs');
    expect(logs.body.logs.map((l: any) => l.kind)).toEqual(['quay_kind_from_the_future', 'quay_kind_from_the_future']);
    const keys = await f.store.query<{ n: string }>({ name: 'test.keys', sql: "SELECT uniqExact(event_key) AS n FROM usage_logs WHERE source = 'quay-prod'" });
    expect(keys[0]!.n).toBe('2');
  });
});

describe('HEC receiver: bad input gets Splunk\'s error and stores nothing', () => {
  afterEach(async () => {
    // Nothing reached the ingest stream, so nothing can ever be stored.
    expect(await ingestBacklog(worker)).toBe(0);
  });

  const invalid = (n: number) => ({ text: 'Invalid data format', code: 6, 'invalid-event-number': n });
  const good = pyDumps(quayEvent());

  it('credentials: missing, malformed, unknown, or in the query string', async () => {
    expect(await post(good, { token: null })).toMatchObject({ status: 401, json: { text: 'Token is required', code: 2 } });
    expect(await post(good, { auth: `Bearer ${TOKEN}` })).toMatchObject({ status: 401, json: { text: 'Invalid authorization', code: 3 } });
    expect(await post(good, { auth: 'Splunk' })).toMatchObject({ status: 401, json: { code: 3 } });
    expect(await post(good, { token: 'not-a-token' })).toMatchObject({ status: 403, json: { text: 'Invalid token', code: 4 } });
    expect(await post(good, { token: null, path: `/services/collector/event?token=${TOKEN}` })).toMatchObject({
      status: 400, json: { text: 'Query string authorization is not enabled', code: 16 },
    });
    // Checked before the body is read: a huge body with a bad token is refused as such.
    expect(await post('x'.repeat(MAX_BODY * 2), { token: 'nope' })).toMatchObject({ status: 403, json: { code: 4 } });
  });

  it('malformed JSON, non-object events, missing or blank events, absurd timestamps and bad fields', async () => {
    expect(await post('')).toMatchObject({ status: 400, json: { text: 'No data', code: 5 } });
    expect(await post(' \n ')).toMatchObject({ status: 400, json: { text: 'No data', code: 5 } });
    expect(await post('{"event": {"kind": "push_repo", ')).toMatchObject({ status: 400, json: invalid(0) });
    // One bad event in a batch rejects the whole request: the good ones before it are not stored.
    expect(await post(`${good}\n{"event": {"kind": oops}}\n${good}`)).toMatchObject({ status: 400, json: invalid(1) });
    expect(await post(`${good} ${good} ${good.slice(0, -5)}`)).toMatchObject({ status: 400, json: invalid(2) });
    expect(await post(`[${good}]`)).toMatchObject({ status: 400, json: invalid(0) });
    expect(await post('"push_repo"')).toMatchObject({ status: 400, json: invalid(0) });
    expect(await post(`${good} 42`)).toMatchObject({ status: 400, json: invalid(1) });
    expect(await post('{"event": "a raw text event"}')).toMatchObject({ status: 400, json: invalid(0) });
    expect(await post('{"event": [1, 2]}')).toMatchObject({ status: 400, json: invalid(0) });
    expect(await post(`${good}{"sourcetype": "x"}`)).toMatchObject({ status: 400, json: { text: 'Event field is required', code: 12, 'invalid-event-number': 1 } });
    expect(await post('{"event": null}')).toMatchObject({ status: 400, json: { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': 0 } });
    expect(await post('{"event": ""}')).toMatchObject({ status: 400, json: { code: 13 } });
    const bad = (over: Record<string, unknown>) => post(`${good}\n${pyDumps(quayEvent(over))}`);
    const now = Date.now() / 1000;
    for (const over of [
      { datetime: 0 },
      { datetime: 1262303999 }, // 2009-12-31T23:59:59Z
      { datetime: now + 2 * 86_400 },
      { datetime: '2101-01-01T00:00:00' },
      { datetime: 'yesterday' },
      { datetime: '06/18/2024' },
      { datetime: { $date: 1 } },
      { kind: null },
      { kind: '' },
      { kind: { name: 'push_repo' } },
      { metadata_json: 'not json' },
      { metadata_json: [1, 2] },
      { metadata_json: '[1, 2]' },
      { ip: ['10.0.0.1'] },
    ]) {
      expect({ over, res: (await bad(over)).json }).toEqual({ over, res: invalid(1) });
    }
    // A timestamp a few hours ahead (clock skew) is fine.
    expect((await post(pyDumps(quayEvent({ datetime: now + 3_600 })))).json).toEqual(SUCCESS);
    await drain();
    expect(await storedRows()).toHaveLength(1);
  });

  it('bodies over the limit (413), gzip bombs (413) and broken gzip', async () => {
    const big = `${good}\n`.repeat(Math.ceil((MAX_BODY + 1) / (good.length + 1)));
    const tooBig = await post(big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.text).toBe(`Content-Length of ${Buffer.byteLength(big)} too large (maximum is ${MAX_BODY})`);

    // 256 MiB of zeros in ~256 KiB of gzip: must be refused without inflating it.
    const bomb = await gzipStream(256 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const heapBefore = process.memoryUsage().rss;
    const res = await post(bomb, { headers: { 'content-encoding': 'gzip' } });
    expect(res.status).toBe(413);
    expect(res.text).toBe(`Request body too large (maximum is ${MAX_BODY})`);
    expect(process.memoryUsage().rss - heapBefore).toBeLessThan(128 * 1024 * 1024);

    expect(await post(Buffer.from('definitely not gzip'), { headers: { 'content-encoding': 'gzip' } })).toMatchObject({
      status: 400, json: invalid(0),
    });
    expect(await post(gzipSync('{"event": {'), { headers: { 'content-encoding': 'gzip' } })).toMatchObject({ status: 400, json: invalid(0) });
  });

  it('the server keeps serving: health, the next good event, and every other route\'s own parsing', async () => {
    const health = await fetch(`${f.url}/services/collector/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ text: 'HEC is healthy', code: 17 });
    expect((await fetch(`${f.url}/services/collector/health/1.0`)).status).toBe(200);
    // Quay's JSON routes still parse JSON, refuse other content types, and answer Quay's bodies.
    const sql = await call(f, 'POST', '/api/v1/superuser/sql', { rawBody: 'SELECT 1', headers: { 'content-type': 'text/plain' } });
    expect(sql.status).toBe(415);
    expect((await call(f, 'POST', '/api/v1/superuser/sql', { body: { query: 'SELECT 1 AS one' } })).body.rows).toEqual([{ one: 1 }]);
    // The receiver is not part of Quay's API: discovery does not list it.
    const discovery = await call(f, 'GET', '/api/v1/discovery?internal=true');
    expect(Object.keys(discovery.body.paths).some((p) => p.includes('collector'))).toBe(false);
    expect(Object.keys(discovery.body.paths)).toContain('/api/v1/superuser/ingest');

    expect((await post(good)).json).toEqual(SUCCESS);
    expect(await ingestBacklog(worker)).toBe(1);
    await drain();
  });
});

describe('HEC receiver: durability and status', () => {
  it('answers 503 "Server is busy" when the ingest stream cannot take the batch, and health says unhealthy', async () => {
    const down = redisForProducers('redis://127.0.0.1:1/1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, lazyConnect: true });
    const config = loadConfig({ QUAYLOGS_SECRET: SECRET });
    const { app } = await buildApp({ store: f.store, config, secret: SECRET, plugins: [hecPlugin({ redis: down, tokens: parseHecTokens(`quay-prod=${TOKEN}`), maxBodyBytes: MAX_BODY })] });
    try {
      const res = await app.inject({ method: 'POST', url: '/services/collector/event', headers: { authorization: `Splunk ${TOKEN}`, 'content-type': 'application/json' }, payload: pyDumps(quayEvent()) });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ text: 'Server is busy', code: 9 });
      const health = await app.inject({ method: 'GET', url: '/services/collector/health' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toEqual({ text: 'HEC is unhealthy, queues are full', code: 18 });
    } finally {
      await app.close();
      down.disconnect();
    }
  });

  it('GET /api/v1/superuser/ingest shows per source the newest entry, lag and last hour, the stream and dead letters (superusers only)', async () => {
    const t = Math.floor(Date.now() / 1000) - 120;
    await post([0, 1, 2].map((i) => pyDumps(quayEvent({ datetime: t + i }))).join('\n'));
    await post(pyDumps(quayEvent({ datetime: t })), { token: OTHER_TOKEN });
    await drain();
    await post(pyDumps(quayEvent({ datetime: t + 5 }))); // waiting in the stream
    const res = await call(f, 'GET', '/api/v1/superuser/ingest');
    expect(res.status).toBe(200);
    // (quaylogs' own audit entries are the source `quaylogs`.)
    expect(res.body.sources.filter((s: any) => s.source !== 'quaylogs')).toEqual([
      expect.objectContaining({ source: 'quay-dev', entries_last_hour: 1, last_entry_time: new Date(t * 1000).toISOString() }),
      expect.objectContaining({ source: 'quay-prod', entries_last_hour: 3, last_entry_time: new Date((t + 2) * 1000).toISOString() }),
    ]);
    expect(res.body.sources[1].lag_seconds).toBeGreaterThanOrEqual(117);
    expect(res.body.stream).toMatchObject({ length: 1, pending: 0, undelivered: 1 });
    expect(res.body.dead_letters).toBe(0);

    const plain = await userWithToken(f, 'plainuser');
    expect((await call(f, 'GET', '/api/v1/superuser/ingest', { token: plain })).status).toBe(403);
    expect((await call(f, 'GET', '/api/v1/superuser/ingest', { token: null })).status).toBe(401);
    await drain();
  });
});

/** `bytes` zeros gzipped, without ever holding them in memory. */
async function gzipStream(bytes: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve) => gz.on('end', resolve));
  const src = new PassThrough();
  src.pipe(gz);
  const chunk = Buffer.alloc(1024 * 1024);
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!src.write(chunk)) await new Promise((r) => src.once('drain', r));
  }
  src.end();
  await done;
  return Buffer.concat(out);
}
