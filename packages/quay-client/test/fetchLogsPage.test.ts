import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startQuaySim, type QuaySim } from '@quaylogs/testing/quaySim';
import {
  createQuayClient,
  fetchLogsPage,
  parseRetryAfter,
  QuayPermissionError,
  QuayRequestError,
  QuayRetryableError,
  QuaySearchUnavailableError,
  type QuayClient,
} from '../src/index.ts';

const NOW = new Date('2024-06-18T12:00:00Z');
let sim: QuaySim;
let client: QuayClient;

beforeAll(async () => {
  sim = await startQuaySim({
    now: () => NOW,
    tokens: { admintoken: { username: 'alice', admin: ['acme'], superuser: true }, usertoken: { username: 'bob' }, readall: { username: 'ro', readAllOrgs: true } },
    accounts: [{ name: 'acme', kind: 'org', email: null }, { name: 'alice', kind: 'user', email: 'alice@example.com' }],
  });
  client = createQuayClient({ baseUrl: sim.url, token: 'admintoken', timeouts: { connectMs: 1000, headersMs: 400, bodyMs: 400 } });
});

afterAll(async () => {
  await client.close();
  await sim.close();
});

beforeEach(() => {
  sim.clearEntries();
  sim.requests.length = 0;
  sim.searchUnavailable = false;
});

function entriesOn(day: string, n: number, namespace = 'acme') {
  return Array.from({ length: n }, (_, i) => ({
    namespace,
    kind: 'push_repo',
    performer: 'alice',
    ip: '10.0.0.1',
    datetime: new Date(Date.parse(`${day}T00:00:00Z`) + i * 1000),
    metadata: { repo: 'app', namespace, tag: `t${i}` },
  }));
}

