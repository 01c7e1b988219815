/**
 * CPU priority between the isolated HEC receiver and the process behind it (API, loader,
 * exporter, the embedded engine's insert, merge and query threads). On a machine with few
 * cores a post's latency is mostly time spent waiting for a core: the receiver must win the
 * CPU whenever it has work, and the engine may take every cycle the receiver leaves.
 *
 * Linux keeps the nice value per thread (setpriority(PRIO_PROCESS, tid) changes one thread),
 * and a new thread or child process inherits its creator's. So a process changes its whole
 * priority by setting every task listed in /proc/self/task; threads created later (the
 * engine's pools grow on demand) inherit it from the threads that create them.
 * Raising a nice value is always allowed; lowering it needs root or CAP_SYS_NICE.
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

export type NiceOutcome =
  /** Every thread now runs at `nice`. */
  | { ok: true; nice: number; threads: number }
  /** Nothing (or not everything) changed: `nice` is what the process still runs at. */
  | { ok: false; nice: number; reason: string };

function tasks(): number[] | null {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return null;
  }
}

/**
 * Sets every thread of this process to `nice`. Passes over /proc/self/task until one finds
 * no thread it has not set, so a thread created while the first pass ran (by a thread not
 * yet set) is caught too. Never throws.
 */
export function setProcessNice(nice: number): NiceOutcome {
  const current = getPriority();
  if (nice === current) return { ok: true, nice, threads: 0 };
  const done = new Set<number>();
  for (let pass = 0; pass < 5; pass++) {
    const tids = tasks();
    if (tids === null) {
      // No per-thread view (not Linux): the calling thread is all that can be changed.
      try {
        setPriority(nice);
        return { ok: true, nice, threads: 1 };
      } catch (err) {
        return { ok: false, nice: current, reason: (err as Error).message };
      }
    }
    const fresh = tids.filter((t) => !done.has(t));
    if (fresh.length === 0) return { ok: true, nice, threads: done.size };
    for (const tid of fresh) {
      try {
        setPriority(tid, nice);
        done.add(tid);
      } catch (err) {
        const code = (err as { info?: { code?: string } }).info?.code;
        if (code === 'ESRCH') continue; // the thread ended meanwhile
        // EACCES/EPERM: lowering the nice value is not permitted. Nothing was lowered
        // (the first thread already fails), so the process is left as it was.
        return { ok: false, nice: current, reason: code === 'EACCES' || code === 'EPERM' ? 'not permitted (needs root or CAP_SYS_NICE)' : (err as Error).message };
      }
    }
  }
  return { ok: true, nice, threads: done.size };
}

/** The nice values of this process's threads (diagnostics, tests). */
export function threadNices(pid: number | 'self' = 'self'): number[] {
  const out: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(getPriority(Number(tid)));
    } catch {
      /* ended meanwhile */
    }
  }
  return out;
}
