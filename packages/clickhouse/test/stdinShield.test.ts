/**
 * The embedded engine must never take the host process's stdin as INSERT data. chDB (like
 * clickhouse-local) reads fd 0 as extra data for an INSERT whenever it holds bytes; a process
 * whose stdin is a pipe (a supervisor, a parent that talks to it over stdin, `… | quaylogs up`)
 * had its inserts fail with a parse error of the stdin line — or, worse, store the stdin line as
 * rows nobody wrote. Real embedded engine in a child process whose stdin never stops receiving
 * lines shaped like every insert format the store sends.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'quaylogs-stdin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs stdinChild.ts with stdin fed lines shaped like every insert format the store sends. */
async function runChild(stdin: 'socket' | 'pipe'): Promise<{ rows: string[]; errors: string[]; received: number }> {
  const INSERTS = 40;
  const args = ['--import', 'tsx', join(import.meta.dirname, 'stdinChild.ts'), join(dir, `ch-${stdin}`), String(INSERTS)];
  // Node's own 'pipe' is a socket pair; `cat |` gives the child an OS pipe, as a shell pipeline or a supervisor would.
  const child =
    stdin === 'socket'
      ? spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn('/bin/sh', ['-c', 'cat | exec "$0" "$@"', process.execPath, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.on('error', () => undefined); // the child exits while lines are still being written
  const feed = setInterval(() => {
    for (let i = 0; i < 20; i++) child.stdin.write(`{"v":"stdin-json"}\n["stdin-compact"]\n('stdin-values')\n`);
  }, 1);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearInterval(feed);
  child.stdin.destroy();
  expect(code).toBe(0);
  const result = JSON.parse(out.trim().split('\n').pop()!) as { rows: string[]; errors: string[]; received: number };
  const expected = Array.from({ length: INSERTS }, (_, i) => [`row-${i}`, `compact-${i}`, `values-${i}`]).flat().sort();
  expect(result.errors).toEqual([]);
  expect(result.rows).toEqual(expected);
  return result;
}

describe.skipIf(process.env.QUAYLOGS_TEST_BACKEND === 'server')('the embedded engine and the process stdin', () => {
  it('an OS pipe on stdin: inserts take only their own rows, and the process still reads every line sent to it', async () => {
    const r = await runChild('pipe');
    expect(r.received).toBeGreaterThan(0);
  }, 120_000);

  it('a socket on stdin (a parent\'s stdio "pipe"): inserts take only their own rows; the socket cannot be kept, so the process reads end-of-file', async () => {
    const r = await runChild('socket');
    expect(r.received).toBe(0);
  }, 120_000);
});