describe('fetchLogsPage against the Quay simulator', () => {
  it("returns Quay's page: echoed window with +1 day, newest first, 20 per page, then the dangling token and the empty page", async () => {
    sim.addEntries(entriesOn('2024-06-17', 25));
    const first = await client.fetchLogsPage({ namespace: 'acme', starttime: '06/17/2024', endtime: '06/17/2024' });
    expect(first.start_time).toBe('Mon, 17 Jun 2024 00:00:00 -0000');
    expect(first.end_time).toBe('Tue, 18 Jun 2024 00:00:00 -0000');
    expect(first.logs).toHaveLength(20);
    expect(first.logs[0]!.datetime).toBe('Mon, 17 Jun 2024 00:00:24 -0000');
    expect(first.logs[0]!.performer).toMatchObject({ kind: 'user', name: 'alice', is_robot: false, avatar: { name: 'alice', kind: 'user' } });
    expect(first.logs[0]!.namespace).toBeUndefined();
    expect(first.next_page).toMatch(/^gAAAAA/);
    const second = await client.fetchLogsPage({ namespace: 'acme', starttime: '06/17/2024', endtime: '06/17/2024', nextPage: first.next_page });
    expect(second.logs).toHaveLength(5);
    expect(second.next_page).toBeDefined();
    const third = await client.fetchLogsPage({ namespace: 'acme', starttime: '06/17/2024', endtime: '06/17/2024', nextPage: second.next_page });
    expect(third.logs).toEqual([]);
    expect(third.next_page).toBeUndefined();
  });

  it('reads superuser logs with namespace objects, and /user/logs for the token owner', async () => {
    sim.addEntries(entriesOn('2024-06-17', 2));
    sim.addEntries(entriesOn('2024-06-17', 1, 'alice'));
    const su = await client.fetchLogsPage({ superuser: true, starttime: '06/17/2024', endtime: '06/17/2024' });
    expect(su.logs).toHaveLength(3);
    expect(su.logs.find((l) => l.namespace?.name === 'acme')?.namespace).toMatchObject({ kind: 'org', avatar: { kind: 'org' } });
    const mine = await client.fetchLogsPage({ user: true, starttime: '06/17/2024', endtime: '06/17/2024' });
    expect(mine.logs).toHaveLength(1);
    expect(sim.requests.map((r) => r.path)).toEqual(['/api/v1/superuser/logs', '/api/v1/user/logs']);
  });

  it("raises QuayPermissionError with Quay's detail for 401 (bad token) and 403 (no permission)", async () => {
    const bad = fetchLogsPage({ baseUrl: sim.url, token: 'nope', namespace: 'acme', starttime: '06/17/2024', endtime: '06/17/2024' });
    await expect(bad).rejects.toBeInstanceOf(QuayPermissionError);
    await expect(bad).rejects.toMatchObject({ status: 401, detail: 'Requires authentication', retryable: false });
    const forbidden = fetchLogsPage({ baseUrl: sim.url, token: 'usertoken', namespace: 'acme', starttime: '06/17/2024', endtime: '06/17/2024' });
    await expect(forbidden).rejects.toMatchObject({ name: 'QuayPermissionError', status: 403, detail: 'Unauthorized' });
    const su = fetchLogsPage({ baseUrl: sim.url, token: 'usertoken', superuser: true, starttime: '06/17/2024', endtime: '06/17/2024' });
    await expect(su).rejects.toMatchObject({ status: 403 });
    expect(sim.requests[0]!.authorization).toBe('Bearer nope');
  });

  it('raises QuayRetryableError for 5xx and for 429 with Retry-After', async () => {
    sim.inject({ kind: 'status', status: 500 });
    const e500 = client.fetchLogsPage({ namespace: 'acme', starttime: '06/17/2024', endtime: '06/17/2024' });
    await expect(e500).rejects.toBeInstanceOf(QuayRetryableError);
    await expect(e500).rejects.toMatchObject({ status: 500, retryable: true });
    sim.inject({ kind: 'status', status: 429, retryAfter: '7' });
    const e429 = client.fetchLogsPage({ namespace: 'acme', starttime: '06/17/2024', endtime: '06/17/2024' });
    await expect(e429).rejects.toMatchObject({ name: 'QuayRetryableError', status: 429, retryAfterMs: 7000 });
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:27:00Z'))).toBe(60_000);
  });

  it('raises QuayRetryableError when Quay hangs past the headers timeout, or cannot be reached', async () => {
    sim.inject({ kind: 'hang' });
    const hung = client.fetchLogsPage({ namespace: 'acme', starttime: '06/17/2024', endtime: '06/17/2024' });
    await expect(hung).rejects.toThrow(/headers timeout/);
    await expect(hung).rejects.toBeInstanceOf(QuayRetryableError);
    const closed = fetchLogsPage({ baseUrl: 'http://127.0.0.1:1', token: 't', namespace: 'acme', starttime: '06/17/2024', endtime: '06/17/2024' });
    await expect(closed).rejects.toMatchObject({ name: 'QuayRetryableError', message: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('raises QuaySearchUnavailableError with Quay\'s message on search_unavailable', async () => {
    sim.searchUnavailable = true;
    const p = client.fetchLogsPage({ namespace: 'acme', starttime: '06/17/2024', endtime: '06/17/2024' });
    await expect(p).rejects.toBeInstanceOf(QuaySearchUnavailableError);
    await expect(p).rejects.toThrow(/search_token to be configured for Splunk HEC/);
  });

  it('raises QuayRequestError for other refusals (unknown namespace ⇒ 400, unknown route ⇒ 404)', async () => {
    const unknown = client.fetchLogsPage({ namespace: 'nosuchorg', starttime: '06/17/2024', endtime: '06/17/2024' });
    await expect(unknown).rejects.toBeInstanceOf(QuayPermissionError); // alice does not administer it: 403 first, like Quay
    const readAll = fetchLogsPage({ baseUrl: sim.url, token: 'readall', namespace: 'nosuchorg', starttime: '06/17/2024', endtime: '06/17/2024' });
    await expect(readAll).rejects.toBeInstanceOf(QuayRequestError);
    await expect(readAll).rejects.toMatchObject({ status: 400, detail: 'Invalid namespace requested: nosuchorg' });
    const wrongBase = fetchLogsPage({ baseUrl: `${sim.url}/nested`, token: 'admintoken', namespace: 'acme', starttime: '06/17/2024', endtime: '06/17/2024' });
    await expect(wrongBase).rejects.toBeInstanceOf(QuayRequestError);
    await expect(wrongBase).rejects.toMatchObject({ status: 404 });
  });

  it('answers an empty window with an empty page and no next_page at once', async () => {
    const page = await client.fetchLogsPage({ namespace: 'acme', starttime: '06/17/2024', endtime: '06/17/2024' });
    expect(page.logs).toEqual([]);
    expect(page.next_page).toBeUndefined();
  });
});
