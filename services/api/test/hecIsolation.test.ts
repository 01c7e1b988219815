/**
 * The isolated HEC receiver (its own process, its own Redis connection, the public
 * port): Quay's posts are answered from Redis alone — with no loader running, events
 * are accepted and in the stream; a full Redis answers Splunk's "server busy" (503,
 * code 9) instead of hanging, and accepts again once it has room. Other connections on
 * the same port reach the API's server. Real processes, a real Redis, real HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestBacklog, ingestStreamKeys, parseIngestBatch, type Redis, redisForWorkers } from '@quaylogs/queue';
import { type IsolatedReceiver, startIsolatedReceiver } from '../src/receiver/isolatedReceiver.ts';
import { testRedisUrl } from '@quaylogs/testing';

const REDIS_URL = testRedisUrl();
const TOKEN = '0c9a4f5e-5a8e-4c61-8f0e-6f3a2b1c9d77';
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function quayEvent(i: number): string {
  return JSON.stringify({
    event: { account: 'acme', kind: 'pull_repo', repository: 'web', performer: 'alice', ip: '10.0.0.1', datetime: 1_750_000_000 + i, metadata_json: { tag: `v${i}` } },
    host: 'quay.example.com',
    sourcetype: 'access_combined',
  });
}

/** One HTTP request; fails (does not hang) after `timeoutMs`. */
function request(url: string, opts: { method?: string; body?: string; agent?: http.Agent; timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? 'GET', agent: opts.agent ?? false, headers: { authorization: `Splunk ${TOKEN}`, 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The API side: a real HTTP server that says who answered, and what body it received. */
async function apiServer(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const body = bytes ? { bytes, sha256: hash.digest('hex') } : {};
      res.end(JSON.stringify({ answeredBy: 'api', pid: process.pid, path: req.url, ...body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return server;
}

describe('isolated HEC receiver, loader stopped', () => {
  let api: http.Server;
  let receiver: IsolatedReceiver;
  let redis: Redis;
  let base: string;

  beforeAll(async () => {
    redis = redisForWorkers(REDIS_URL);
    await redis.flushdb();
    api = await apiServer();
    receiver = await startIsolatedReceiver({ host: '127.0.0.1', port: 0, redisUrl: REDIS_URL, tokens: new Map([[TOKEN, 'quay-prod']]), maxBodyBytes: 1 << 20, api, logLevel: 'silent', log: silent });
    base = `http://127.0.0.1:${receiver.port}`;
  }, 60_000);
  afterAll(async () => {
    await receiver?.stop();
    api?.close();
    await redis?.flushdb();
    redis?.disconnect();
  });

  it('accepts every event into the stream with no loader running, each exactly once', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => request(`${base}/services/collector/event`, { method: 'POST', body: quayEvent(i), agent })));
    agent.destroy();
    expect(answers.map((a) => a.status)).toEqual(Array(300).fill(200));
    expect(new Set(answers.map((a) => a.body))).toEqual(new Set(['{"text":"Success","code":0}']));
    // Concurrent posts may share a stream entry (group commit); every event is there once.
    const entries = (await Promise.all(ingestStreamKeys().map((k) => redis.xrange(k, '-', '+')))).flat();
    expect(entries.length).toBeLessThanOrEqual(300);
    const batches = entries.map(([, fields]) => parseIngestBatch(fields[1]!));
    const tags = batches.flatMap((b) => b.rows.map((r) => `${b.origin}/${b.source}/${r.namespace}/${r.metadata}`));
    expect(tags.sort()).toEqual(Array.from({ length: 300 }, (_, i) => `hec/quay-prod/acme/{"tag":"v${i}"}`).sort());
    expect(new Set(batches.flatMap((b) => b.rows.map((r) => r.event_key))).size).toBe(300);
  });

  it('serves HEC health from the receiver and hands every other connection on the port to the API', async () => {
    expect(await request(`${base}/services/collector/health`)).toEqual({ status: 200, body: '{"text":"HEC is healthy","code":17}' });
    const other = await request(`${base}/api/v1/discovery?x=1`);
    expect(other.status).toBe(200);
    expect(JSON.parse(other.body)).toEqual({ answeredBy: 'api', pid: process.pid, path: '/api/v1/discovery?x=1' });
    // A handed-over connection loses no byte: a 4 MB body sent in pieces, slowly, arrives whole.
    const big = randomBytes(4 << 20);
    const upload = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${base}/api/v1/superuser/sql`, { method: 'POST', headers: { 'content-length': big.length } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      void (async () => {
        for (let i = 0; i < big.length; i += 256 * 1024) {
          req.write(big.subarray(i, i + 256 * 1024));
          await new Promise((r) => setTimeout(r, 5));
        }
        req.end();
      })();
    });
    expect(JSON.parse(upload.body)).toEqual({ answeredBy: 'api', pid: process.pid, path: '/api/v1/superuser/sql', bytes: big.length, sha256: createHash('sha256').update(big).digest('hex') });
    // A keep-alive connection that began with HEC still reaches the API for anything else.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await request(`${base}/services/collector/event`, { method: 'POST', body: quayEvent(1), agent })).status).toBe(200);
    const stray = await request(`${base}/healthz`, { agent });
    agent.destroy();
    expect(JSON.parse(stray.body)).toMatchObject({ answeredBy: 'api', path: '/healthz' });
  });
});

describe('isolated HEC receiver, Redis full', () => {
  let dir: string;
  let server: ChildProcess;
  let redis: Redis;
  let api: http.Server;
  let receiver: IsolatedReceiver;
  let base: string;

  beforeAll(async () => {
    // A Redis of its own: maxmemory is server-wide, so the shared test Redis is not touched.
    dir = mkdtempSync(join(tmpdir(), 'quaylogs-full-redis-'));
    const socket = join(dir, 'redis.sock');
    server = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    redis = redisForWorkers(socket);
    redis.on('error', () => undefined); // the last test stops this Redis
    for (let i = 0; i < 100 && redis.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50));
    api = await apiServer();
    receiver = await startIsolatedReceiver({ host: '127.0.0.1', port: 0, redisUrl: socket, tokens: new Map([[TOKEN, 'quay-prod']]), maxBodyBytes: 1 << 20, api, logLevel: 'silent', log: silent });
    base = `http://127.0.0.1:${receiver.port}`;
    expect((await request(`${base}/services/collector/event`, { method: 'POST', body: quayEvent(0) })).status).toBe(200);
    // Full: maxmemory below what it already holds, so every write is refused (OOM), as when
    // the ingest stream has grown to the limit.
    await redis.config('SET', 'maxmemory', '1');
    await expect(redis.set('probe', 'x')).rejects.toThrow(/OOM/);
  }, 60_000);
  afterAll(async () => {
    await receiver?.stop();
    api?.close();
    redis?.disconnect();
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers "server busy" (503, code 9) instead of hanging, and stores nothing', async () => {
    const before = await ingestBacklog(redis);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => request(`${base}/services/collector/event`, { method: 'POST', body: quayEvent(i), timeoutMs: 10_000 })));
    expect(answers).toEqual(Array(20).fill({ status: 503, body: '{"text":"Server is busy","code":9}' }));
    expect(await ingestBacklog(redis)).toBe(before);
  });

  it('accepts again once Redis has room', async () => {
    await redis.config('SET', 'maxmemory', '0');
    const answer = await request(`${base}/services/collector/event`, { method: 'POST', body: quayEvent(7) });
    expect(answer).toEqual({ status: 200, body: '{"text":"Success","code":0}' });
  });

  it('answers "server busy" promptly when Redis is gone', async () => {
    server.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const answer = await request(`${base}/services/collector/event`, { method: 'POST', body: quayEvent(8), timeoutMs: 10_000 });
    expect(answer).toEqual({ status: 503, body: '{"text":"Server is busy","code":9}' });
  });
});
