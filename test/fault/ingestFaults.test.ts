/**
 * Faults around ingestion and delivery, on real parts:
 * - Redis (a private redis-server on its own port, persisting with appendfsync always)
 *   stopped and restarted while HEC events are being posted: every acknowledged event is
 *   stored exactly once; while Redis is away the receiver answers 503, never a 500;
 * - callback targets that are slow, hung or refusing: the slow one is delivered, the others
 *   give up within their timeouts, while the API keeps answering.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AllowList, postCallback, WebhookSigner } from '@quaylogs/delivery';
import { quitRedis, type Redis, redisForProducers, redisForWorkers } from '@quaylogs/queue';
import { hecPlugin, parseHecTokens } from '@quaylogs/api';
import { type ApiFixture, call, startApi } from '@quaylogs/api/testing';
import { type Loader, startLoader } from '@quaylogs/ingest';
import { count, report, tally } from './support.ts';

const HEC_TOKEN = '4b7e2d1c-9a8f-4e3d-b2c1-0f9e8d7c6b5a';
let dir: string;
let port: number;
let redisServer: ChildProcess | null = null;
let producer: Redis;
let worker: Redis;
let loader: Loader;
let f: ApiFixture;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = netServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address() as AddressInfo;
      srv.close(() => res(p));
    });
  });
}

async function startRedis(): Promise<void> {
  redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
  const probe = redisForProducers(`redis://127.0.0.1:${port}`, { retryStrategy: () => 50, lazyConnect: true });
  probe.on('error', () => undefined);
  for (let i = 0; i < 100; i++) {
    if ((await probe.ping().catch(() => null)) === 'PONG') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  probe.disconnect();
}

async function stopRedis(): Promise<void> {
  const s = redisServer!;
  const exited = new Promise((r) => s.once('exit', r));
  s.kill('SIGKILL'); // appendfsync always: every acknowledged write is already on disk
  await exited;
  redisServer = null;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quaylogs-fault-redis-'));
  port = await freePort();
  await startRedis();
  const url = `redis://127.0.0.1:${port}/0`;
  producer = redisForProducers(url, { commandTimeout: 1_000, connectTimeout: 1_000 });
  worker = redisForWorkers(url);
  for (const r of [producer, worker]) r.on('error', () => undefined);
  f = await startApi({}, { plugins: [hecPlugin({ redis: producer, tokens: parseHecTokens(`faults=${HEC_TOKEN}`), maxBodyBytes: 1024 * 1024 })] });
  loader = startLoader({ redis: worker, store: f.store, consumer: 'fault-loader', batchMs: 50, retryBaseMs: 50 });
}, 120_000);

afterAll(async () => {
  await loader?.stop();
  await f?.close();
  await quitRedis(producer);
  await quitRedis(worker);
  redisServer?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function postEvent(n: number): Promise<number> {
  const res = await fetch(`${f.url}/services/collector/event`, {
    method: 'POST',
    headers: { authorization: `Splunk ${HEC_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ event: { kind: 'pull_repo', account: 'acme', repository: 'web', performer: 'alice', metadata_json: { n } } }),
  });
  await res.text();
  return res.status;
}

it('Redis stopped and restarted mid-ingest: every acknowledged event is stored exactly once; no 500 meanwhile', async () => {
  const t = tally();
  const acked: number[] = [];
  let n = 0;
  let phase = 'up' as 'up' | 'down' | 'back';
  const poster = (async () => {
    while (phase !== 'back' || n < 600) {
      const i = n++;
      const status = await postEvent(i);
      count(t, status);
      if (status === 200) acked.push(i);
      else expect([i, phase, status]).toEqual([i, phase, 503]);
      if (n > 5000) break;
    }
  })();
  await new Promise((r) => setTimeout(r, 1500));
  await stopRedis();
  phase = 'down';
  await new Promise((r) => setTimeout(r, 1500));
  await startRedis();
  phase = 'back';
  await poster;
  t.cases = n;
  // The loader reconnects on its own and drains the stream.
  let stored: { n: string; c: string }[] = [];
  for (let i = 0; i < 300; i++) {
    stored = await f.store.query<{ n: string; c: string }>({
      name: 'fault.stored',
      sql: "SELECT JSONExtractString(metadata, 'n') AS n, toString(count()) AS c FROM usage_logs WHERE source = 'faults' GROUP BY n",
    });
    if (acked.every((a) => stored.some((s) => s.n === String(a)))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  report('redis-restart', t);
  const storedSet = new Set(stored.map((s) => Number(s.n)));
  expect(acked.filter((a) => !storedSet.has(a))).toEqual([]);
  expect(stored.filter((s) => s.c !== '1')).toEqual([]);
  expect(t.byStatus['503'] ?? 0).toBe(t.requests - acked.length); // only 503s, during the outage
  expect(t.byStatus['5xx']).toBeUndefined();
  expect(acked.length).toBeGreaterThan(100);
}, 120_000);

it('a slow callback target is delivered; hung and refusing ones give up within their timeouts; the API keeps answering', async () => {
  const t = tally();
  const servers: Server[] = [];
  const listen = async (handler: Parameters<typeof createServer>[1]) => {
    const s = createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`;
  };
  const hung = await listen(() => undefined);
  // Slow but within the header timeout: delivered.
  const slow = await listen((_req, res) => void setTimeout(() => res.writeHead(204).end(), 800));
  const refusing = `http://127.0.0.1:${await freePort()}/hook`;
  const policy = { allowList: AllowList.parse('127.0.0.1') };
  const signer = new WebhookSigner('whsec_' + Buffer.from('fault-suite-secret-0123456789abcd').toString('base64'));
  const timeouts = { connectMs: 1_000, headersMs: 1_500, bodyMs: 300, totalMs: 3_000 };
  const deliveries = Promise.all(
    [hung, slow, refusing].map((url, i) => postCallback({ url, body: '{}', webhookId: `msg_fault_${i}`, signer, policy, timeouts })),
  );
  let done = false;
  void deliveries.finally(() => (done = true));
  const during: number[] = [];
  while (!done) {
    const res = await call(f, 'GET', '/api/v1/superuser/logs');
    count(t, res.status);
    during.push(res.status);
  }
  const outcomes = await deliveries;
  t.cases = outcomes.length;
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  report('callbacks', t);
  expect(outcomes.map((o) => o.ok)).toEqual([false, true, false]);
  expect(outcomes.every((o) => o.ms < 10_000)).toBe(true);
  expect(new Set(during)).toEqual(new Set([200]));
}, 60_000);
