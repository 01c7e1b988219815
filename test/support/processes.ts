/**
 * Running quaylogs as the operator does, for end-to-end tests: the real CLI entry point
 * (services/cli/bin/quaylogs.js) as OS processes with an environment of their own, a free
 * loopback port, waiting for a condition, and comparing every rollup with a recount of
 * `usage_logs`. Not a test file itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = 'services/cli/bin/quaylogs.js';

export interface CliProc {
  /** What the test calls it (for messages). */
  name: string;
  child: ChildProcess;
  /** Everything it wrote on stdout and stderr so far. */
  out(): string;
  /** Its exit code (null when killed by a signal). */
  done: Promise<number | null>;
  /** Sends `signal` (default SIGKILL) unless it already exited, and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * This process's environment without any QUAYLOGS_, CLICKHOUSE_ or REDIS_ variable, plus
 * `vars`: a child sees exactly the configuration the test gives it.
 */
export function cliEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(QUAYLOGS_|CLICKHOUSE_|REDIS_)/.test(k)) base[k] = v;
  return { ...base, ...vars };
}

/** Starts `quaylogs <args>` as its own OS process. */
export function spawnCli(name: string, args: string[], env: NodeJS.ProcessEnv): CliProc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    name,
    child,
    out: () => out,
    done,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await done;
    },
  };
}

/** A TCP port free on 127.0.0.1 at the time of asking. */
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

/**
 * Asks `probe` every `everyMs` until it answers something other than undefined (a throw counts
 * as not yet); `what` names the wait in the timeout's message (a function: asked at the timeout).
 */
export async function until<T>(what: string | (() => string), probe: () => Promise<T | undefined>, ms = 90_000, everyMs = 250): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The four daily rollups and the keys each sums `count` over. */
export const ROLLUPS = [
  { table: 'usage_daily_kind', keys: 'source, day, kind' },
  { table: 'usage_daily_namespace', keys: 'source, namespace, day, kind' },
  { table: 'usage_daily_repo', keys: 'source, namespace, day, kind, repository' },
  { table: 'usage_daily_performer', keys: 'source, namespace, performer, day, kind' },
] as const;

/**
 * SQL counting the keys where `table`'s `sum(count)` differs from a GROUP BY recount of
 * `usage_logs` (a key missing on either side counts): 0 when the rollup is exact.
 */
export function rollupMismatchSql(rollup: (typeof ROLLUPS)[number]): string {
  const { table, keys } = rollup;
  return `SELECT count() AS n FROM (SELECT ${keys}, sum(count) AS c FROM ${table} GROUP BY ${keys}) AS r
          FULL OUTER JOIN (SELECT ${keys.replace('day', 'toDate(datetime) AS day')}, count() AS c FROM usage_logs GROUP BY ${keys}) AS u
          USING (${keys}) WHERE r.c != u.c`;
}
