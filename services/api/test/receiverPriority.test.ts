/**
 * CPU priority of the isolated HEC receiver against the process behind it (API, loader,
 * exporter, embedded engine): read back from /proc, per thread, as the kernel schedules them.
 * Real processes (receiverPriorityServer.ts starts them as `quaylogs up` does), a real Redis,
 * real HTTP. The privileged cases run when this process may raise priorities (root or
 * CAP_SYS_NICE); the unprivileged one drops that capability with setpriv when it can.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { testRedisUrl } from '@quaylogs/testing';

const TOKEN = '5d0f3c1e-8a4b-4f7e-9c2d-1b6a7e8f9a0b';
const SERVER = fileURLToPath(new URL('./receiverPriorityServer.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const linux = process.platform === 'linux';
/** May this process lower nice values (CAP_SYS_NICE, bit 23 of the effective set)? */
const privileged = linux && (BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`) & (1n << 23n)) !== 0n;
const setpriv = linux && !spawnSync('setpriv', ['--version']).error;

/** The nice value of every thread of a process, from /proc (field 19 of each task's stat). */
function threadNices(pid: number): number[] {
  const out: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]));
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return out;
}

/** A process's session id (field 6 of its stat) and its autogroup, as the scheduler groups it (null without autogroups). */
function sessionOf(pid: number): { session: number; autogroup: string | null } {
  const session = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]);
  let autogroup: string | null = null;
  try {
    autogroup = readFileSync(`/proc/${pid}/autogroup`, 'utf8').split(' ')[0]!;
  } catch {
    /* kernel without CONFIG_SCHED_AUTOGROUP */
  }
  return { session, autogroup };
}

type Line = { t: string; [k: string]: unknown };

interface Server {
  pid: number;
  port: number;
  receiverPid: number;
  lines: Line[];
  next(pred: (l: Line) => boolean, timeoutMs?: number): Promise<Line>;
  send(cmd: string): void;
  stop(): Promise<void>;
}

const running: ChildProcess[] = [];

async function startServer(nice: { receiver: number; api: number }, opts: { dropNicePrivilege?: boolean } = {}): Promise<Server> {
  const node = [process.execPath, '--import', TSX, SERVER, JSON.stringify({ redisUrl: testRedisUrl(), token: TOKEN, nice })];
  // setpriv: this process's privileges minus CAP_SYS_NICE (for the child and everything it starts).
  const argv = opts.dropNicePrivilege ? ['setpriv', '--bounding-set=-sys_nice', '--inh-caps=-sys_nice', ...node] : node;
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  running.push(child);
  const lines: Line[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Line);
    } catch {
      return; // the receiver's own log lines share this stdout
    }
    for (const w of waiters) w();
  });
  const next = (pred: (l: Line) => boolean, timeoutMs = 30_000) =>
    new Promise<Line>((resolve, reject) => {
      const seen = lines.length;
      const check = () => {
        const hit = lines.slice(seen).find(pred);
        if (!hit) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`no matching line within ${timeoutMs} ms: ${JSON.stringify(lines)}`))), timeoutMs);
      waiters.add(check);
    });
  const ready = lines.find((l) => l.t === 'ready') ?? (await next((l) => l.t === 'ready', 60_000));
  return {
    pid: child.pid!,
    port: ready.port as number,
    receiverPid: ready.receiverPid as number,
    lines,
    next: (pred, timeoutMs) => next(pred, timeoutMs),
    send: (cmd) => child.stdin!.write(`${cmd}\n`),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      await exited;
    },
  };
}

afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function post(port: number): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ event: { account: 'acme', kind: 'pull_repo', repository: 'web', performer: 'alice', ip: '10.0.0.1', datetime: 1_750_000_000, metadata_json: {} } });
  return new Promise((resolve, reject) => {
    const req = http.request(
      { port, host: '127.0.0.1', path: '/services/collector/event', method: 'POST', agent: false, headers: { authorization: `Splunk ${TOKEN}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The receiver process that answers after a crash (a new pid), once it serves again. */
async function restartedReceiver(server: Server, old: number): Promise<number> {
  process.kill(old, 'SIGKILL');
  for (let i = 0; i < 300; i++) {
    server.send('receiver');
    const pid = (await server.next((l) => l.t === 'receiver')).pid as number | undefined;
    if (pid && pid !== old && (await post(server.port).then((a) => a.status, () => 0)) === 200) return pid;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the receiver was not started again');
}

const success = { status: 200, body: '{"text":"Success","code":0}' };

describe.runIf(linux)('isolated receiver CPU priority', () => {
  it('every thread of the API process runs nicer than the receiver, threads started later too, and posts are accepted', async () => {
    const server = await startServer({ receiver: 0, api: 10 });
    expect(new Set(threadNices(server.pid))).toEqual(new Set([10]));
    expect(new Set(threadNices(server.receiverPid))).toEqual(new Set([0]));
    const before = threadNices(server.pid).length;
    server.send('thread');
    await server.next((l) => l.t === 'thread');
    const after = threadNices(server.pid);
    expect(after.length).toBeGreaterThan(before);
    expect(new Set(after)).toEqual(new Set([10]));
    expect(await post(server.port)).toEqual(success);
    expect(server.lines.filter((l) => l.level === 'warn')).toEqual([]);
    await server.stop();
  }, 90_000);

  it('the receiver runs in a session of its own, so autogroup scheduling gives it a CPU share of its own; a restarted one too', async () => {
    const server = await startServer({ receiver: 0, api: 10 });
    const api = sessionOf(server.pid);
    const receiver = sessionOf(server.receiverPid);
    expect(receiver.session).toBe(server.receiverPid);
    expect(receiver.session).not.toBe(api.session);
    if (api.autogroup !== null) expect(receiver.autogroup).not.toBe(api.autogroup);
    const pid = await restartedReceiver(server, server.receiverPid);
    expect(sessionOf(pid).session).toBe(pid);
    expect(await post(server.port)).toEqual(success);
    await server.stop();
  }, 90_000);

  it('leaves both processes alone when no priority is asked for', async () => {
    const server = await startServer({ receiver: 0, api: 0 });
    expect(new Set([...threadNices(server.pid), ...threadNices(server.receiverPid)])).toEqual(new Set([0]));
    expect(await post(server.port)).toEqual(success);
    await server.stop();
  }, 90_000);

  it.runIf(privileged)('when permitted, the receiver raises its priority, and takes it again after a crash', async () => {
    const server = await startServer({ receiver: -3, api: 10 });
    expect(new Set(threadNices(server.receiverPid))).toEqual(new Set([-3]));
    expect(new Set(threadNices(server.pid))).toEqual(new Set([10]));
    // A restarted receiver is spawned by a thread at nice 10 and lowers its value again.
    const pid = await restartedReceiver(server, server.receiverPid);
    expect(new Set(threadNices(pid))).toEqual(new Set([-3]));
    expect(server.lines.filter((l) => l.level === 'warn')).toEqual([]);
    await server.stop();
  }, 90_000);

  it.runIf(!privileged || setpriv)('without the privilege, the receiver keeps the nice value it has, says so, and serves', async () => {
    const server = await startServer({ receiver: -3, api: 10 }, { dropNicePrivilege: privileged });
    // Started before the API process lowered its priority: the receiver runs at the start value.
    expect(new Set(threadNices(server.receiverPid))).toEqual(new Set([0]));
    expect(new Set(threadNices(server.pid))).toEqual(new Set([10]));
    expect(await post(server.port)).toEqual(success);
    const refusal = (l: Line) => l.level === 'warn' && l.msg === 'hec receiver: could not raise its CPU priority; it keeps the nice value it started with';
    expect(server.lines.filter(refusal)).toMatchObject([{ nice: 0, wanted: -3 }]);
    // Restarted after a crash it inherits the API's value and may not lower it: said again, still serving.
    const pid = await restartedReceiver(server, server.receiverPid);
    expect(new Set(threadNices(pid))).toEqual(new Set([10]));
    expect(server.lines.filter(refusal)).toMatchObject([{ nice: 0 }, { nice: 10 }]);
    await server.stop();
  }, 90_000);
});
