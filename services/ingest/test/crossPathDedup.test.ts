/**
 * One entry reaching quaylogs by two paths — Quay's database (milliseconds) and Quay's
 * API (seconds only) — is stored once: content keys identify an entry to the second.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { assignContentKeys } from '@quaylogs/core';
import type { Redis } from '@quaylogs/queue';
import { startLoader } from '../src/index.ts';
import { testRedis, useStoreAndRedis } from '@quaylogs/testing';
import { appendRows, quayRows, storedCounts } from './helpers.ts';

const file = useStoreAndRedis();
let store: ClickHouseStore;
let redis: Redis;

beforeAll(() => {
  ({ store, redis } = file);
});

describe('loader deduplication across paths', () => {
  it('an entry stored with milliseconds is recognised when it comes again with seconds only', async () => {
    const fromDb = quayRows(50, { start: new Date(Date.UTC(2024, 5, 18, 12, 0, 0, 604)) });
    const fromApi = assignContentKeys(
      fromDb.map(({ event_key: _k, ...r }) => ({ ...r, datetime: `${r.datetime.slice(0, 19)}.000`, repository: '' })),
    );
    expect(fromApi.map((r) => r.event_key)).toEqual(fromDb.map((r) => r.event_key));
    const loader = startLoader({ redis: testRedis(), store, consumer: 'x', batchMs: 20 });
    try {
      await appendRows(redis, fromDb, 25);
      await loader.drain();
      await appendRows(redis, fromApi, 10);
      await loader.drain();
    } finally {
      await loader.stop();
    }
    expect(await storedCounts(store)).toEqual({ rows: 50, keys: 50, rollup: 50 });
  });
});

describe('loader error classification', () => {
  it('never treats overload as bad data: TOO_MANY_PARTS, memory and timeouts are retried, parse errors are not', async () => {
    const { isTransientInsertError } = await import('../src/index.ts');
    const { ClickHouseError } = await import('@clickhouse/client');
    const ch = (code: string, type: string) =>
      new ClickHouseError({ message: `Code: ${code}. DB::Exception: something (${type})`, code, type });
    expect(isTransientInsertError(ch('252', 'TOO_MANY_PARTS'))).toBe(true);
    expect(isTransientInsertError(ch('241', 'MEMORY_LIMIT_EXCEEDED'))).toBe(true);
    expect(isTransientInsertError(ch('159', 'TIMEOUT_EXCEEDED'))).toBe(true);
    expect(isTransientInsertError(new Error('read ECONNRESET'))).toBe(true);
    expect(isTransientInsertError(ch('27', 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'))).toBe(false);
    expect(isTransientInsertError(ch('469', 'VIOLATED_CONSTRAINT'))).toBe(false);
    expect(isTransientInsertError(ch('53', 'TYPE_MISMATCH'))).toBe(false);
  });
});
