/**
 * docs/sql.md promises that its worked queries run as written against demo data.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdhocSql } from '@quaylogs/api';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { openTestStore, repoPath } from '@quaylogs/testing';
import { loadDemo } from '../src/demoLoad.ts';

const doc = readFileSync(repoPath('docs/sql.md'), 'utf8');
const queries = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  await loadDemo(store, { rows: 40_000, seed: 3 });
});
afterAll(async () => cleanup());

describe('docs/sql.md', () => {
  it('has worked queries', () => {
    expect(queries.length).toBeGreaterThanOrEqual(8);
  });
  it.each(queries.map((q, i) => [i + 1, q]))('query %i runs as written and returns rows', async (_i, q) => {
    const { rows } = await runAdhocSql(store, q as string);
    expect(rows.length).toBeGreaterThan(0);
  });
});
