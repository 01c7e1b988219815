/**
 * Parent side of ingestChild.ts: spawns the ingest server process and talks to
 * it over line-delimited JSON: commands on the child's fd 3, answers on its stdout.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { ingestBacklogByStream, ingestStreamKeys } from '@quaylogs/queue';
import { LOADER_MEMBERS_KEY } from '../../services/ingest/src/loader.ts';
import { REPO_ROOT } from './figures/codePaths.ts';
import { NotMeasured } from './types.ts';

export interface IngestServer {
  url: string;
  hecToken: string;
  source: string;
  call<T = Record<string, unknown>>(cmd: string, extra?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
  /** The tail of the server's stderr (loader diagnostics). */
  diagnostics(): string;
  /** Pending entries per consumer, and a diagnostic report of the server process (for a stall). */
  diagnose(): Promise<string>;
}

export async function startIngestServer(
  scratch: string,
  redisUrl: string,
  source: string,
  extra: { storePath?: string; adminToken?: string } = {},
): Promise<IngestServer> {
  const dataDir = join(scratch, `ingest-${randomBytes(4).toString('hex')}`);
  mkdirSync(dataDir, { recursive: true });
  // Node writes a diagnostic report only into a directory that exists (--cpu-prof creates its own at exit).
  if (process.env.BENCH_PROFILE_DIR) mkdirSync(process.env.BENCH_PROFILE_DIR, { recursive: true });
  const hecToken = `bench-hec-${randomBytes(12).toString('hex')}`;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      // BENCH_PROFILE_DIR: write a V8 CPU profile of the server process there (for "what the profile shows").
      ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []),
      // A command that gets no answer asks the server for a diagnostic report (JS and native
      // stacks, libuv handles, thread pool): written even when its event loop waits forever.
      '--report-on-signal',
      '--report-signal=SIGUSR2',
      `--report-directory=${process.env.BENCH_PROFILE_DIR ?? dataDir}`,
      '--import',
      'tsx',
      resolve(REPO_ROOT, 'test/bench/ingestChild.ts'), JSON.stringify({ dataDir, redisUrl, hecToken, source, ...extra })],
    // Commands go on fd 3, not stdin: the engine in the child must never see a stdin with data.
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let ready: ((url: string) => void) | null = null;
  let failed: ((e: Error) => void) | null = null;
  const readyP = new Promise<string>((res, rej) => {
    ready = res;
    failed = rej;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.once('exit', (code) => {
    // Exit code 3: the Redis database holds keys that are not the bench's (an environment problem).
    const err =
      code === 3
        ? new NotMeasured(stderr.trim())
        : new Error(`ingest server exited (code ${code}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
    failed?.(err);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let msg: { id?: number; ready?: boolean; url?: string; error?: string };
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.ready && msg.url) {
      ready?.(msg.url);
      return;
    }
    if (msg.id === undefined) return;
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (!p) return;
    if (msg.error) p.reject(new Error(msg.error));
    else p.resolve(msg);
  });
  const url = await readyP;
  let seq = 0;
  // A command the server never answers fails the figure instead of stalling the whole run
  // (seen twice in full runs: a `count` right after the warm-up post never came back).
  const call = <T>(cmd: string, extra: Record<string, unknown> = {}) =>
    new Promise<T>((res, rej) => {
      const id = ++seq;
      const timeoutMs = cmd === 'import' || cmd === 'export' || cmd === 'ceiling' || cmd === 'importStop' ? 3_600_000 : 120_000;
      const timer = setTimeout(() => {
        pending.delete(id);
        if (cmd === 'inflight') return rej(new Error('no answer'));
        void stallDiagnosis(child, redisUrl, process.env.BENCH_PROFILE_DIR ?? dataDir, inFlight).then((diag) =>
          rej(new Error(`the ingest server did not answer "${cmd}" within ${timeoutMs / 1000} s (server: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}; ${diag})`)),
        );
      }, timeoutMs);
      pending.set(id, {
        resolve: (v) => (clearTimeout(timer), res(v as T)),
        reject: (e) => (clearTimeout(timer), rej(e)),
      });
      (child.stdio[3] as Writable).write(JSON.stringify({ id, cmd, ...extra }) + '\n');
    });
  const inFlight = () => call<{ statements: unknown }>('inflight').then((r) => r.statements);
  return {
    url,
    hecToken,
    source,
    call,
    diagnostics: () => stderr.trim().split('\n').slice(-5).join(' | '),
    diagnose: () => stallDiagnosis(child, redisUrl, process.env.BENCH_PROFILE_DIR ?? dataDir, inFlight),
    async stop() {
      if (child.exitCode !== null) return;
      // The child answers `stop` and then exits on its own: give it time to (a SIGTERM
      // right after the answer would cut off its exit, e.g. a CPU profile being written).
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((r) => (timer = setTimeout(r, 30_000)));
      await Promise.race([call('stop').then(() => exited, () => undefined), deadline]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** What a stalled server looks like: the stream's pending entries per consumer, and a diagnostic report of the process. */
async function stallDiagnosis(
  child: ChildProcess,
  redisUrl: string,
  reportDir: string,
  inFlight?: () => Promise<unknown>,
): Promise<string> {
  const parts: string[] = [];
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const lengths = await ingestBacklogByStream(redis);
    parts.push(`stream length ${lengths.reduce((a, b) => a + b, 0)}`);
    ingestStreamKeys().forEach((key, i) => void (lengths[i] ? parts.push(`${key}: ${lengths[i]} entries`) : undefined));
    // The loaders and the shards they hold (leases), as `quaylogs status` shows them.
    const members = await redis.zrange(LOADER_MEMBERS_KEY, 0, -1).catch(() => [] as string[]);
    parts.push(`loaders: ${members.join(', ') || 'none'}`);
  } catch (err) {
    parts.push(`Redis: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
  // The statements the engine has not answered (the event loop answers this even when a caller waits forever).
  if (inFlight) {
    const statements = await Promise.race([inFlight().catch((e: Error) => e.message), new Promise<string>((r) => setTimeout(() => r('no answer within 5 s'), 5_000))]);
    parts.push(`engine statements in flight: ${typeof statements === 'string' ? statements : JSON.stringify(statements)}`);
  }
  // Every thread's native stack (the engine's threads too), when gdb is installed.
  if (child.exitCode === null && child.pid) {
    const out = join(reportDir, `threads-${child.pid}-${Date.now()}.txt`);
    const gdb = spawnSync('gdb', ['-p', String(child.pid), '-batch', '-ex', 'thread apply all bt'], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
    if (!gdb.error) {
      writeFileSync(out, `${gdb.stdout}\n${gdb.stderr}`);
      parts.push(`native stacks of every thread ${out}`);
    }
  }
  const before = new Set(existsSync(reportDir) ? readdirSync(reportDir) : []);
  if (child.exitCode === null && child.pid) {
    child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 3_000));
    const report = (existsSync(reportDir) ? readdirSync(reportDir) : []).find((f) => f.startsWith('report.') && !before.has(f));
    parts.push(report ? `diagnostic report ${join(reportDir, report)}` : 'no diagnostic report within 3 s (event loop blocked in native code?)');
  }
  return parts.join('; ');
}
