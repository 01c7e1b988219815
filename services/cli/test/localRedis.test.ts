/**
 * The redis-server a one-shot command starts (no REDIS_URL, no running `up`) is stopped
 * without leaving a timer behind: a pending 10 s timer once kept a 3-row `import file`
 * alive for 10 s after its work was done. Checked in a process of its own (no test
 * runner timers): after stop(), no timer may be pending.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'quaylogs-localredis-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = `
import { existsSync } from 'node:fs';
import { startLocalRedis } from './src/localRedis.ts';
const local = await startLocalRedis(process.argv[1]);
const started = existsSync(local.url);
await local.stop();
console.log(JSON.stringify({ started, socketLeft: existsSync(local.url), resources: process.getActiveResourcesInfo() }));
`;

describe('local redis-server', () => {
  it('stops, removes its socket, and leaves no timer that would keep the command alive', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], {
      cwd: resolve(import.meta.dirname, '..'),
      encoding: 'utf8',
    });
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as { started: boolean; socketLeft: boolean; resources: string[] };
    expect(out.started).toBe(true);
    expect(out.socketLeft).toBe(false);
    expect(out.resources).not.toContain('Timeout');
  });
});
