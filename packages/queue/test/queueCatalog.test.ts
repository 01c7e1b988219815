/**
 * The queue catalog's one choke point (`defineQueue`), against a real Redis and real BullMQ
 * workers: a queue's jobs carry the catalog's default options without the producer naming
 * them, a worker hands its handler the parsed payload, and a payload that does not parse
 * fails at its first attempt instead of being retried.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Job, Queue, Worker } from 'bullmq';
import type { ExportRequest } from '@quaylogs/core';
import { type CallbackDelivery, closeBullmq, exportRequestOf, exportSpecOf, exportSpecSchema, QUEUES, type Redis, redisForWorkers } from '../src/index.ts';

const redis: Redis = redisForWorkers(`${process.env.QUAYLOGS_TEST_REDIS ?? 'redis://127.0.0.1:6379'}/12`);
const open: (Queue | Worker)[] = [];
const warnings: { obj: object; msg: string }[] = [];
const log = { warn: (obj: object, msg: string) => void warnings.push({ obj, msg }), error: () => undefined };

beforeAll(async () => redis.flushdb());
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => closeBullmq(q, true)));
  await redis.flushdb();
  warnings.length = 0;
});
afterAll(() => redis.disconnect());

const EXPORT_ID = '0b7c6c0e-8a4e-4d8e-9a55-6a3f0c1d2e3f';
const callback: CallbackDelivery = {
  export_id: EXPORT_ID,
  url: 'https://hooks.example.com/quay',
  webhook_id: 'msg_1',
  body: '{"status":"success"}',
  reports: 'success',
};

/** Resolves with the first job the worker reports failed. */
function firstFailure(worker: Worker): Promise<{ job: Job; err: Error }> {
  return new Promise((resolve) => worker.once('failed', (job, err) => job && resolve({ job, err })));
}

it('a malformed delivery payload fails after one attempt, never reaching the handler', async () => {
  const queue = QUEUES.exportDeliveries.open(redis);
  open.push(queue);
  const handled: string[] = [];
  const worker = QUEUES.exportDeliveries.worker(
    redis,
    { callback: async (d) => void handled.push(d.export_id), email: async (d) => void handled.push(d.export_id) },
    { concurrency: 1, log },
  );
  open.push(worker);
  const failed = firstFailure(worker);
  // A producer outside the catalog (an older version, a hand-made job) wrote a bad payload.
  await queue.add(QUEUES.exportDeliveries.jobs.callback, { export_id: 'not-a-uuid', url: 42 }, { jobId: 'bad-callback' });

  const { job, err } = await failed;
  expect(err.name).toBe('UnrecoverableError');
  expect(err.message).toMatch(/invalid deliver-callback payload/);
  const stored = await queue.getJob('bad-callback');
  expect(await stored!.getState()).toBe('failed');
  expect(stored!.attemptsMade).toBe(1);
  // The catalog's 8 attempts were there; the payload error did not use them.
  expect(job.opts.attempts).toBe(8);
  expect(await queue.getJobCounts('delayed', 'wait', 'failed')).toEqual({ delayed: 0, wait: 0, failed: 1 });
  expect(handled).toEqual([]);
  expect(warnings.some((w) => w.msg === 'job failed' && (w.obj as { final?: boolean }).final === true)).toBe(true);
});

it('jobs get the catalog defaults merged with the open-time overrides, and handlers the parsed payload', async () => {
  const queue = QUEUES.exportDeliveries.open(redis, { attempts: 2 });
  open.push(queue);
  await QUEUES.exportDeliveries.add(queue, 'callback', callback, { jobId: `${EXPORT_ID}-callback` });
  const job = await queue.getJob(`${EXPORT_ID}-callback`);
  expect(job!.opts.attempts).toBe(2);
  expect(job!.opts.backoff).toEqual(QUEUES.exportDeliveries.options.backoff);
  expect(job!.opts.removeOnFail).toEqual(QUEUES.exportDeliveries.options.removeOnFail);

  const seen = new Promise<CallbackDelivery>((resolve) => {
    open.push(
      QUEUES.exportDeliveries.worker(
        redis,
        { callback: async (d) => resolve(d), email: async () => undefined },
        { concurrency: 1, log },
      ),
    );
  });
  expect(await seen).toEqual(callback);
});

it('a producer cannot add a payload its job schema refuses', async () => {
  const queue = QUEUES.exportDeliveries.open(redis);
  open.push(queue);
  await expect(QUEUES.exportDeliveries.add(queue, 'callback', { ...callback, export_id: 'nope' })).rejects.toThrow(/export_id must be a UUID/);
  expect(await queue.count()).toBe(0);
});

it('an export request crosses the generate queue unchanged, absent values included', () => {
  const full: ExportRequest = {
    export_id: EXPORT_ID,
    namespace: 'acme',
    repository: 'web',
    requested_by: 'alice',
    schedule_id: 'sched-1',
    window_start: new Date('2025-06-01T00:00:00Z'),
    window_end: new Date('2025-06-02T00:00:00Z'),
    kinds: ['pull_repo'],
    exclude_kinds: ['login_success'],
    performer: 'bob',
    format: 'csv',
    compress: 'gzip',
    callback_url: 'https://hooks.example.com/quay',
    callback_email: 'ops@example.com',
  };
  const bare: ExportRequest = { ...full, repository: '', schedule_id: '', kinds: [], exclude_kinds: [], performer: '', compress: '', callback_url: '', callback_email: '' };
  for (const r of [full, bare]) {
    const spec = exportSpecOf(r);
    expect(exportSpecSchema.parse(spec)).toEqual(spec);
    expect(exportRequestOf(spec)).toEqual(r);
  }
  expect(exportSpecOf(bare)).toMatchObject({ repository: null, performer: null, compress: null, callback_url: null, callback_email: null, schedule_id: null });
});
