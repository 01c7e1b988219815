/**
 * I2's and I4's load generator, run as the figures run it (a process of its own, real
 * HTTP on loopback): every body is posted exactly once, every post's latency and send
 * delay come back, a refused post is counted by its status, and the generator reports
 * what delayed itself. No speed is asserted here.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postsFromChild } from './postLoad.ts';

const dir = mkdtempSync(join(tmpdir(), 'quaylogs-postload-'));
const received: { auth: string | undefined; body: string }[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ auth: req.headers.authorization, body });
      const refused = body.includes('"refuse"');
      res.writeHead(refused ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(refused ? { text: 'Server is busy', code: 9 } : { text: 'Success', code: 0 }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('the open-loop load generator (its own process)', () => {
  it('posts every body once and returns a latency and a send delay per post; a refused post is a failure by status', async () => {
    const bodies = Array.from({ length: 60 }, (_, i) => JSON.stringify({ event: { n: i, kind: i === 17 ? 'refuse' : 'pull_repo' } }));
    const r = await postsFromChild(dir, { url, hecToken: 'tok-1' }, bodies, 200);
    expect(received.map((x) => x.body).sort()).toEqual([...bodies].sort());
    expect(new Set(received.map((x) => x.auth))).toEqual(new Set(['Splunk tok-1']));
    expect(r.latencies).toHaveLength(60);
    expect(r.lateness).toHaveLength(60);
    expect(r.failures).toEqual({ 'HTTP 503': 1 });
    expect(r.latencies.every((ms) => Number.isFinite(ms) && ms >= 0)).toBe(true);
    expect(r.generator.loopDelayMax).toBeGreaterThan(0);
    if (process.platform === 'linux') expect(r.generator.cpuMs).toBeGreaterThan(0);
  }, 60_000);

  it('fails with the generator\'s own error when the receiver is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const r = await postsFromChild(dir, { url: `http://127.0.0.1:${port}`, hecToken: 't' }, ['{"event":{}}', '{"event":{}}'], 100);
    expect(r.latencies).toHaveLength(0);
    expect(Object.values(r.failures).reduce((a, b) => a + b, 0)).toBe(2);
    expect(Object.keys(r.failures).join()).toMatch(/ECONNREFUSED/);
  }, 60_000);
});
