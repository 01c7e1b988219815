/**
 * `quaylogs up` with QUAYLOGS_CLICKHOUSE_HTTP_PORT serves ClickHouse's HTTP interface for
 * its embedded store next to the API, to the bootstrap superuser, read-only; SIGTERM
 * closes it with the rest, in order, and the process exits 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/support/processes.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const TOKEN = 'bridge-up-bootstrap-token-0123456789';
const dataDir = mkdtempSync(join(tmpdir(), 'quaylogs-bridge-up-'));

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('quaylogs up with QUAYLOGS_CLICKHOUSE_HTTP_PORT', () => {
  it('serves the embedded store over ClickHouse HTTP to the superuser, read-only, and stops with SIGTERM', async () => {
    const [apiPort, chPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(QUAYLOGS_|CLICKHOUSE_|REDIS_)/.test(k)) env[k] = v;
    Object.assign(env, {
      QUAYLOGS_DATA_DIR: dataDir,
      QUAYLOGS_PORT: String(apiPort),
      QUAYLOGS_CLICKHOUSE_HTTP_PORT: String(chPort),
      QUAYLOGS_BOOTSTRAP_TOKEN: TOKEN,
      QUAYLOGS_LOG_LEVEL: 'warn',
      REDIS_URL: `${process.env.QUAYLOGS_TEST_REDIS ?? 'redis://127.0.0.1:6379'}/13`,
    });
    const child = spawn(process.execPath, ['services/cli/bin/quaylogs.js', 'up', '--demo-rows', '2000'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      const deadline = Date.now() + 150_000;
      while (!/quaylogs is serving/.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`quaylogs up did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const client = createClient({ url: `http://127.0.0.1:${chPort}`, username: 'admin', password: TOKEN, database: 'quaylogs' });
      const rs = await client.query({ query: 'SELECT count() AS n FROM usage_logs', format: 'JSONEachRow' });
      expect(Number(((await rs.json()) as { n: string }[])[0]!.n)).toBeGreaterThanOrEqual(2000);
      const write = await client.command({ query: 'TRUNCATE TABLE usage_logs' }).catch((e) => e);
      expect(write).toMatchObject({ type: 'READONLY' });
      const wrong = await fetch(`http://127.0.0.1:${chPort}/?query=SELECT%201`, { headers: { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` } });
      expect(wrong.status).toBe(401);
      await client.close();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, out).toBe(0);
  });
});
