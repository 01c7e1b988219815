/**
 * Starts the server lane (laneMain.ts) as a separate OS process and hands back the
 * `CLICKHOUSE_URL` that reaches it. Each call gets its own engine and data directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT as ROOT, repoPath } from './paths.ts';

/** The lane's engine process: a script of the repository (it serves through @quaylogs/api's bridge). */
const MAIN = repoPath('test/server-lane/laneMain.ts');

export interface ServerLane {
  /** For CLICKHOUSE_URL (credentials included). */
  clickhouseUrl: string;
  /** The lane's base URL without credentials. */
  url: string;
  user: string;
  password: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startServerLane(): Promise<ServerLane> {
  const dir = mkdtempSync(join(tmpdir(), 'quaylogs-lane-'));
  const password = randomBytes(18).toString('hex');
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', QUAYLOGS_TEST_BRIDGE_WRITES: 'i-know-this-is-a-test', LANE_DATA_DIR: dir, LANE_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const port = await new Promise<number>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`the server lane did not start in 120 s: ${stderr}`)), 120_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`the server lane exited (${code}): ${stderr}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    clickhouseUrl: `http://lane:${password}@127.0.0.1:${port}`,
    url,
    user: 'lane',
    password,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
