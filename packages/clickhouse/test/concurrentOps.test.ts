/**
 * The embedded store under concurrent callers (the loader, an import's checkpoints, the API's
 * writes and reads all share one process): inserts of different tables and shapes, and
 * queries, issued at once all complete with their own outcome and every row is stored once.
 * (This does not reproduce the cross-talk once seen under a saturated machine — a loader insert
 * failing with another statement's parse error — which the per-connection queue guards against.)
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
