/**
 * Closing the embedded store: statements already issued finish with their own answers
 * before the engine's connections close, however many callers close it at once, and a
 * statement issued after close is refused with a clear error. Closing under a running
 * statement used to crash the process (SIGSEGV) or hang it on exit: `quaylogs status`
 * with Redis unreachable closed the store from its error path while a read still ran.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openEmbeddedStore } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'quaylogs-close-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('close waits for the statements in flight, is shared by concurrent callers, and refuses later statements', async () => {
  const store = await openEmbeddedStore({ path: join(dir, 'clickhouse'), database: 'quaylogs' });
  const n = 50_000_000;
  const running = store.query<{ s: string }>({ name: 'test.slowSum', sql: 'SELECT toString(sum(number)) AS s FROM numbers({n:UInt64})', params: { n } });
  const queued = store.query<{ one: number }>({ name: 'test.queued', sql: 'SELECT 1 AS one' });
  const [first, second] = [store.close(), store.close()];
  // The second caller, too, hears "closed" only once the engine is really closed.
  const order: string[] = [];
  void running.then(() => order.push('statement answered'));
  void second.then(() => order.push('second close resolved'));
  await expect(running).resolves.toEqual([{ s: String((BigInt(n) * BigInt(n - 1)) / 2n) }]);
  await expect(queued).resolves.toEqual([{ one: 1 }]);
  await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined]);
  expect(order).toEqual(['statement answered', 'second close resolved']);
  await expect(store.query({ name: 'test.afterClose', sql: 'SELECT 1' })).rejects.toThrow(/store is closed \(test\.afterClose\)/);
}, 120_000);
