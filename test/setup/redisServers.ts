/**
 * vitest globalSetup: one private redis-server per test worker slot, so test files that run
 * at the same time never share a Redis, whatever database numbers they pick. Each file runs
 * in a worker slot (`VITEST_POOL_ID`); `redisPerWorker.ts` points the file at its slot's
 * server. A QUAYLOGS_TEST_REDIS set by the caller wins (then the caller keeps runs apart).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { REDIS_SLOTS, redisPortForSlot } from './redisSlots.ts';

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.end();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Shared by every project's globalSetup in this vitest process (each project runs it). */
interface Shared {
  users: number;
  ready: Promise<() => Promise<void>>;
}
const KEY = Symbol.for('quaylogs.test.redisServers');

export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.QUAYLOGS_TEST_REDIS) return async () => undefined;
  const g = globalThis as unknown as Record<symbol, Shared | undefined>;
  const shared = (g[KEY] ??= { users: 0, ready: start() });
  shared.users++;
  const stop = await shared.ready;
  return async () => {
    if (--shared.users === 0) {
      g[KEY] = undefined;
      await stop();
    }
  };
}

async function start(): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'quaylogs-test-redis-'));
  const servers: ChildProcess[] = [];
  for (let slot = 1; slot <= REDIS_SLOTS; slot++) {
    const port = redisPortForSlot(slot);
    if (await answers(port)) throw new Error(`port ${port} is taken: another test run is going on, or set QUAYLOGS_TEST_REDIS`);
    servers.push(
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--databases', '16'], {
        stdio: 'ignore',
      }),
    );
  }
  for (let slot = 1; slot <= REDIS_SLOTS; slot++) {
    const port = redisPortForSlot(slot);
    const until = Date.now() + 10_000;
    while (!(await answers(port))) {
      if (Date.now() > until) throw new Error(`redis-server on port ${port} did not start (is redis-server installed?)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return async () => {
    for (const s of servers) s.kill('SIGTERM');
    await Promise.all(servers.map((s) => new Promise((r) => (s.exitCode !== null ? r(null) : s.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  };
}
