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
import { createConnection, createServer } from 'node:net';
import type { TestProject } from 'vitest/node';
import { REDIS_SLOTS } from './redisSlots.ts';

/** A port nothing listens on now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

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
  ready: Promise<{ ports: number[]; stop: () => Promise<void> }>;
}
const KEY = Symbol.for('quaylogs.test.redisServers');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.QUAYLOGS_TEST_REDIS) {
    project.provide('quaylogsRedisPorts', []);
    return async () => undefined;
  }
  const g = globalThis as unknown as Record<symbol, Shared | undefined>;
  const shared = (g[KEY] ??= { users: 0, ready: start() });
  shared.users++;
  const { ports, stop } = await shared.ready;
  project.provide('quaylogsRedisPorts', ports);
  return async () => {
    if (--shared.users === 0) {
      g[KEY] = undefined;
      await stop();
    }
  };
}

async function start(): Promise<{ ports: number[]; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'quaylogs-test-redis-'));
  const servers: ChildProcess[] = [];
  const ports: number[] = [];
  for (let slot = 1; slot <= REDIS_SLOTS; slot++) {
    const port = await freePort();
    ports.push(port);
    servers.push(
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--databases', '16'], {
        stdio: 'ignore',
      }),
    );
  }
  for (const port of ports) {
    const until = Date.now() + 10_000;
    while (!(await answers(port))) {
      if (Date.now() > until) throw new Error(`redis-server on port ${port} did not start (is redis-server installed?)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const stop = async () => {
    for (const s of servers) s.kill('SIGTERM');
    await Promise.all(servers.map((s) => new Promise((r) => (s.exitCode !== null ? r(null) : s.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  };
  return { ports, stop };
}
