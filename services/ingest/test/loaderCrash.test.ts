/**
 * The loader killed with SIGKILL mid-work and restarted, in a child process with its own
 * embedded store (the engine binds one data directory per process): every entry that was
 * in the stream ends up stored exactly once and nothing stays pending. Redis database 3.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomEventKey, type UsageLogRow } from '@quaylogs/core';
import { appendIngestBatch, ingestBacklog, quitRedis, type Redis } from '@quaylogs/queue';
import { testRedis, testRedisUrl } from '@quaylogs/testing';

const CHILD = fileURLToPath(new URL('./loaderChild.ts', import.meta.url));
const REDIS_URL = testRedisUrl();
const ROWS = 200_000;
const PER_ENTRY = 400;

let redis: Redis;
let dir: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  redis = testRedis();
  await redis.flushdb();
  dir = mkdtempSync(join(tmpdir(), 'quaylogs-crash-'));
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await redis.flushdb();
  await quitRedis(redis);
  rmSync(dir, { recursive: true, force: true });
});

interface Child {
  proc: ChildProcess;
  /** Resolves with the first logged line matching `pred` (rejects if the child exits first). */
  waitFor(pred: (line: any) => boolean): Promise<any>;
  exited: Promise<number | null>;
}

function child(mode: 'load' | 'count', env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, dir, REDIS_URL], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(proc);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => {
    children.delete(proc);
    resolve(code);
  }));
  const lines: any[] = [];
  const waiters: { pred: (l: any) => boolean; resolve: (l: any) => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    let line: any;
    try {
      line = JSON.parse(text);
    } catch {
      return;
    }
    lines.push(line);
    if (process.env.CRASH_DEBUG) process.stderr.write(`${text.slice(0, 300)}\n`);
    for (const w of [...waiters]) if (w.pred(line)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  });
  return {
    proc,
    exited,
    waitFor: (pred) =>
      new Promise((resolve, reject) => {
        const hit = lines.find(pred);
        if (hit) return resolve(hit);
        waiters.push({ pred, resolve });
        void exited.then((code) => reject(new Error(`child exited (${code}) before the expected line; saw ${JSON.stringify(lines.slice(-5))}`)));
      }),
  };
}

async function kill(c: Child): Promise<void> {
  c.proc.kill('SIGKILL');
  await c.exited;
}

function hecRow(i: number, now: number): UsageLogRow {
  return {
    source: 'quay-prod', namespace: `org${i % 17}`, repository: `repo${i % 29}`, kind: i % 3 ? 'pull_repo' : 'push_repo',
    performer: i % 5 ? 'alice' : `org${i % 17}+ci`, ip: `10.1.${i % 200}.${i % 13}`,
    datetime: new Date(now - (ROWS - i) * 10).toISOString().replace('T', ' ').replace('Z', ''),
    metadata: JSON.stringify({ repo: `repo${i % 29}`, tag: 'latest', i }), event_key: randomEventKey(),
    request_url: '', http_method: '', user_agent: '', request_id: '', auth_type: '', performer_kind: '', x_forwarded_for: '',
  };
}

describe('loader crash safety', () => {
  it('killed with SIGKILL between insert and acknowledgement and again mid-run, restarted: every entry stored exactly once, nothing pending', async () => {
    const now = Date.now();
    for (let i = 0; i < ROWS; i += PER_ENTRY) {
      const rows = Array.from({ length: PER_ENTRY }, (_, j) => hecRow(i + j, now));
      await appendIngestBatch(redis, { v: 1, origin: 'hec', source: 'quay-prod', rows });
    }
    const entries = await ingestBacklog(redis); // each batch split by shard
    expect(entries).toBeGreaterThanOrEqual(ROWS / PER_ENTRY);

    // 1: frozen right after ClickHouse accepted its first batch, before acknowledging it.
    const first = child('load', { PAUSE_AFTER_FIRST_INSERT: '1' });
    const stored = await first.waitFor((l) => l.msg === 'loader: batch stored');
    expect(stored.inserted).toBeGreaterThan(0);
    await kill(first);
    expect(await ingestBacklog(redis)).toBe(entries); // nothing acknowledged

    // 2: restarted, killed at an arbitrary point a few batches later.
    const second = child('load');
    const again = await second.waitFor((l) => l.msg === 'loader: batch stored');
    expect(again.duplicates).toBe(stored.inserted); // the unacknowledged batch, found already stored
    await second.waitFor((l) => l.msg === 'loader: batch stored' && l.duplicates === 0);
    await new Promise((r) => setTimeout(r, 40 + Math.floor(Math.random() * 200)));
    await kill(second);
    const left = await ingestBacklog(redis);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(entries);

    // 3: restarted, drains and counts.
    const third = child('count');
    const counts = await third.waitFor((l) => l.msg === 'child: counts');
    expect(await third.exited).toBe(0);
    expect(counts).toMatchObject({ rows: ROWS, keys: ROWS, rollup: ROWS, length: 0, pending: 0 });
  }, 240_000); // three child processes each load the embedded engine (tens of seconds on a busy machine)
});
