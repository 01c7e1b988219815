/**
 * Runs I2's and I4's open-loop posts in their own process (postLoadChild.ts) and returns
 * what it measured. The generator is the only thing in that process, as Quay's workers
 * are the only thing in theirs.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './figures/codePaths.ts';
import type { OpenLoopResult } from './openLoop.ts';

export interface GeneratorStats {
  loopDelayP99: number;
  loopDelayMax: number;
  gcMax: number;
  gcTotal: number;
  cpuMs: number | null;
  waitMs: number | null;
}

export async function postsFromChild(
  scratch: string,
  server: { url: string; hecToken: string },
  bodies: readonly string[],
  rate: number,
): Promise<OpenLoopResult & { generator: GeneratorStats }> {
  const bodiesFile = join(scratch, `posts-${randomBytes(4).toString('hex')}.ndjson`);
  writeFileSync(bodiesFile, bodies.join('\n') + '\n');
  try {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', resolve(REPO_ROOT, 'test/bench/postLoadChild.ts'), JSON.stringify({ url: server.url, token: server.hecToken, rate, sockets: 256, bodiesFile })],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    if (code !== 0) throw new Error(`the load generator exited (code ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
    return JSON.parse(out) as OpenLoopResult & { generator: GeneratorStats };
  } finally {
    rmSync(bodiesFile, { force: true });
  }
}
