/**
 * Entries that reached quaylogs by each path — Quay's HEC producer, the poller (against
 * the Quay simulator) and a file import — come back through the Splunk search API with a
 * correct `_raw`: the event Quay's HEC producer would have sent for them. Real HTTP on
 * loopback, a real Redis (database 9), the real loader and embedded ClickHouse.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { loadConfig } from '@quaylogs/config';
import { formatRfc2822 } from '@quaylogs/core';
import { quitRedis, type Redis, redisForProducers, redisForWorkers } from '@quaylogs/queue';
import { openTestStore, testRedisUrl } from '@quaylogs/testing';
import { startQuaySim, type QuaySim } from '@quaylogs/testing/quaySim';
import { importFile, startLoader, type Loader } from '@quaylogs/ingest';
import { startPoller } from '@quaylogs/ingest';
import { buildApp } from '../src/index.ts';
import { hecPlugin } from '../src/routes/hec.ts';
import { SECRET } from './fixtures.ts';
import { lookupSpl } from './splunkQuay.ts';
import { SplunkSdkClient } from './splunkSdkClient.ts';

const REDIS_URL = testRedisUrl();
const SOURCE = 'quay-prod';
const HEC_TOKEN = 'hec-token-0123456789abcdef0123';
const SEARCH_TOKEN = 'search-token-0123456789abcdef01';
const NOW = new Date('2024-06-18T12:00:00Z');
const WINDOW = { earliest: '2024-06-17T00:00:00', latest: '2024-06-19T00:00:00' };

let store: ClickHouseStore;
let cleanupStore: () => Promise<void>;
let producer: Redis;
let worker: Redis;
let loader: Loader;
let sim: QuaySim;
let url: string;
let close: () => Promise<void>;
let dir: string;

beforeAll(async () => {
  ({ store, cleanup: cleanupStore } = await openTestStore());
  producer = redisForProducers(REDIS_URL);
  worker = redisForWorkers(REDIS_URL);
  await worker.flushdb();
  loader = startLoader({ redis: worker, store, consumer: `splunk-sources-${process.pid}`, batchMs: 20 });
  const config = loadConfig({ QUAYLOGS_SECRET: SECRET, QUAYLOGS_SEARCH_TOKENS: `${SOURCE}=${SEARCH_TOKEN}` });
  const { app } = await buildApp({
    store,
    config,
    secret: SECRET,
    plugins: [hecPlugin({ redis: producer, tokens: new Map([[HEC_TOKEN, SOURCE]]), maxBodyBytes: 1 << 20, now: () => NOW.getTime() })],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  sim = await startQuaySim({ now: () => NOW, tokens: { 'sim-token': { username: 'alice', admin: ['pollorg'] } }, accounts: [{ name: 'pollorg', kind: 'org', email: null }] });
  dir = mkdtempSync(join(tmpdir(), 'quaylogs-splunk-sources-'));
  close = async () => {
    await app.close();
    await sim.close();
  };
}, 120_000);

afterAll(async () => {
  await close?.();
  await loader?.stop();
  await quitRedis(producer);
  await quitRedis(worker);
  await cleanupStore?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function search(namespace: string) {
  const r = await new SplunkSdkClient(url, SEARCH_TOKEN).search(lookupSpl('quay_logs', { namespace }), { count: 21, offset: 0, ...WINDOW });
  return r.rows.map((row) => ({ raw: JSON.parse(String(row._raw)) as Record<string, unknown>, time: row._time }));
}

const NULL_EXTENDED = {
  request_url: null, http_method: null, performer_kind: null, auth_type: null, user_agent: null, request_id: null, x_forwarded_for: null, performer_email: null,
};

describe('_raw for entries from every ingest path', () => {
  it("HEC: Quay's own event comes back as it was sent (extended logging off and on)", async () => {
    const plain = {
      account: 'hecorg', auth_type: null, datetime: 1718700000, http_method: null, ip: '10.1.2.3', kind: 'push_repo',
      metadata_json: { namespace: 'hecorg', repo: 'busybox', tag: 'latest' }, namespace_name: 'hecorg', performer: 'alice',
      performer_email: null, performer_kind: null, performer_username: 'alice', repository: 'busybox', repository_name: 'busybox',
      request_id: null, request_url: null, user_agent: null, x_forwarded_for: null,
    };
    const extended = {
      account: 'hecorg', auth_type: 'bearer', datetime: 1718700001, http_method: 'PUT', ip: '10.9.8.7', kind: 'push_repo',
      metadata_json: { namespace: 'hecorg', note: 'héllo ✓', repo: 'web', tag: 'v1' }, namespace_name: 'hecorg', performer: 'hecorg+builder',
      performer_kind: 'robot', performer_username: 'hecorg+builder', repository: 'web', repository_name: 'web', request_id: 'req-42',
      request_url: '/v2/hecorg/web/manifests/v1', user_agent: 'podman/5.0', x_forwarded_for: '203.0.113.9',
    };
    const body = [plain, extended].map((event) => JSON.stringify({ event, host: 'quay.example.com', sourcetype: 'access_combined' })).join('\n');
    const res = await fetch(`${url}/services/collector/event`, { method: 'POST', headers: { authorization: `Splunk ${HEC_TOKEN}`, 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
    await loader.drain();
    const rows = await search('hecorg');
    expect(rows.map((r) => r.raw)).toEqual([extended, plain]);
    expect(rows.map((r) => r.time)).toEqual(['2024-06-18T08:40:01.000+00:00', '2024-06-18T08:40:00.000+00:00']);
  });

  it('poller: an entry read from Quay\'s API comes back with its kind, account, performer, repository, ip, metadata and time', async () => {
    sim.addEntries([
      { namespace: 'pollorg', kind: 'pull_repo', performer: 'pollorg+ci', ip: '10.0.0.7', datetime: '2024-06-17T09:30:15Z', metadata: { repo: 'app', namespace: 'pollorg', tag: 'v2' } },
      { namespace: 'pollorg', kind: 'org_create_team', performer: null, ip: null, datetime: '2024-06-17T09:30:16Z', metadata: { team: 'devs' } },
    ]);
    const poller = await startPoller({
      redis: worker, store, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, now: () => NOW, retry: { delayMs: 20 },
      sources: [{ name: SOURCE, url: sim.url, token: 'sim-token', namespaces: ['pollorg'], superuser: false, intervalMs: 3_600_000, start: new Date('2024-06-17T00:00:00Z') }],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no poll finished')), 20_000);
        poller.worker.on('completed', () => (clearTimeout(timer), resolve()));
        poller.worker.on('failed', (job: Job | undefined, err: Error) => job?.finishedOn !== undefined && (clearTimeout(timer), reject(err)));
      });
    } finally {
      await poller.close();
    }
    await loader.drain();
    const rows = await search('pollorg');
    expect(rows.map((r) => r.raw)).toEqual([
      {
        account: 'pollorg', datetime: Date.UTC(2024, 5, 17, 9, 30, 16) / 1000, ip: null, kind: 'org_create_team', metadata_json: { team: 'devs' },
        namespace_name: 'pollorg', performer: null, performer_username: null, repository: null, repository_name: null, ...NULL_EXTENDED,
      },
      {
        account: 'pollorg', datetime: Date.UTC(2024, 5, 17, 9, 30, 15) / 1000, ip: '10.0.0.7', kind: 'pull_repo',
        metadata_json: { namespace: 'pollorg', repo: 'app', tag: 'v2' }, namespace_name: 'pollorg', performer: 'pollorg+ci',
        performer_username: 'pollorg+ci', repository: 'app', repository_name: 'app', ...NULL_EXTENDED,
      },
    ]);
  });

  it('import: entries of an imported log file come back with every field, extended fields included', async () => {
    const lines = [
      { kind: 'delete_tag', metadata: { repo: 'lib', tag: 'old' }, ip: '192.0.2.1', datetime: formatRfc2822(new Date('2024-06-18T07:00:00Z')), performer: { kind: 'user', name: 'carol', is_robot: false }, namespace: 'importorg', repository: 'lib' },
      { kind: 'login_success', metadata: { type: 'quayauth' }, ip: '192.0.2.2', datetime: formatRfc2822(new Date('2024-06-18T06:59:59Z')), performer: { kind: 'user', name: 'dave', is_robot: false }, namespace: 'importorg', http_method: 'POST', request_url: '/api/v1/signin' },
    ];
    const path = join(dir, 'logs.ndjson');
    writeFileSync(path, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const result = await importFile({ path, redis: worker, store, source: SOURCE, checkpointEveryMs: 0 });
    expect(result).toMatchObject({ format: 'ndjson', rows: 2, completed: true });
    await loader.drain();
    const rows = await search('importorg');
    expect(rows.map((r) => r.raw)).toEqual([
      {
        account: 'importorg', datetime: Date.UTC(2024, 5, 18, 7, 0, 0) / 1000, ip: '192.0.2.1', kind: 'delete_tag', metadata_json: { repo: 'lib', tag: 'old' },
        namespace_name: 'importorg', performer: 'carol', performer_username: 'carol', repository: 'lib', repository_name: 'lib', ...NULL_EXTENDED,
      },
      {
        account: 'importorg', datetime: Date.UTC(2024, 5, 18, 6, 59, 59) / 1000, ip: '192.0.2.2', kind: 'login_success', metadata_json: { type: 'quayauth' },
        namespace_name: 'importorg', performer: 'dave', performer_username: 'dave', repository: null, repository_name: null,
        ...NULL_EXTENDED, http_method: 'POST', request_url: '/api/v1/signin', performer_email: undefined,
      },
    ]);
  });
});
