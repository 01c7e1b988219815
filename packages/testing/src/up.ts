/**
 * The `quaylogs` command spawned as a user runs it, and `quaylogs up` started, waited for
 * and stopped: one harness for the cli, console and end-to-end tests.
 *
 *   const up = await startUp({ args: ['--demo-rows', '2000'] });
 *   await fetch(`${up.url}/readyz`);
 *   expect((await up.stop()).code).toBe(0);
 *   await up.close(); // in afterAll: kills what still runs, removes the data directory
 *
 * Children get the parent's environment minus anything quaylogs reads (QUAYLOGS_*,
 * CLICKHOUSE_*, REDIS_*), so only what a test passes configures them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { QUAYLOGS_BIN, REPO_ROOT } from './paths.ts';
import { testRedisUrl } from './redis.ts';

/** A port nothing listens on now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
  });
}

/** The environment of a child: the parent's, minus anything quaylogs reads, plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(QUAYLOGS_|CLICKHOUSE_|REDIS_)/.test(k)) env[k] = v;
  return { ...env, QUAYLOGS_LOG_LEVEL: 'warn', ...extra };
}

/** A finished command. */
export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running command. */
export interface QuaylogsProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved as they arrived. */
  output(): string;
  done: Promise<Run>;
}

const running = new Set<ChildProcess>();

/** Starts `quaylogs <args>` from the repository root with `env` (see childEnv). */
export function spawnQuaylogs(args: string[], env: NodeJS.ProcessEnv): QuaylogsProcess {
  const child = spawn(process.execPath, [QUAYLOGS_BIN, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
    output += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    output += c.toString();
  });
  const done = new Promise<Run>((res) =>
    child.on('close', (code, signal) => {
      running.delete(child);
      res({ code, signal, stdout, stderr });
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, output: () => output, done };
}

/** Runs `quaylogs <args>` to its end. */
export function runQuaylogs(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return spawnQuaylogs(args, env).done;
}

/** SIGKILLs every `quaylogs` child still running (afterAll). */
export async function killAllQuaylogs(): Promise<void> {
  const left = [...running];
  for (const c of left) c.kill('SIGKILL');
  await Promise.all(left.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('close', r)))));
}

export interface UpSiteOptions {
  /** More environment for every command of the site (tokens, tuning). */
  env?: Record<string, string>;
  /** A data directory to use (kept on close); by default a new temporary one (removed on close). */
  dataDir?: string;
  /**
   * REDIS_URL: by default this test file's Redis database `up` (testRedisUrl); a URL to use
   * another; `null` for none, so `up` starts its own redis-server in the data directory.
   */
  redisUrl?: string | null;
}

/** A data directory, a port and the environment `quaylogs` commands run with there. */
export interface UpSite {
  dataDir: string;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  env: NodeJS.ProcessEnv;
  /** Runs a one-shot command (`migrate`, `sql …`) on this site to its end. */
  run(...args: string[]): Promise<Run>;
  /** Starts `quaylogs up <args>` here and waits until it serves. */
  up(args?: string[], opts?: { readyTimeoutMs?: number }): Promise<Up>;
  /** Kills what still runs, stops a redis-server `up` left in the data directory, removes a temporary data directory. */
  close(): Promise<void>;
}

export interface Up extends QuaylogsProcess {
  site: UpSite;
  port: number;
  url: string;
  pid: number;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Run>;
}

export async function upSite(opts: UpSiteOptions = {}): Promise<UpSite> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'quaylogs-up-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const redisUrl = opts.redisUrl === undefined ? testRedisUrl('up') : opts.redisUrl;
  const env = childEnv({ QUAYLOGS_DATA_DIR: dataDir, QUAYLOGS_PORT: String(port), ...(redisUrl !== null ? { REDIS_URL: redisUrl } : {}), ...opts.env });
  const ups: Up[] = [];
  const site: UpSite = {
    dataDir,
    port,
    url,
    env,
    run: (...args) => runQuaylogs(args, env),
    async up(args = [], { readyTimeoutMs = 170_000 } = {}) {
      const proc = spawnQuaylogs(['up', ...args], env);
      const up: Up = {
        ...proc,
        site,
        port,
        url,
        pid: proc.child.pid!,
        async stop(signal = 'SIGTERM') {
          if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
          return proc.done;
        },
      };
      ups.push(up);
      await waitServing(up, readyTimeoutMs);
      return up;
    },
    async close() {
      for (const up of ups) await up.stop('SIGKILL');
      // A killed `up` leaves the redis-server it started; shut it down with the data directory.
      const socket = join(dataDir, 'redis', 'redis.sock');
      if (existsSync(socket)) {
        const redis = new Redis(socket, { lazyConnect: true, maxRetriesPerRequest: 0 });
        await redis.connect().then(() => redis.shutdown('NOSAVE')).catch(() => undefined);
        redis.disconnect();
      }
      if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return site;
}

/** `quaylogs up <args>` on a new site (see upSite); `up.site.close()` cleans up. */
export async function startUp(opts: UpSiteOptions & { args?: string[]; readyTimeoutMs?: number } = {}): Promise<Up> {
  const site = await upSite(opts);
  try {
    return await site.up(opts.args, { readyTimeoutMs: opts.readyTimeoutMs });
  } catch (err) {
    await site.close();
    throw err;
  }
}

/** Until `up` said it serves and its /readyz answers 200; throws with its output if it exits or the time runs out. */
async function waitServing(up: Up, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void up.done.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`quaylogs up exited (${up.child.exitCode ?? up.child.signalCode}) before serving:\n${up.output()}`);
    if (up.stderr().includes('quaylogs is serving')) {
      const ready = await fetch(`${up.url}/readyz`).then((r) => r.ok, () => false);
      if (ready) return;
    }
    if (Date.now() > deadline) throw new Error(`quaylogs up did not become ready in ${timeoutMs / 1000} s:\n${up.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
