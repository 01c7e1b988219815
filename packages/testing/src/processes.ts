/**
 * Many quaylogs processes at once, as the scale-out tests run them: named processes on the real
 * CLI entry point (built on spawnQuaylogs), waiting for a condition, and comparing every rollup
 * with a recount of `usage_logs`.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnQuaylogs } from './up.ts';

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

/** Starts `quaylogs <args>` as its own OS process, under a name. */
export function spawnCli(name: string, args: string[], env: NodeJS.ProcessEnv): CliProc {
  const p = spawnQuaylogs(args, env);
  const done = p.done.then((r) => r.code);
  return {
    name,
    child: p.child,
    out: p.output,
    done,
    async kill(signal = 'SIGKILL') {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
      await done;
    },
  };
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
