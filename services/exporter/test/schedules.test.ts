/**
 * Scheduled exports: created through the API as BullMQ job schedulers, re-asserted
 * at start without duplicates, and exactly one export per period however often the
 * scheduler fires (twice at once, late, or for periods already done).
 */
import { Queue } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { insertUsageLogs } from '@quaylogs/clickhouse';
import { toChDateTime } from '@quaylogs/core';
import { QUEUES } from '@quaylogs/queue';
import { call, logRow, userWithToken } from '@quaylogs/testing';
import { type Receiver, always, startReceiver } from '@quaylogs/testing/deliveryServers';
import { periodEndingBy, scheduledExportId } from '../src/index.ts';
import { waitForExport } from './support/exportChecks.ts';
import { CALLBACK_SECRET, eventually, type Stack, startStack } from './support/stack.ts';

vi.setConfig({ testTimeout: 60_000 });

const DAY = 86_400_000;
let s: Stack;
let hook: Receiver;
let queue: Queue;

beforeAll(async () => {
  hook = await startReceiver(always(204));
  s = await startStack({ env: { QUAYLOGS_SSRF_ALLOWED_HOSTS: '127.0.0.1' } });
  queue = new Queue(QUEUES.exportlogs.name, { connection: s.producer });
});
afterAll(async () => {
  await queue?.close();
  await s?.close();
  await hook?.close();
});
beforeEach(async () => {
  await s.reset();
  hook.requests.length = 0;
});

/** Adds a fire of the schedule's job, as its scheduler would, for the given time. */
async function fire(scheduleId: string, at: Date, tag: string): Promise<void> {
  await queue.add(QUEUES.exportlogs.jobs.scheduled, { schedule_id: scheduleId, fire_at: at.getTime() }, { jobId: `fire-${tag}` });
}

async function scheduleExports(scheduleId: string): Promise<{ export_id: string; window_start: string }[]> {
  return s.store.query({
    name: 'test.scheduleExports',
    sql: `SELECT export_id, toString(window_start) AS window_start FROM exports FINAL WHERE schedule_id = {id:String} ORDER BY window_start`,
    params: { id: scheduleId },
  });
}

async function schedulers(): Promise<string[]> {
  return (await queue.getJobSchedulers(0, -1)).map((j) => j.key).filter((k) => k.startsWith('export-schedule-')).sort();
}

