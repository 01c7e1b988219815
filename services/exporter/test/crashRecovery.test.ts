/**
 * The exporter in a child process, killed with SIGKILL mid-export and again
 * mid-delivery, then restarted on the same data directory and Redis: the export
 * still ends delivered, with exactly one file, and the repeated callbacks carry the
 * same webhook-id.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { quitRedis } from '@quaylogs/queue';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { type Receiver, sequence, startReceiver } from '@quaylogs/testing/deliveryServers';
import { download, parseQuayDocument } from './support/exportChecks.ts';
import { ADMIN_TOKEN, CALLBACK_SECRET, eventually, SECRET } from './support/stack.ts';
import { REPO_ROOT, testRedisUrl } from '@quaylogs/testing';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const REDIS_URL = testRedisUrl();
const ROWS = 40_000;
const CHILD = resolve(import.meta.dirname, 'support/childServer.ts');

let dataDir: string;
let port: number;
let hook: Receiver;
const children = new Set<ChildProcess>();

interface Child {
  proc: ChildProcess;
  lines: string[];
  waitLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
}

function startChild(extraEnv: Record<string, string> = {}): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CHILD_DATA_DIR: dataDir,
      CHILD_REDIS_URL: REDIS_URL,
      CHILD_PORT: String(port),
      QUAYLOGS_SECRET: SECRET,
      QUAYLOGS_BOOTSTRAP_TOKEN: ADMIN_TOKEN,
      QUAYLOGS_CALLBACK_SECRET: CALLBACK_SECRET,
      QUAYLOGS_SSRF_ALLOWED_HOSTS: '127.0.0.1',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  const lines: string[] = [];
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let buffered = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const child: Child = {
    proc,
    lines,
    waitLine(match, timeoutMs = 60_000) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`child never printed the line; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`)), timeoutMs);
        proc.once('exit', (code) => rej(new Error(`child exited (${code}); stderr:\n${stderr}`)));
        waiters.push({ match, resolve: (l) => (clearTimeout(timer), res(l)) });
      });
    },
  };
  return child.waitLine((l) => l === 'READY').then(() => child);
}

async function kill(child: Child): Promise<void> {
  const exited = new Promise((r) => child.proc.once('exit', r));
  child.proc.kill('SIGKILL');
  await exited;
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quaylogs-crash-'));
  port = await new Promise<number>((res) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => res(p));
    });
  });
  const redis = new Redis(REDIS_URL);
  await redis.flushdb();
  await quitRedis(redis);
  // 500 to the first callback, then 204.
  hook = await startReceiver(sequence(500, 204));
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await hook?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('survives SIGKILL mid-export and mid-delivery: delivered, one file, one webhook-id', async () => {
  // 1. Killed while writing the file.
  const first = await startChild({ CHILD_SEED_ROWS: String(ROWS), CHILD_CHUNK_DELAY_MS: '150' });
  const req = await api('POST', '/api/v1/organization/acme-corp/exportlogs?starttime=06/01/2024&endtime=06/30/2024', { callback_url: hook.url('/crash') });
  expect(req.status).toBe(200);
  const exportId: string = req.body.export_id;
  await first.waitLine((l) => l.startsWith('CHUNK '));
  await kill(first);
  expect(first.lines.some((l) => l.startsWith('GENERATED'))).toBe(false);
  const partial = readdirSync(join(dataDir, 'exports'));
  expect(partial.every((f) => f.endsWith('.part'))).toBe(true);

  // 2. Restarted: takes the stalled job over, generates, calls back (500) — and is killed again.
  const second = await startChild();
  await second.waitLine((l) => l === `GENERATED ${exportId}`);
  await hook.waitFor(1, 30_000);
  await kill(second);

  // 3. Restarted once more: the callback is retried and accepted.
  const third = await startChild();
  await hook.waitFor(2, 30_000);
  const status = await eventually(async () => {
    const res = await api('GET', `/api/v1/exportlogs/${exportId}`);
    return res.body.status === 'delivered' ? res.body : undefined;
  }, 30_000);
  expect(status).toMatchObject({ rows: ROWS, generation: { status: 'generated', outcome: 'success' } });
  expect(status.channels.callback).toMatchObject({ status: 'delivered', last_status_code: 204 });
  expect(third.lines.some((l) => l.startsWith('GENERATED'))).toBe(false);

  // One file, complete, no partial leftovers.
  const files = readdirSync(join(dataDir, 'exports'));
  expect(files).toHaveLength(1);
  expect(files[0]).toMatch(new RegExp(`^${exportId}-[0-9a-f]{16}$`));
  const file = await download(status.exported_data_url);
  expect(parseQuayDocument(file.bytes).entries).toHaveLength(ROWS);

  // Every callback of this export carried the same webhook-id, and each verifies.
  expect(hook.requests.length).toBeGreaterThanOrEqual(2);
  const ids = new Set(hook.requests.map((r) => r.headers['webhook-id']));
  expect([...ids]).toEqual([status.channels.callback.webhook_id]);
  for (const r of hook.requests) expect(new Webhook(CALLBACK_SECRET).verify(r.body, r.headers)).toMatchObject({ export_id: exportId, status: 'success' });
  await kill(third);
});
