/**
 * next_page: a walk returns every entry exactly once, newest first, even when many
 * entries share one timestamp; bad tokens behave like Quay's (first page).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ApiFixture, call, logRow, seed, startApi } from './fixtures.ts';

let f: ApiFixture;
beforeAll(async () => {
  f = await startApi();
});
afterAll(async () => f.close());
beforeEach(async () => f.reset());

const Q = '/api/v1/organization/acme/logs?starttime=06/01/2024&endtime=06/30/2024';

async function seedMany(n: number, namespace = 'acme') {
  const rows = [];
  for (let i = 0; i < n; i++) {
    // groups of 7 entries share the same millisecond; some are otherwise identical
    const t = new Date(Date.UTC(2024, 5, 10) + Math.floor(i / 7) * 1000);
    rows.push(
      logRow({
        namespace,
        datetime: t.toISOString().replace('T', ' ').replace('Z', ''),
        metadata: JSON.stringify({ i }),
      }),
    );
  }
  await seed(f, rows);
}

async function walk(path: string): Promise<{ pages: any[]; all: any[] }> {
  const pages: any[] = [];
  let token: string | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const res = await call(f, 'GET', token ? `${path}&next_page=${encodeURIComponent(token)}` : path);
    expect(res.status).toBe(200);
    pages.push(res.body);
    token = res.body.next_page;
    if (!token) break;
  }
  return { pages, all: pages.flatMap((p) => p.logs) };
}

describe('paging through /logs', () => {
  it('walks 20 entries a page and returns every entry exactly once, newest first', async () => {
    await seedMany(137);
    const { pages, all } = await walk(Q);
    expect(pages.map((p) => p.logs.length)).toEqual([20, 20, 20, 20, 20, 20, 17]);
    expect(pages.at(-1).next_page).toBeUndefined(); // no dangling token on the last page
    const seen = all.map((l) => l.metadata.i);
    expect(new Set(seen).size).toBe(137);
    expect([...seen].sort((a, b) => a - b)).toEqual([...Array(137).keys()]);
    const times = all.map((l) => Date.parse(l.datetime));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // every page echoes the window of the walk
    expect(new Set(pages.map((p) => `${p.start_time}|${p.end_time}`)).size).toBe(1);
  });

  it('pages stay exact when entries are sparse (an hour, a day, a week apart) and the walk widens its reads', async () => {
    const rows = [];
    let t = Date.UTC(2024, 5, 29, 23, 0, 0);
    for (let i = 0; i < 90; i++) {
      t -= i < 30 ? 50 * 60_000 : i < 60 ? 26 * 3_600_000 : 8 * 86_400_000 / 30;
      rows.push(logRow({ namespace: 'acme', datetime: new Date(t).toISOString().replace('T', ' ').replace('Z', ''), metadata: JSON.stringify({ i }) }));
    }
    // two entries exactly at the first page's edge millisecond
    rows.push(logRow({ namespace: 'acme', datetime: rows[19]!.datetime, metadata: JSON.stringify({ i: 90 }) }));
    rows.push(logRow({ namespace: 'acme', datetime: rows[19]!.datetime, metadata: JSON.stringify({ i: 91 }) }));
    await seed(f, rows);
    const { all } = await walk('/api/v1/organization/acme/logs?starttime=05/01/2024&endtime=06/30/2024');
    const seen = all.map((l) => l.metadata.i);
    expect(new Set(seen).size).toBe(92);
    expect(seen.length).toBe(92);
    const times = all.map((l) => Date.parse(l.datetime));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('an exact multiple of 20 ends without an empty trailing page', async () => {
    await seedMany(40);
    const { pages } = await walk(Q);
    expect(pages.map((p) => p.logs.length)).toEqual([20, 20]);
  });

  it('a continued walk keeps its window although the default window moves with the clock', async () => {
    const now = Date.now();
    const rows = [];
    for (let i = 0; i < 30; i++) {
      rows.push(logRow({ namespace: 'acme', datetime: new Date(now - 3_600_000 - i * 1000).toISOString().replace('T', ' ').replace('Z', ''), metadata: JSON.stringify({ i }) }));
    }
    await seed(f, rows);
    const first = await call(f, 'GET', '/api/v1/organization/acme/logs');
    expect(first.body.logs).toHaveLength(20);
    const second = await call(f, 'GET', `/api/v1/organization/acme/logs?next_page=${encodeURIComponent(first.body.next_page)}`);
    expect(second.body.logs.map((l: any) => l.metadata.i)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    expect(second.body.start_time).toBe(first.body.start_time);
  });

  it('tampered, empty, foreign and expired tokens are ignored like Quay does: the first page comes back', async () => {
    await seedMany(45);
    await seedMany(45, 'other');
    const first = await call(f, 'GET', Q);
    const token: string = first.body.next_page;
    const firstKeys = first.body.logs.map((l: any) => l.metadata.i);

    const flip = token.slice(0, 30) + (token[30] === 'A' ? 'B' : 'A') + token.slice(31);
    for (const bad of [flip, '', 'not-a-token', token.slice(0, -4)]) {
      const res = await call(f, 'GET', `${Q}&next_page=${encodeURIComponent(bad)}`);
      expect(res.status).toBe(200);
      expect(res.body.logs.map((l: any) => l.metadata.i)).toEqual(firstKeys);
    }
    // a token from another organization's walk does not continue this one
    const otherQ = '/api/v1/organization/other/logs?starttime=06/01/2024&endtime=06/30/2024';
    const otherFirst = await call(f, 'GET', otherQ);
    const foreign = await call(f, 'GET', `${otherQ}&next_page=${encodeURIComponent(token)}`);
    expect(foreign.body.logs.map((l: any) => l.metadata.i)).toEqual(otherFirst.body.logs.map((l: any) => l.metadata.i));
    // nor does one from the same namespace with other filters
    const filtered = await call(f, 'GET', `${Q}&performer=alice&next_page=${encodeURIComponent(token)}`);
    expect(filtered.body.logs.map((l: any) => l.metadata.i)).toEqual(firstKeys);

    // valid now, expired two days later
    const ok = await call(f, 'GET', `${Q}&next_page=${encodeURIComponent(token)}`);
    expect(ok.body.logs.map((l: any) => l.metadata.i)).not.toEqual(firstKeys);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 2 * 86_400_000 + 60_000 });
    try {
      const expired = await call(f, 'GET', `${Q}&next_page=${encodeURIComponent(token)}`);
      expect(expired.body.logs.map((l: any) => l.metadata.i)).toEqual(firstKeys);
    } finally {
      vi.useRealTimers();
    }
  });
});
