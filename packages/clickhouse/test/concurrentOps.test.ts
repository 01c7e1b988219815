/**
 * The embedded store under concurrent callers (the loader, an import's checkpoints, the API's
 * writes and reads all share one process): inserts of different tables and shapes, and
 * queries, issued at once all complete with their own outcome and every row is stored once.
 * (The "cross-talk" once seen under a saturated machine — a loader insert failing on a parse
 * error of text it never sent — was the engine reading the process's stdin: stdinShield.test.ts.)
 * Real embedded ClickHouse.
 */
import { expect, it } from 'vitest';
import type { UsageLogRow } from '@quaylogs/core';
import { insertUsageLogs, upsertAccounts } from '../src/index.ts';
import { useTestStore } from '@quaylogs/testing';

const file = useTestStore();

function rows(batch: number, n: number): UsageLogRow[] {
  return Array.from({ length: n }, (_, i) => ({
    source: 'concurrent', namespace: `ns${batch}`, repository: 'web', kind: 'pull_repo', performer: 'alice', ip: '10.0.0.1',
    datetime: `2024-06-01 00:00:${String(i % 60).padStart(2, '0')}.${String(batch).padStart(3, '0')}`, metadata: JSON.stringify({ batch, i }),
    event_key: String(batch * 1_000_000 + i), request_url: '', http_method: '', user_agent: '', request_id: '', auth_type: '', performer_kind: '', x_forwarded_for: '',
  }));
}

it('concurrent inserts of different shapes and concurrent reads each get their own outcome', async () => {
  const ops: Promise<unknown>[] = [];
  for (let b = 1; b <= 12; b++) {
    ops.push(insertUsageLogs(file.store, rows(b, 500), `concurrent-${b}`));
    ops.push(upsertAccounts(file.store, 'concurrent', [{ name: `user${b}`, kind: 'user', email: `user${b}@example.com` }]));
    ops.push(file.store.query<{ n: string }>({ name: 'test.count', sql: "SELECT count() AS n FROM usage_logs WHERE source = 'concurrent'" }));
  }
  const outcomes = await Promise.allSettled(ops);
  expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
  const [n] = await file.store.query<{ n: string }>({ name: 'test.count', sql: "SELECT count() AS n FROM usage_logs WHERE source = 'concurrent'" });
  expect(Number(n!.n)).toBe(12 * 500);
  const [a] = await file.store.query<{ n: string }>({ name: 'test.accounts', sql: "SELECT count() AS n FROM accounts FINAL WHERE source = 'concurrent'" });
  expect(Number(a!.n)).toBe(12);
});

it.skipIf(process.env.QUAYLOGS_TEST_BACKEND === 'server')('lists the statements still running or queued, by connection, and forgets them once answered', async () => {
  const slow = (i: number) =>
    file.store.query({ name: `test.slow${i}`, sql: 'SELECT sleepEachRow(0.4) FROM numbers(2) SETTINGS function_sleep_max_microseconds_per_block = 3000000' });
  const running = [slow(1), slow(2), slow(3)];
  await new Promise((r) => setTimeout(r, 200));
  const seen = file.store.inFlight!();
  expect(seen.map((s) => s.name).sort()).toEqual(['test.slow1', 'test.slow2', 'test.slow3']);
  expect(seen.filter((s) => s.state === 'running').length).toBe(2); // two read connections
  expect(seen.filter((s) => s.state === 'queued')).toHaveLength(1);
  expect(seen.every((s) => /^reader \d$/.test(s.connection) && s.ms >= 0)).toBe(true);
  await Promise.all(running);
  expect(file.store.inFlight!()).toEqual([]);
});
