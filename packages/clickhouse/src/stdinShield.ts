/**
 * Keeps the embedded engine away from the process's standard input.
 *
 * chDB runs ClickHouse's client code in-process, and that code takes whatever fd 0 holds as
 * extra data for an INSERT (clickhouse-local's `… | clickhouse-local -q "INSERT …"`
 * convention; reported upstream as chdb-io/chdb-core#239). In a process whose stdin is a pipe
 * that receives anything — a supervisor, a parent that talks to its child over stdin,
 * `… | quaylogs up` — an insert then fails on the stdin bytes ("Cannot parse input: expected
 * '[' before: …"), or stores them as rows nobody wrote, and the process loses what was
 * written to it: the ingest stalls once blamed on the engine.
 *
 * Before the engine loads, fd 0 is re-pointed at /dev/null (the engine then sees an empty
 * stdin, whatever the process was given) and the original stdin is kept on another
 * descriptor, which `engineSafeStdin()` reads. A terminal is left alone: the engine never
 * reads a terminal as data. Linux only (/proc/self/fd); elsewhere nothing changes.
 */
import { closeSync, createReadStream, fstatSync, openSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { isatty } from 'node:tty';

let shielded = false;
/** The process's original stdin, moved off fd 0; null when fd 0 was left as it was. */
let keptFd: number | null = null;
let keptKind: 'pipe' | 'file' | null = null;

function isDevNull(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    const dn = statSync('/dev/null');
    return st.isCharacterDevice() && st.rdev === dn.rdev;
  } catch {
    return false;
  }
}

/** Re-points fd 0 at /dev/null, keeping the original stdin readable through engineSafeStdin(). Idempotent. */
export function shieldStdinFromEngine(): void {
  if (shielded) return;
  shielded = true;
  if (process.platform !== 'linux') return;
  let st: ReturnType<typeof fstatSync>;
  try {
    st = fstatSync(0);
  } catch {
    return; // no stdin at all: nothing for the engine to read
  }
  if (isatty(0) || isDevNull(0)) return;
  try {
    keptFd = openSync('/proc/self/fd/0', 'r');
    keptKind = st.isFIFO() ? 'pipe' : 'file';
  } catch {
    keptFd = null; // a socket cannot be reopened: the engine's safety comes first, its data is lost to the process
  }
  closeSync(0);
  const fd = openSync('/dev/null', 'r');
  if (fd !== 0) {
    // Something took descriptor 0 in between (nothing else runs here, so this is not expected).
    closeSync(fd);
    throw new Error('could not re-point standard input at /dev/null before starting the embedded engine');
  }
}

/**
 * The process's standard input, safe to read in a process that hosts the embedded engine
 * (use it instead of `process.stdin`, which reads /dev/null there).
 */
export function engineSafeStdin(): Readable {
  if (keptFd === null) return process.stdin;
  if (keptKind === 'pipe') return new Socket({ fd: keptFd, readable: true, writable: false });
  return createReadStream('', { fd: keptFd });
}
