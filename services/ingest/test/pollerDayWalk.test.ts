/**
 * One day's walk, fed by a scripted registry (pages as Quay shapes them), for the cases the
 * simulator never produces: answers out of time order, and walks that never end.
 */
import { describe, expect, it } from 'vitest';
import { assignContentKeys, formatRfc2822 } from '@quaylogs/core';
import { quayEntryToRow, quayLogEntrySchema, type QuayClient, type QuayLogsPage } from '@quaylogs/quay-client';
import { PagingError, walkDay, type DayBatch } from '../src/poller/index.ts';

const DAY = new Date('2024-06-18T00:00:00Z');

function entry(second: number, tag = 'x') {
  return { kind: 'pull_repo', metadata: { repo: 'app', tag }, ip: '10.0.0.1', datetime: formatRfc2822(new Date(DAY.getTime() + second * 1000)), performer: { kind: 'user', name: 'alice', is_robot: false, avatar: { name: 'alice', hash: '00', color: '#969696', kind: 'user' } } };
}

function scripted(pages: { logs: ReturnType<typeof entry>[]; next_page?: string }[]): QuayClient & { calls: (string | undefined)[] } {
  const calls: (string | undefined)[] = [];
  let at = -1;
  return {
    baseUrl: 'http://scripted',
    calls,
    fetchLogsPage: async (req) => {
      calls.push(req.nextPage);
      at = req.nextPage === undefined ? 0 : at + 1; // a walk without token starts over
      const page = pages[at] ?? { logs: [] };
      return { start_time: '', end_time: '', ...page } as QuayLogsPage;
    },
    close: async () => undefined,
  };
}

async function run(client: QuayClient, batchRows = 2) {
  const batches: DayBatch[] = [];
  const warnings: string[] = [];
  const result = await walkDay({ client, source: 's', target: { namespace: 'acme' }, day: DAY, batchRows, withAccounts: false, emit: async (b) => void batches.push(b), warn: (_o, m) => void warnings.push(m) });
  return { batches, warnings, result };
}

describe('walkDay', () => {
  it('re-reads a day answered out of time order and keys it whole, as one keying of the day would', async () => {
    // Identical entries of second 50 arrive on both sides of an older second.
    const pages = [
      { logs: [entry(90), entry(50), entry(10), entry(50), entry(50, 'y')], next_page: 'p2' },
      { logs: [entry(5)] },
    ];
    const client = scripted(pages);
    const { batches, warnings, result } = await run(client, 1);
    expect(result.reread).toBe(true);
    expect(warnings).toContain('poller: Quay answered out of time order; re-reading the day whole');
    const all = pages.flatMap((p) => p.logs).map((e) => quayEntryToRow(quayLogEntrySchema.parse(e), { source: 's', namespace: 'acme' }));
    const expected = new Set(assignContentKeys(all).map((r) => r.event_key));
    const emitted = new Set(batches.flatMap((b) => b.rows.map((r) => r.event_key)));
    expect(emitted).toEqual(expected); // the early batches' keys are among the whole-day keys
    expect(expected.size).toBe(6);
  });

  it('cuts batches only between seconds', async () => {
    const client = scripted([{ logs: [entry(9), entry(8), entry(8), entry(8, 'z'), entry(7), entry(7)] }]);
    const { batches } = await run(client, 1);
    expect(batches.map((b) => b.rows.map((r) => r.datetime.slice(17, 19)))).toEqual([['09'], ['08', '08', '08'], ['07', '07']]);
  });

  it('drops entries outside the day asked for, with a warning', async () => {
    const client = scripted([{ logs: [entry(10), entry(-5)] }]);
    const { batches, warnings, result } = await run(client);
    expect(result).toMatchObject({ entries: 1, outside: 1 });
    expect(batches.flatMap((b) => b.rows)).toHaveLength(1);
    expect(warnings[0]).toMatch(/outside the day/);
  });

  it('gives up on a registry whose walk never ends', async () => {
    const loop = scripted([{ logs: [entry(3)], next_page: 'a' }, { logs: [entry(2)], next_page: 'a' }]);
    await expect(run(loop)).rejects.toThrow(PagingError);
    const empties = scripted(Array.from({ length: 10 }, (_, i) => ({ logs: [], next_page: `t${i}` })));
    await expect(run(empties)).rejects.toThrow(/kept answering empty pages with a next_page/);
  });
});
