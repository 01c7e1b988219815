/**
 * Split mode as the README promises it, as separate OS processes over the server backend:
 * `quaylogs migrate`, then `quaylogs api` and `quaylogs worker --roles loader,exporter`
 * against CLICKHOUSE_URL (the server lane: the real engine behind ClickHouse's HTTP
 * protocol) and one Redis. Entries sent to the API's HEC receiver are stored by the other
 * process's loader and read back through the API; SIGTERM stops both in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerLane, startServerLane } from '../server-lane/serverLane.ts';
import { type CliProc, cliEnv, freePort, spawnCli, until } from '../support/processes.ts';

const ADMIN = 'split-mode-bootstrap-token-0123456789';
const HEC = 'split-mode-hec-token-0123456789';
const REDIS_URL = `${process.env.QUAYLOGS_TEST_REDIS ?? 'redis://127.0.0.1:6379'}/12`;

let lane: ServerLane;
let dataDir: string;
let apiPort: number;
const procs: CliProc[] = [];

function quaylogs(...args: string[]): CliProc {
  const proc = spawnCli(args[0]!, args, cliEnv({
    CLICKHOUSE_URL: lane.clickhouseUrl,
    REDIS_URL,
    QUAYLOGS_DATA_DIR: dataDir,
    QUAYLOGS_PORT: String(apiPort),
    QUAYLOGS_BOOTSTRAP_TOKEN: ADMIN,
    QUAYLOGS_SECRET: 'split-mode-secret-0123456789abcdef',
    QUAYLOGS_HEC_TOKENS: `prod=${HEC}`,
    QUAYLOGS_LOG_LEVEL: 'warn',
    QUAYLOGS_LOADER_BATCH_MS: '50',
  }));
  procs.push(proc);
  return proc;
}

beforeAll(async () => {
  lane = await startServerLane();
  dataDir = mkdtempSync(join(tmpdir(), 'quaylogs-split-'));
  apiPort = await freePort();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  await redis.flushdb();
  redis.disconnect();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await lane?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const event = (i: number) => ({
  event: {
    account: 'acme', datetime: 1718737153 + i, ip: '10.1.2.3', kind: i % 3 === 0 ? 'push_repo' : 'pull_repo',
    metadata_json: { namespace: 'acme', repo: 'web', tag: `t${i}` }, namespace_name: 'acme', performer: 'alice',
    performer_email: null, performer_kind: null, performer_username: 'alice', repository: 'web', repository_name: 'web',
  },
  host: 'quay.example.com',
  sourcetype: 'access_combined',
});

describe('split mode over the server backend, as separate processes', () => {
  it('migrate, then api and worker: HEC entries are stored once by the worker and read back through the api', async () => {
    const migrated = quaylogs('migrate');
    expect(await migrated.done, migrated.out()).toBe(0);
    expect(migrated.out()).toMatch(/^\d+ applied, 0 already applied$/m);

    const api = quaylogs('api');
    const worker = quaylogs('worker', '--roles', 'loader,exporter');
    const base = `http://127.0.0.1:${apiPort}`;
    await until('the api', async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined));

    const body = Array.from({ length: 300 }, (_, i) => JSON.stringify(event(i))).join('\n');
    const sent = await fetch(`${base}/services/collector/event`, { method: 'POST', headers: { authorization: `Splunk ${HEC}` }, body });
    expect(await sent.json()).toEqual({ text: 'Success', code: 0 });

    const agg = await until('the worker to store the entries', async () => {
      const res = await fetch(`${base}/api/v1/organization/acme/aggregatelogs?starttime=06/18/2024&endtime=06/19/2024`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      const json = (await res.json()) as { aggregated: { kind: string; count: number }[] };
      const total = json.aggregated?.reduce((n, a) => n + a.count, 0) ?? 0;
      return total === 300 ? json.aggregated : undefined;
    });
    expect(Object.fromEntries(agg.map((a) => [a.kind, a.count]))).toEqual({ pull_repo: 200, push_repo: 100 });

    // What the engine holds, asked over ClickHouse's protocol directly: each entry once.
    const ch = createClient({ url: lane.url, username: lane.user, password: lane.password, database: 'quaylogs' });
    const rs = await ch.query({ query: "SELECT count() AS n, uniqExact(event_key) AS keys FROM usage_logs WHERE namespace = 'acme'", format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ n: '300', keys: '300' }]);
    await ch.close();

    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await api.done, api.out()).toBe(0);
    expect(await worker.done, worker.out()).toBe(0);
    // Three processes start through tsx (about 10 s each on 2 shared cores) before any entry flows.
  }, 240_000);
});
