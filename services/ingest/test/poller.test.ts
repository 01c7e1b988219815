/**
 * The poller against the Quay simulator (real HTTP on loopback), a real Redis (database 5)
 * and the real embedded ClickHouse, with the real loader storing what the poller appends.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ClickHouseStore, getPollCheckpoint, listPollCheckpoints } from '@quaylogs/clickhouse';
import { quitRedis, redisForWorkers, type Redis } from '@quaylogs/queue';
import type { Job } from 'bullmq';
import { openTestStore, resetStore, testRedisUrl } from '@quaylogs/testing';
import { startQuaySim, type QuaySim, type SimEntry } from '@quaylogs/testing/quaySim';
import { startLoader, type Loader } from '../src/index.ts';
import { parseSourcesConfig, startPoller, type Poller, type PollSource } from '../src/poller/index.ts';

const REDIS_URL = testRedisUrl();
const NOW = new Date('2024-06-18T12:00:00Z');

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
let redis: Redis;
let sim: QuaySim;
let loader: Loader | undefined;
const pollers: Poller[] = [];
let clock = NOW;

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  redis = redisForWorkers(REDIS_URL);
  sim = await startQuaySim({
    now: () => clock,
    tokens: {
      'admin-token': { username: 'alice', admin: ['acme', 'beta'], superuser: true },
      'plain-token': { username: 'bob' },
    },
    accounts: [
      { name: 'acme', kind: 'org', email: null },
      { name: 'beta', kind: 'org', email: null },
    ],
  });
});

afterAll(async () => {
  await sim.close();
  await quitRedis(redis);
  await cleanup();
});

beforeEach(async () => {
  clock = NOW;
  await redis.flushdb();
  await resetStore(store);
  await store.command({ name: 'test.truncate', sql: 'TRUNCATE TABLE IF EXISTS poll_checkpoints' });
  sim.reset();
  loader = startLoader({ redis, store, consumer: 'poller-test', batchMs: 20 });
});

afterEach(async () => {
  while (pollers.length) await pollers.pop()!.close();
  await loader?.stop();
});

function source(overrides: Partial<PollSource> = {}): PollSource {
  return {
    name: 'quay1',
    url: sim.url,
    token: 'admin-token',
    namespaces: ['acme'],
    superuser: false,
    intervalMs: 3_600_000,
    start: new Date('2024-06-17T00:00:00Z'),
    ...overrides,
  };
}

type Outcome = { state: 'completed'; job: Job; result: unknown } | { state: 'failed'; job: Job; error: Error };

/** Starts a poller; resolves with it and the outcome of the first poll its schedule fires. */
async function runPoller(sources: PollSource[], extra: Partial<Parameters<typeof startPoller>[0]> = {}): Promise<{ poller: Poller; first: Outcome }> {
  const poller = await startPoller({ redis, store, sources, log: silent, now: () => clock, retry: { delayMs: 20 }, timeouts: { headersMs: 2_000 }, ...extra });
  pollers.push(poller);
  return { poller, first: await nextOutcome(poller) };
}

/** The next job to finish for good: completed, or failed with no retry left. */
function nextOutcome(poller: Poller, timeoutMs = 20_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no poll finished in time')), timeoutMs);
    const done = (o: Outcome) => {
      clearTimeout(timer);
      poller.worker.off('completed', onCompleted);
      poller.worker.off('failed', onFailed);
      resolve(o);
    };
    const onCompleted = (job: Job, result: unknown) => done({ state: 'completed', job, result });
    const onFailed = (job: Job | undefined, error: Error) => {
      if (job && job.finishedOn !== undefined) done({ state: 'failed', job, error });
    };
    poller.worker.on('completed', onCompleted);
    poller.worker.on('failed', onFailed);
  });
}

async function pollAgain(poller: Poller, name = 'quay1'): Promise<Outcome> {
  const outcome = nextOutcome(poller);
  await poller.pollNow(name);
  return outcome;
}

async function stored(): Promise<{ rows: number; keys: number }> {
  await loader!.drain();
  const [r] = await store.query<{ rows: string; keys: string }>({
    name: 'test.count',
    sql: 'SELECT count() AS rows, uniqExact(event_key) AS keys FROM usage_logs',
  });
  return { rows: Number(r!.rows), keys: Number(r!.keys) };
}

