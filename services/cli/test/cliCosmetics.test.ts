/**
 * The command's manners when things around it go away: a reader that closes the
 * pipe early, a stale Redis socket left by a killed run, and Redis dying before
 * SIGTERM. One clean line (or none), never a stack trace or ioredis' dump, and an
 * orderly exit within the shutdown deadline.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUAYLOGS_BIN as BIN, REPO_ROOT as ROOT } from '@quaylogs/testing';
import { childEnv, freePort, startUp, type Up } from '@quaylogs/testing/up';
import { afterAll, expect, it } from 'vitest';
import { startLocalRedis } from '../src/localRedis.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
const ups: Up[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const up of ups) await up.site.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'quaylogs-cosm-'));
  dirs.push(d);
  return d;
}

/** A unix socket file nobody listens on (what a SIGKILLed redis-server leaves). */
function staleSocket(path: string): void {
  const r = spawnSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`]);
  if (r.status !== 0) throw new Error(String(r.stderr));
}

it('`quaylogs sql … | head -1` prints one line and exits 0 without an EPIPE stack trace', () => {
  const dataDir = tempDir();
  const r = spawnSync('bash', ['-c', `node ${BIN} sql "SELECT number FROM numbers(10000)" --json | head -1; echo "node=\${PIPESTATUS[0]}" >&2`], {
    cwd: ROOT,
    env: childEnv({ QUAYLOGS_DATA_DIR: dataDir }),
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.stdout).toBe('{"number":"0"}\n');
  expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
  expect(r.stderr).toContain('node=0');
});

it('a stale redis socket at start: the probe fails quietly and a fresh redis-server is started', async () => {
  const dataDir = tempDir();
  mkdirSync(join(dataDir, 'redis'));
  staleSocket(join(dataDir, 'redis', 'redis.sock'));
  const printed: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
  try {
    const local = await startLocalRedis(dataDir);
    await new Promise((r) => setTimeout(r, 300)); // ioredis reports unhandled errors asynchronously
    await local.stop();
  } finally {
    console.error = original;
  }
  expect(printed.filter((l) => /Unhandled error event/.test(l))).toEqual([]);
});

it('`quaylogs status` against a stale socket says in one line that Redis is unreachable', () => {
  const dataDir = tempDir();
  mkdirSync(join(dataDir, 'redis'));
  staleSocket(join(dataDir, 'redis', 'redis.sock'));
  // A generous limit: on 2 cores shared with the scale-out test, starting the engine alone took over 30 s once.
  const r = spawnSync(process.execPath, [BIN, 'status'], { cwd: ROOT, env: childEnv({ QUAYLOGS_DATA_DIR: dataDir }), encoding: 'utf8', timeout: 90_000 });
  expect([r.status, r.signal, r.stderr, r.stdout]).toEqual([1, null, expect.any(String), expect.any(String)]);
  expect(r.stderr).not.toMatch(/Unhandled error event/);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^quaylogs: cannot reach Redis at .*redis\.sock/);
}, 120_000);

it('SIGTERM with Redis gone exits 0 before the shutdown deadline', async () => {
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
  children.push(redis);
  const up = await startUp({
    redisUrl: `redis://127.0.0.1:${redisPort}/0`,
    env: { QUAYLOGS_BOOTSTRAP_TOKEN: 'cosmetics-test-token-0123456789', QUAYLOGS_SHUTDOWN_TIMEOUT_MS: '15000' },
  });
  ups.push(up);
  redis.kill('SIGKILL');
  await new Promise((r) => redis.once('exit', r));
  await new Promise((r) => setTimeout(r, 500));
  const { code, stderr } = await up.stop('SIGTERM');
  expect(stderr).not.toContain('shutdown deadline passed');
  expect(stderr).not.toMatch(/Unhandled error event/);
  expect(code, stderr).toBe(0);
}, 120_000);
