/**
 * A purge a crash interrupted (entries deleted, rollups only partly corrected, the audit still
 * `running`) is finished by the next `quaylogs up` on the embedded store — which only that
 * process can hold, so nothing else can be running the purge — with the rollups corrected once
 * and the audit `done`. Real embedded engine, then `quaylogs up` as an OS process.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseStore, embeddedPath, insertUsageLogs, migrate, openEmbeddedStore } from '@quaylogs/clickhouse';
import { purgeEntries } from '@quaylogs/ingest';
import { row } from '@quaylogs/testing';
import { type UpSite, upSite } from '@quaylogs/testing/up';
import { afterAll, expect, it } from 'vitest';

let site: UpSite | undefined;
afterAll(async () => site?.close());

it('quaylogs up finishes an interrupted purge on the embedded store, correcting each rollup once', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'quaylogs-purge-resume-'));
  const store = await openEmbeddedStore({ path: embeddedPath(dataDir), database: 'quaylogs' });
  await migrate(store);
  const rows = Array.from({ length: 300 }, (_, i) =>
    row({ performer: i % 3 === 0 ? 'bob' : 'alice', datetime: `2024-06-${String(10 + (i % 5)).padStart(2, '0')} 10:00:00.${String(i).padStart(3, '0')}`, event_key: String(i + 1) }),
  );
  await insertUsageLogs(store, rows, 'purge-resume');
  // The process "dies" after the delete and the first rollup's correction.
  let corrections = 0;
  const crashing: ClickHouseStore = {
    ...store,
    command: async (spec) => {
      if (spec.name.startsWith('purge.correct.') && ++corrections === 2) throw new Error('simulated crash');
      return store.command(spec);
    },
  };
  await expect(purgeEntries(crashing, { performer: 'bob', requestedBy: 'test-admin' })).rejects.toThrow('simulated crash');
  await store.close();

  site = await upSite({ dataDir, redisUrl: null, env: { QUAYLOGS_BOOTSTRAP_TOKEN: 'purge-resume-token-0123456789', QUAYLOGS_LOG_LEVEL: 'info' } });
  const up = await site.up(['--demo-rows', '0']);
  expect(up.output()).toContain('purge: an interrupted purge was finished');
  const sql = async (q: string) => JSON.parse((await site!.run('sql', q, '--json')).stdout) as Record<string, string>;
  expect(await sql("SELECT status, toString(rows_deleted) AS n FROM data_purges FINAL")).toEqual({ status: 'done', n: '100' });
  expect(await sql("SELECT count() AS n FROM usage_logs WHERE performer = 'bob'")).toEqual({ n: '0' });
  // Every rollup equals a recount of what is stored (200 entries of alice, and whatever `up` itself logged).
  const stored = await sql("SELECT toString(count()) AS n FROM usage_logs");
  expect(await sql("SELECT toString(count()) AS n FROM usage_logs WHERE source = 'quay-prod'")).toEqual({ n: '200' });
  for (const rollup of ['usage_daily_kind', 'usage_daily_namespace', 'usage_daily_repo', 'usage_daily_performer']) {
    expect(await sql(`SELECT toString(sum(count)) AS n FROM ${rollup}`), rollup).toEqual(stored);
  }
  expect(await sql("SELECT toString(sum(count)) AS n FROM usage_daily_performer WHERE performer = 'bob'")).toEqual({ n: '0' });
  expect((await up.stop()).code).toBe(0);
}, 180_000);