/** `n` distinct entries of `namespace`, one second apart from `from`. */
function entries(from: string, n: number, namespace = 'acme', tag = 't'): SimEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    namespace,
    kind: i % 3 === 0 ? 'push_repo' : 'pull_repo',
    performer: i % 4 === 0 ? `${namespace}+ci` : 'alice',
    ip: `10.0.0.${i % 250}`,
    datetime: new Date(Date.parse(from) + i * 1000),
    metadata: { repo: `app${i % 3}`, namespace, tag: `${tag}${i}` },
  }));
}

function dayRequests(day: string) {
  return sim.logsRequests().filter((r) => r.query.starttime === day);
}

describe('poller', () => {
  it('stores each entry once across two overlapping polls of the same day', async () => {
    sim.addEntries(entries('2024-06-17T08:00:00Z', 25));
    sim.addEntries(entries('2024-06-18T09:00:00Z', 30));
    const { poller, first } = await runPoller([source()]);
    expect(first.state).toBe('completed');
    expect(await stored()).toEqual({ rows: 55, keys: 55 });

    // Later that day: Quay has five more entries; the whole day is read again.
    sim.requests.length = 0;
    sim.addEntries(entries('2024-06-18T10:00:00Z', 5, 'acme', 'later'));
    clock = new Date('2024-06-18T13:00:00Z');
    expect((await pollAgain(poller)).state).toBe('completed');
    expect(await stored()).toEqual({ rows: 60, keys: 60 });
    // Only today was read again: yesterday is settled.
    expect(new Set(sim.logsRequests().map((r) => r.query.starttime))).toEqual(new Set(['06/18/2024']));

    const rows = await store.query<Record<string, string>>({
      name: 'test.row',
      sql: "SELECT namespace, repository, kind, performer, ip, toString(datetime) AS datetime, metadata FROM usage_logs WHERE toString(datetime) LIKE '2024-06-17 08:00:00%' ORDER BY datetime LIMIT 3",
    });
    expect(rows).toEqual([
      {
        namespace: 'acme',
        repository: 'app0',
        kind: 'push_repo',
        performer: 'acme+ci',
        ip: '10.0.0.0',
        datetime: '2024-06-17 08:00:00.000',
        metadata: JSON.stringify({ repo: 'app0', namespace: 'acme', tag: 't0' }),
      },
    ]);
  });

  it('keeps two real identical entries of the same second as two, even when a page boundary and a batch cut fall between them', async () => {
    const twin: SimEntry = { namespace: 'acme', kind: 'pull_repo', performer: 'alice', ip: '10.1.1.1', datetime: '2024-06-18T07:00:05Z', metadata: { repo: 'app', namespace: 'acme' } };
    // 19 newer entries put the twins at positions 20 and 21: one on each page.
    sim.addEntries(entries('2024-06-18T08:00:00Z', 19));
    sim.addEntries([{ ...twin, micros: 100 }, { ...twin, micros: 200 }]);
    sim.addEntries([{ ...twin, datetime: '2024-06-18T07:00:04Z' }]); // same content, another second
    const { poller, first } = await runPoller([source()], { batchRows: 1 });
    expect(first.state).toBe('completed');
    const page1 = dayRequests('06/18/2024')[0]!;
    expect(page1.logs).toBe(20);
    expect(await stored()).toEqual({ rows: 22, keys: 22 });

    // Read again (and a third twin arrives in that second): ordinals stay stable, one new row.
    sim.addEntries([{ ...twin, micros: 300 }]);
    expect((await pollAgain(poller)).state).toBe('completed');
    expect(await stored()).toEqual({ rows: 23, keys: 23 });
    const [twins] = await store.query<{ n: string }>({
      name: 'test.twins',
      sql: "SELECT count() AS n FROM usage_logs WHERE ip = '10.1.1.1' AND datetime = '2024-06-18 07:00:05'",
    });
    expect(Number(twins!.n)).toBe(3);
  });

  it("follows Quay's dangling next_page on the last page and stops at the empty page after it", async () => {
    sim.addEntries(entries('2024-06-16T05:00:00Z', 45));
    sim.addEntries(entries('2024-06-17T05:00:00Z', 20));
    const { first } = await runPoller([source({ start: new Date('2024-06-15T00:00:00Z') })]);
    expect(first.state).toBe('completed');
    // 06/15: empty window ⇒ one empty page without next_page.
    expect(dayRequests('06/15/2024').map((r) => [r.logs, r.nextPage])).toEqual([[0, false]]);
    // 06/16: 20, 20, 5 (still with next_page), then the empty page without one.
    expect(dayRequests('06/16/2024').map((r) => [r.logs, r.nextPage])).toEqual([[20, true], [20, true], [5, true], [0, false]]);
    // 06/17: exactly one page of 20 ⇒ dangling token, then the empty page.
    expect(dayRequests('06/17/2024').map((r) => [r.logs, r.nextPage])).toEqual([[20, true], [0, false]]);
    expect(dayRequests('06/16/2024').every((r) => r.query.endtime === '06/16/2024')).toBe(true);
    expect(await stored()).toEqual({ rows: 65, keys: 65 });
  });

  it('retries 5xx with backoff and stores everything once Quay recovers', async () => {
    sim.addEntries(entries('2024-06-18T01:00:00Z', 30));
    sim.inject({ kind: 'status', status: 500, times: 2 });
    const { first } = await runPoller([source()]);
    expect(first.state).toBe('completed');
    expect(first.job.attemptsMade).toBe(3); // two failed attempts, then the one that worked
    expect(sim.logsRequests().filter((r) => r.outcome === 'fault')).toHaveLength(2);
    expect(await stored()).toEqual({ rows: 30, keys: 30 });
  });

  it("waits at least Quay's Retry-After before retrying a 429", async () => {
    sim.addEntries(entries('2024-06-18T01:00:00Z', 3));
    sim.inject({ kind: 'status', status: 429, retryAfter: '1' });
    const started = Date.now();
    const { first } = await runPoller([source()]);
    expect(first.state).toBe('completed');
    const [fault, retry] = sim.logsRequests();
    expect(fault!.status).toBe(429);
    expect(retry!.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(await stored()).toEqual({ rows: 3, keys: 3 });
  });

  it('fails the job at once with a clear message on 403, without retrying', async () => {
    sim.addEntries(entries('2024-06-18T01:00:00Z', 3));
    const { first } = await runPoller([source({ token: 'plain-token' })]);
    expect(first.state).toBe('failed');
    if (first.state !== 'failed') return;
    expect(first.error.name).toBe('UnrecoverableError');
    expect(first.job.failedReason).toMatch(/source "quay1", namespace "acme": Quay refused the token .* \(HTTP 403: Unauthorized\)/);
    expect(first.job.failedReason).toMatch(/needs org:admin on "acme"/);
    expect(first.job.attemptsMade).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.logsRequests()).toHaveLength(1);
    expect((await getPollCheckpoint(store, 'quay1', 'acme'))?.lastError).toMatch(/HTTP 403/);
    expect(await stored()).toEqual({ rows: 0, keys: 0 });
  });

  it('surfaces search_unavailable as the job error (and on the checkpoint), without retrying', async () => {
    sim.searchUnavailable = true;
    const { first } = await runPoller([source()]);
    expect(first.state).toBe('failed');
    if (first.state !== 'failed') return;
    expect(first.job.failedReason).toMatch(/search_unavailable.*requires a search_token to be configured for Splunk HEC/);
    expect(first.job.attemptsMade).toBe(1);
    const cp = await getPollCheckpoint(store, 'quay1', 'acme');
    expect(cp?.lastError).toMatch(/search_unavailable/);
    expect(cp?.lastErrorAt).not.toBeNull();
  });

  it('advances the checkpoint per namespace and a restarted poller resumes from it', async () => {
    sim.addEntries(entries('2024-06-12T10:00:00Z', 4));
    sim.addEntries(entries('2024-06-15T10:00:00Z', 4, 'beta'));
    // A backfill from 06/10 that breaks on 06/14 for acme: days before it are kept.
    sim.inject({ kind: 'status', status: 503, times: 100, when: (r) => r.query.starttime === '06/14/2024' && r.path.includes('/acme/') });
    const src = source({ namespaces: ['acme', 'beta'], start: new Date('2024-06-10T00:00:00Z') });
    const { poller, first } = await runPoller([src], { retry: { attempts: 1, delayMs: 20 } });
    expect(first.state).toBe('failed');
    const afterFailure = await listPollCheckpoints(store, 'quay1');
    expect(afterFailure.map((c) => [c.namespace, c.nextDay, c.lastError !== ''])).toEqual([
      ['acme', '2024-06-14', true],
      ['beta', '2024-06-18', false], // the other namespace was still polled
    ]);
    await poller.close();
    pollers.length = 0;

    // Restart two days later, just after midnight: acme resumes at 06/14; beta re-reads from
    // 06/18; the day before (06/19) stays open for late entries.
    sim.reset();
    sim.addEntries(entries('2024-06-14T10:00:00Z', 2));
    sim.addEntries(entries('2024-06-19T23:00:00Z', 2, 'beta'));
    clock = new Date('2024-06-20T00:30:00Z');
    const restarted = await startPoller({ redis, store, sources: [src], log: silent, now: () => clock, retry: { delayMs: 20 } });
    pollers.push(restarted);
    expect((await pollAgain(restarted)).state).toBe('completed');
    const days = (ns: string) => [...new Set(sim.logsRequests().filter((r) => r.path.includes(`/${ns}/`)).map((r) => r.query.starttime))];
    expect(days('acme')).toEqual(['06/14/2024', '06/15/2024', '06/16/2024', '06/17/2024', '06/18/2024', '06/19/2024', '06/20/2024']);
    expect(days('beta')).toEqual(['06/18/2024', '06/19/2024', '06/20/2024']);
    const after = await listPollCheckpoints(store, 'quay1');
    expect(after.map((c) => [c.namespace, c.nextDay, c.lastError, c.lastPollAt])).toEqual([
      ['acme', '2024-06-19', '', '2024-06-20 00:30:00.000'],
      ['beta', '2024-06-19', '', '2024-06-20 00:30:00.000'],
    ]);
    expect(await stored()).toEqual({ rows: 12, keys: 12 });
  });

  it('reads a superuser source through /superuser/logs, keeping each entry\'s namespace', async () => {
    sim.addEntries(entries('2024-06-18T01:00:00Z', 3));
    sim.addEntries(entries('2024-06-18T02:00:00Z', 2, 'beta'));
    const { first } = await runPoller([source({ namespaces: [], superuser: true })]);
    expect(first.state).toBe('completed');
    expect(new Set(sim.logsRequests().map((r) => r.path))).toEqual(new Set(['/api/v1/superuser/logs']));
    await stored();
    const perNs = await store.query<{ namespace: string; n: string }>({
      name: 'test.perNs',
      sql: 'SELECT namespace, count() AS n FROM usage_logs GROUP BY namespace ORDER BY namespace',
    });
    expect(perNs.map((r) => [r.namespace, Number(r.n)])).toEqual([['acme', 3], ['beta', 2]]);
    expect((await getPollCheckpoint(store, 'quay1', ''))?.nextDay).toBe('2024-06-18');
    const accounts = await store.query<{ name: string; kind: string }>({ name: 'test.accounts', sql: "SELECT name, kind FROM accounts FINAL WHERE kind = 'org' ORDER BY name" });
    expect(accounts.map((a) => a.name)).toEqual(['acme', 'beta']);
  });

  it('keeps one scheduler per configured source, re-asserted at start, and removes those of dropped sources', async () => {
    const a = source({ name: 'a' });
    const b = source({ name: 'b', intervalMs: 600_000 });
    const { poller } = await runPoller([a, b]);
    const ids = async () => (await poller.queue.getJobSchedulers(0, -1)).map((s) => [s.id ?? s.key, s.every]).sort();
    expect(await ids()).toEqual([['poll:a', 3_600_000], ['poll:b', 600_000]]);
    await poller.close();
    pollers.length = 0;
    const again = await startPoller({ redis, store, sources: [{ ...b, intervalMs: 300_000 }], log: silent, now: () => clock });
    pollers.push(again);
    const now = (await again.queue.getJobSchedulers(0, -1)).map((s) => [s.id ?? s.key, s.every]);
    expect(now).toEqual([['poll:b', 300_000]]);
  });

  it('parses the sources file the poller is started with', () => {
    const [s] = parseSourcesConfig(`sources:\n  - name: quay1\n    url: ${sim.url}\n    token: admin-token\n    namespaces: [acme]\n    start: 06/17/2024\n`);
    expect(s).toEqual({ ...source(), intervalMs: 300_000 });
  });
});
