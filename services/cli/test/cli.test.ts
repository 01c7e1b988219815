/**
 * The real `quaylogs` command (issue 2, item 8), spawned as a user runs it: help, migrate,
 * demo, sql (directly, and through a running `up` that holds the embedded store), the
 * data-directory lock, and an orderly SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/support/processes.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = 'services/cli/bin/quaylogs.js';
const TOKEN = 'cli-test-bootstrap-token-0123456789';
const HEC_TOKEN = 'cli-test-hec-token-5f0c2a7e9b1d';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
  });
}

/** Environment of the children: the parent's, minus anything quaylogs reads, plus ours. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(QUAYLOGS_|CLICKHOUSE_|REDIS_)/.test(k)) env[k] = v;
  }
  return { ...env, QUAYLOGS_LOG_LEVEL: 'warn', ...extra };
}

function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done };
}

describe('quaylogs CLI', () => {
  let dataDir: string;
  let port: number;
  let env: NodeJS.ProcessEnv;
  let up: { child: ChildProcess; done: Promise<Run> } | null = null;
  const run = (...args: string[]) => start(args, env).done;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'quaylogs-cli-'));
    port = await freePort();
    // HEC tokens set: `up` runs the receiver in its own process on the same port.
    env = childEnv({ QUAYLOGS_DATA_DIR: dataDir, QUAYLOGS_PORT: String(port), QUAYLOGS_BOOTSTRAP_TOKEN: TOKEN, QUAYLOGS_HEC_TOKENS: `prod=${HEC_TOKEN}` });
  });
  afterAll(async () => {
    if (up && up.child.exitCode === null && up.child.signalCode === null) {
      up.child.kill('SIGKILL');
      await up.done;
    }
    // A killed `up` leaves the redis-server it started; shut it down with the data directory.
    const socket = join(dataDir, 'redis', 'redis.sock');
    if (existsSync(socket)) {
      const redis = new Redis(socket, { lazyConnect: true, maxRetriesPerRequest: 0 });
      await redis.connect().then(() => redis.shutdown('NOSAVE')).catch(() => undefined);
      redis.disconnect();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('--help and up --help print usage and exit 0', async () => {
    const [top, upHelp, sqlHelp] = await Promise.all([run('--help'), run('up', '--help'), run('sql', '--help')]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: quaylogs \[options\] \[command\]/);
    for (const cmd of ['up', 'migrate', 'demo', 'sql']) expect(top.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    expect(top.stdout).toContain('QUAYLOGS_DATA_DIR');
    expect(upHelp.code).toBe(0);
    expect(upHelp.stdout).toMatch(/^Usage: quaylogs up \[options\]/);
    expect(upHelp.stdout).toContain('--demo-rows <n>');
    expect(upHelp.stdout).toContain('--port <port>');
    expect(sqlHelp.code).toBe(0);
    expect(sqlHelp.stdout).toMatch(/^Usage: quaylogs sql \[options\] <query>/);
    expect(sqlHelp.stdout).toContain('--json');
  });

  it('migrate applies every migration once; a second run applies none', async () => {
    const first = await run('migrate');
    expect(first.code).toBe(0);
    const m1 = /^(\d+) applied, 0 already applied$/m.exec(first.stdout);
    expect(m1, first.stdout + first.stderr).not.toBeNull();
    const n = Number(m1![1]);
    expect(n).toBeGreaterThanOrEqual(3);
    expect(first.stdout).toContain('applied 0001_create_usage_logs');
    const second = await run('migrate');
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe(`0 applied, ${n} already applied`);
  });

  it('demo --rows 20000 fills the store and sql --json counts exactly those rows', async () => {
    const demo = await run('demo', '--rows', '20000');
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stderr).toMatch(/20,000 log entries/);
    const sql = await run('sql', 'SELECT count() AS n FROM usage_logs', '--json');
    expect(sql.code, sql.stderr).toBe(0);
    expect(sql.stdout).toBe('{"n":"20000"}\n');
    expect(sql.stderr).toBe('');
  });

  it('sql refuses a write with exit 1 and one line on stderr, and the table is still there', async () => {
    const drop = await run('sql', 'DROP TABLE usage_logs');
    expect(drop.code).toBe(1);
    expect(drop.stdout).toBe('');
    expect(drop.stderr).toMatch(/^quaylogs: [^\n]+\n$/);
    const count = await run('sql', 'SELECT count() AS n FROM usage_logs', '--json');
    expect(count.stdout).toBe('{"n":"20000"}\n');
  });

  it('up serves; sql goes through the running server; a second up exits 1 naming the lock; SIGTERM exits 0 and frees port and store', async () => {
    up = start(['up'], env);
    let ready = false;
    for (let i = 0; i < 150 && !ready; i++) {
      if (up.child.exitCode !== null) break;
      ready = await fetch(`http://127.0.0.1:${port}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (!ready) await new Promise((r) => setTimeout(r, 200));
    }
    expect(ready, `up never became ready: ${up.child.exitCode}`).toBe(true);
    const pid = up.child.pid!;

    // The embedded store is held by `up`: sql answers through the server, the same demo count.
    const viaServer = await run('sql', "SELECT count() AS n FROM usage_logs WHERE source = 'demo'", '--json');
    expect(viaServer.code, viaServer.stderr).toBe(0);
    expect(viaServer.stdout).toBe('{"n":"20000"}\n');
    expect(viaServer.stderr).toBe('');
    // Besides the demo rows, `up` itself wrote one entry: the audit of the bootstrap admin's token.
    // It travels through the ingest stream like every entry, so it shows once the loader stored it.
    let own: Awaited<ReturnType<typeof run>> = { code: 0, signal: null, stdout: '', stderr: '' };
    for (let i = 0; i < 50 && own.stdout === ''; i++) {
      own = await run('sql', "SELECT source, kind, namespace, performer FROM usage_logs WHERE source != 'demo'", '--json');
      if (own.stdout === '') await new Promise((r) => setTimeout(r, 200));
    }
    expect(own.stdout).toBe('{"source":"quaylogs","kind":"create_app_specific_token","namespace":"admin","performer":"admin"}\n');
    // …and the server's own route agrees.
    const api = await fetch(`http://127.0.0.1:${port}/api/v1/superuser/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'SELECT count() AS n FROM usage_logs' }),
    });
    expect(((await api.json()) as { rows: unknown }).rows).toEqual([{ n: '20001' }]);

    // Page 1 of /logs is cached per namespace, and an entry the loader stores is on the next request.
    const auth = { authorization: `Bearer ${TOKEN}` };
    // Dates as the Quay UI sends them (a window without dates moves with the clock: never cached).
    const mdy = (d: Date) => `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/${d.getUTCFullYear()}`;
    const window = `starttime=${mdy(new Date(Date.now() - 86_400_000))}&endtime=${mdy(new Date(Date.now() + 86_400_000))}`;
    const userLogs = async () => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/user/logs?${window}`, { headers: auth });
      return ((await r.json()) as { logs: { kind: string }[] }).logs.map((l) => l.kind);
    };
    expect(await userLogs()).toEqual(['create_app_specific_token']);
    expect(await userLogs()).toEqual(['create_app_specific_token']);
    const created = await fetch(`http://127.0.0.1:${port}/api/v1/superuser/users/admin/apptoken`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'second' }),
    });
    expect(created.status).toBe(200);
    let kinds: string[] = [];
    for (let i = 0; i < 50 && kinds.length < 2; i++) {
      kinds = await userLogs();
      if (kinds.length < 2) await new Promise((r) => setTimeout(r, 200));
    }
    expect(kinds).toEqual(['create_app_specific_token', 'create_app_specific_token']);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/quaylogs_logs_page_cache_requests\{result="hit"\} [1-9]/);

    // A write through the running server is refused the same way.
    const drop = await run('sql', 'DROP TABLE usage_logs');
    expect(drop.code).toBe(1);
    expect(drop.stderr).toMatch(/^quaylogs: [^\n]+\n$/);

    // A second `up` on the same data directory: one line naming the lock and the holder.
    const second = await run('up', '--port', String(await freePort()));
    expect(second.code).toBe(1);
    const lines = second.stderr.split('\n').filter(Boolean);
    expect(lines, second.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^quaylogs: /);
    expect(lines[0]).toContain(join(dataDir, 'clickhouse'));
    expect(lines[0]).toContain(`in use by process ${pid}`);

    // Quay's HEC post on the same port is answered by the receiver process and stored by the loader.
    const hec = await fetch(`http://127.0.0.1:${port}/services/collector/event`, {
      method: 'POST',
      headers: { authorization: `Splunk ${HEC_TOKEN}` },
      body: JSON.stringify({ event: { kind: 'pull_repo', account: 'acme', repository: 'web', performer: 'alice', ip: '10.0.0.9', datetime: Math.floor(Date.now() / 1000) } }),
    });
    expect([hec.status, await hec.text()]).toEqual([200, '{"text":"Success","code":0}']);
    let fromHec: Awaited<ReturnType<typeof run>> = { code: 0, signal: null, stdout: '', stderr: '' };
    for (let i = 0; i < 50 && fromHec.stdout === ''; i++) {
      fromHec = await run('sql', "SELECT source, kind, namespace FROM usage_logs WHERE source = 'prod'", '--json');
      if (fromHec.stdout === '') await new Promise((r) => setTimeout(r, 200));
    }
    expect(fromHec.stdout).toBe('{"source":"prod","kind":"pull_repo","namespace":"acme"}\n');

    // SIGTERM: orderly shutdown, exit 0, the port closes, the store is free again.
    up.child.kill('SIGTERM');
    const stopped = await up.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toContain('SIGTERM received, shutting down');
    expect(await portOpen(port)).toBe(false);
    const direct = await run('sql', 'SELECT count() AS n FROM usage_logs', '--json');
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stdout).toBe('{"n":"20003"}\n');
    expect(direct.stderr).toBe('');
    // A dozen spawned commands, two `up`s and the receiver process: more than the default minute on a busy machine.
  }, 180_000);
});
