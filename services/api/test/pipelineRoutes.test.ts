/**
 * Dead letters over HTTP (the console's Pipeline page): superusers list them with reason
 * and payload and replay them into the ingest stream; everyone else gets Quay's 401/403
 * and changes nothing; malformed replay requests are 400. Real Redis, real HTTP.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEADLETTER_STREAM, ingestBacklog, INGEST_STREAM, quitRedis, type Redis, redisForProducers } from '@quaylogs/queue';
import { countDeadLetters, listDeadLetters, replayDeadLetters } from '@quaylogs/ingest';
import { pipelinePlugin } from '../src/index.ts';
import { type ApiFixture, call, requiresAuthentication, startApi, unauthorized, userWithToken } from './fixtures.ts';
import { testRedisUrl } from '@quaylogs/testing';

const REDIS_URL = testRedisUrl();

describe('dead-letter routes', () => {
  let f: ApiFixture;
  let redis: Redis;
  let bob: string;
  beforeAll(async () => {
    redis = redisForProducers(REDIS_URL);
    f = await startApi({}, {
      plugins: [
        pipelinePlugin({
          listDeadLetters: (o) => listDeadLetters(redis, o),
          countDeadLetters: () => countDeadLetters(redis),
          replayDeadLetters: (o) => replayDeadLetters(redis, o),
        }),
      ],
    });
    bob = await userWithToken(f, 'bob', { organizations: ['acme'] });
  });
  beforeEach(async () => {
    await redis.flushdb();
  });
  afterAll(async () => {
    await redis.flushdb();
    await quitRedis(redis);
    await f.close();
  });

  const deadLetter = (payload: string, reason: string) =>
    redis.xadd(DEADLETTER_STREAM, '*', 'original_id', '1-1', 'reason', reason, 'consumer', 'loader-1', 'at', '2026-12-03T08:00:00.000Z', 'b', payload);

  it('lists dead letters with reason and payload, then replays the chosen one into the ingest stream', async () => {
    const a = await deadLetter('{"v":1,"bad":true}', 'unparseable batch');
    await deadLetter('{"v":1,"other":true}', 'ClickHouse refused it');
    const list = await call(f, 'GET', '/api/v1/superuser/deadletters');
    expect(list.body.total).toBe(2);
    expect(list.body.dead_letters[0]).toEqual({
      id: a, original_id: '1-1', reason: 'unparseable batch', consumer: 'loader-1', at: '2026-12-03T08:00:00.000Z', payload: '{"v":1,"bad":true}', payload_bytes: 18,
    });
    const replay = await call(f, 'POST', '/api/v1/superuser/deadletters/replay', { body: { ids: [a] } });
    expect(replay.body).toEqual({ replayed: 1, missing: [] });
    const stream = (await redis.xrange(INGEST_STREAM, '-', '+')) as [string, string[]][];
    expect(stream.map(([, fields]) => fields)).toEqual([['b', '{"v":1,"bad":true}']]);
    expect((await call(f, 'GET', '/api/v1/superuser/deadletters')).body.total).toBe(1);
    expect((await call(f, 'POST', '/api/v1/superuser/deadletters/replay', { body: { all: true } })).body).toEqual({ replayed: 1, missing: [] });
    expect(await redis.xlen(DEADLETTER_STREAM)).toBe(0);
  });

  it('refuses non-superusers (403) and anonymous callers (401), and bad bodies (400), replaying nothing', async () => {
    await deadLetter('{"v":1}', 'x');
    expect((await call(f, 'GET', '/api/v1/superuser/deadletters', { token: bob })).body).toEqual(unauthorized(f));
    expect((await call(f, 'POST', '/api/v1/superuser/deadletters/replay', { token: bob, body: { all: true } })).body).toEqual(unauthorized(f));
    expect((await call(f, 'POST', '/api/v1/superuser/deadletters/replay', { token: null, body: { all: true } })).body).toEqual(requiresAuthentication(f));
    for (const body of [{}, { all: false }, { ids: [] }, { ids: ['not-an-id'] }, { ids: ['1-1'], all: true }, { ids: '1-1' }]) {
      const res = await call(f, 'POST', '/api/v1/superuser/deadletters/replay', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await call(f, 'GET', '/api/v1/superuser/deadletters?limit=0')).status).toBe(400);
    expect(await redis.xlen(DEADLETTER_STREAM)).toBe(1);
    expect(await ingestBacklog(redis)).toBe(0);
  });
});
