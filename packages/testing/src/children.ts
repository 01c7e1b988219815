/**
 * Child processes that log JSON lines on stdout (a loader, a store host, …), for tests that
 * run parts of quaylogs as separate OS processes: the child is a TypeScript script run with
 * tsx from the repository root; each JSON line it prints is kept and can be waited for.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPO_ROOT as ROOT } from './paths.ts';

export interface JsonChild {
  proc: ChildProcess;
  lines: any[];
  /** Resolves with the first logged line matching `pred` (rejects if the child exits first). */
  /** The first line (parsed) that `pred` accepts; rejects, with the last lines seen, after `timeoutMs` (default 120 s) or when the child exits first. */
  waitFor(pred: (line: any) => boolean, timeoutMs?: number): Promise<any>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildProcess>();

export function spawnJsonChild(script: string, args: string[], env: Record<string, string> = {}): JsonChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(proc);
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      running.delete(proc);
      resolve(code);
    }),
  );
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
    if (process.env.CHILD_DEBUG) process.stderr.write(`${proc.pid} ${text.slice(0, 240)}\n`);
    for (const w of [...waiters]) {
      if (w.pred(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  return {
    proc,
    lines,
    exited,
    waitFor: (pred, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const hit = lines.find(pred);
        if (hit) return resolve(hit);
        const timer = setTimeout(() => reject(new Error(`no expected line within ${timeoutMs / 1000} s; saw ${JSON.stringify(lines.slice(-5))}`)), timeoutMs);
        waiters.push({ pred, resolve: (v: unknown) => (clearTimeout(timer), resolve(v)) });
        void exited.then((code) => (clearTimeout(timer), reject(new Error(`child exited (${code}) before the expected line; saw ${JSON.stringify(lines.slice(-5))}`))));
      }),
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** Kills every child still running (afterAll). */
export async function killAllChildren(): Promise<void> {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}