describe('scheduled exports', () => {
  it('fires once per daily period, even when the scheduler fires twice, late, or again', async () => {
    const today = new Date(Math.floor(Date.now() / DAY) * DAY);
    const tomorrow = new Date(today.getTime() + DAY);
    // entries today, tomorrow and the day after (the windows of three fires)
    await insertUsageLogs(s.store, [0, 1, 2, 3].flatMap((d) =>
      [1, 2].map((h) => logRow({ namespace: 'acme', kind: 'push_repo', datetime: toChDateTime(new Date(today.getTime() + d * DAY + h * 3600_000)) })),
    ));
    const created = await call(s.api, 'POST', '/api/v1/organization/acme/exportschedules', { body: { every: 'daily', callback_url: hook.url('/daily'), format: 'ndjson' } });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    expect(created.body).toMatchObject({ namespace: 'acme', every: 'daily', cron: '0 0 * * *', format: 'ndjson', last_period: null });
    expect(new Date(created.body.next_run).getTime()).toBe(tomorrow.getTime());
    expect(await schedulers()).toEqual([`export-schedule-${id}`]);

    // A restart re-asserts the scheduler under the same id: still one.
    await s.restartExporter();
    expect(await schedulers()).toEqual([`export-schedule-${id}`]);

    // The scheduler fires twice for tomorrow 00:00 (at once): one export of today.
    await Promise.all([fire(id, tomorrow, 'a'), fire(id, new Date(tomorrow.getTime() + 2_000), 'b')]);
    const firstId = scheduledExportId(id, today);
    const first = await waitForExport(s, firstId);
    expect(first).toMatchObject({ status: 'delivered', rows: 2, schedule_id: id, format: 'ndjson' });
    expect([first.start_time, first.end_time]).toEqual([today.toUTCString().replace('GMT', '-0000'), tomorrow.toUTCString().replace('GMT', '-0000')]);
    await eventually(async () => (await queue.getJobCounts('active', 'wait', 'delayed')).active === 0 || undefined);
    expect(await scheduleExports(id)).toHaveLength(1);

    // Fired again for the same period, later: nothing new.
    await fire(id, new Date(tomorrow.getTime() + 3600_000), 'c');
    await eventually(async () => (await queue.getJob('fire-c'))?.finishedOn !== undefined || undefined);
    expect(await scheduleExports(id)).toHaveLength(1);

    // Next day: the next period; two days after that (one fire missed): both missing periods.
    await fire(id, new Date(tomorrow.getTime() + DAY), 'd');
    await waitForExport(s, scheduledExportId(id, tomorrow));
    await fire(id, new Date(tomorrow.getTime() + 3 * DAY + 60_000), 'e');
    await waitForExport(s, scheduledExportId(id, new Date(tomorrow.getTime() + 2 * DAY)));
    const all = await scheduleExports(id);
    expect(all.map((e) => e.window_start.slice(0, 10))).toEqual([0, 1, 2, 3].map((d) => new Date(today.getTime() + d * DAY).toISOString().slice(0, 10)));

    // One signed callback per period.
    await hook.waitFor(4);
    const bodies = hook.requests.map((r) => new Webhook(CALLBACK_SECRET).verify(r.body, r.headers) as { export_id: string; start_time: string });
    expect(new Set(bodies.map((b) => b.export_id)).size).toBe(4);
    expect(hook.requests).toHaveLength(4);

    const list = await call(s.api, 'GET', '/api/v1/organization/acme/exportschedules');
    expect(list.body.schedules).toHaveLength(1);
    expect(list.body.schedules[0].last_period).toMatchObject({ export_id: scheduledExportId(id, new Date(tomorrow.getTime() + 2 * DAY)) });
  });

  it('computes weekly and cron periods in UTC', () => {
    const wednesday = new Date('2024-06-19T10:00:00Z');
    expect(periodEndingBy('0 0 * * 1', wednesday)).toEqual({ start: new Date('2024-06-10T00:00:00Z'), end: new Date('2024-06-17T00:00:00Z') });
    expect(periodEndingBy('0 0 * * *', new Date('2024-06-19T00:00:00Z'))).toEqual({ start: new Date('2024-06-18T00:00:00Z'), end: new Date('2024-06-19T00:00:00Z') });
    expect(periodEndingBy('0 */6 * * *', new Date('2024-06-19T13:05:00Z'))).toEqual({ start: new Date('2024-06-19T06:00:00Z'), end: new Date('2024-06-19T12:00:00Z') });
  });

  it('validates, checks permissions, lists and deletes', async () => {
    const alice = await userWithToken(s.api, 'alice', { organizations: ['acme'] });
    const bob = await userWithToken(s.api, 'bob');
    const post = (body: unknown, token = alice, org = 'acme') => call(s.api, 'POST', `/api/v1/organization/${org}/exportschedules`, { body, token });
    expect((await post({ every: 'daily', callback_url: hook.url() }, bob)).status).toBe(403);
    expect((await post({ callback_url: hook.url() })).body.error_message).toBe("give either 'every' (daily or weekly) or 'cron'");
    expect((await post({ every: 'hourly', callback_url: hook.url() })).body.error_message).toBe("every must be 'daily' or 'weekly'");
    expect((await post({ cron: 'every day', callback_url: hook.url() })).status).toBe(400);
    expect((await post({ cron: '61 * * * *', callback_url: hook.url() })).body.error_message).toMatch(/^invalid cron pattern/);
    expect((await post({ every: 'daily' })).body.error_message).toBe('a schedule needs callback_url or callback_email');
    expect((await post({ every: 'daily', callback_url: 'http://10.0.0.1/x' })).body.error_message).toMatch(/^Invalid callback URL \(.*QUAYLOGS_SSRF_ALLOWED_HOSTS\)$/);

    const weekly = await post({ cron: '30 6 * * 1', callback_url: hook.url(), kind: ['push_repo'] });
    expect(weekly.status).toBe(201);
    expect(weekly.body).toMatchObject({ every: 'cron', cron: '30 6 * * 1', filters: { kind: ['push_repo'], performer: null } });
    const su = await call(s.api, 'POST', '/api/v1/superuser/exportschedules', { body: { namespace: 'other', every: 'weekly', callback_url: hook.url() } });
    expect(su.status).toBe(201);
    expect((await call(s.api, 'POST', '/api/v1/superuser/exportschedules', { body: { namespace: 'other', every: 'weekly', callback_url: hook.url() }, token: alice })).status).toBe(403);

    expect((await call(s.api, 'GET', '/api/v1/organization/acme/exportschedules', { token: alice })).body.schedules.map((x: any) => x.id)).toEqual([weekly.body.id]);
    expect((await call(s.api, 'GET', '/api/v1/superuser/exportschedules')).body.schedules).toHaveLength(2);
    expect(await schedulers()).toHaveLength(2);

    // an organization admin cannot delete another namespace's schedule through their organization
    expect((await call(s.api, 'DELETE', `/api/v1/organization/acme/exportschedules/${su.body.id}`, { token: alice })).status).toBe(404);
    expect((await call(s.api, 'DELETE', `/api/v1/organization/acme/exportschedules/${weekly.body.id}`, { token: alice })).status).toBe(204);
    expect(await schedulers()).toEqual([`export-schedule-${su.body.id}`]);
    // a fire that was already queued for a deleted schedule does nothing
    await fire(weekly.body.id, new Date(Date.now() + 7 * DAY), 'late');
    await eventually(async () => (await queue.getJob('fire-late'))?.finishedOn !== undefined || undefined);
    expect(await scheduleExports(weekly.body.id)).toHaveLength(0);
    expect((await call(s.api, 'DELETE', `/api/v1/superuser/exportschedules/${su.body.id}`)).status).toBe(204);
    expect(await schedulers()).toEqual([]);
  });
});
