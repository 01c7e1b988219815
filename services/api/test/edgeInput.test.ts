/**
 * Text and bounds at the edge: what no store can keep (lone surrogates, bytes that
 * are not UTF-8), nesting no route reads, dates past the store's range, empty path
 * segments and e-mail "addresses" that are lists or carry headers are refused with a
 * 4xx naming the field — on the HEC receiver in Splunk's format with the event
 * number — and nothing is written or acknowledged.
 */
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ingestBacklog, quitRedis, type Redis, redisForProducers } from '@quaylogs/queue';
import { exportsPlugin, hecPlugin, parseHecTokens } from '../src/index.ts';
import { type ApiFixture, call, startApi } from './fixtures.ts';
import { testRedisUrl } from '@quaylogs/testing';

const REDIS_URL = testRedisUrl();
const HEC_TOKEN = '0d6a3c1e-5b7f-4a2e-9c11-3e5f7a9b1c2d';

let f: ApiFixture;
let redis: Redis;
beforeAll(async () => {
  redis = redisForProducers(REDIS_URL);
  f = await startApi(
    { QUAYLOGS_SMTP_URL: 'smtp://127.0.0.1:1' },
    { plugins: [exportsPlugin({ redis }), hecPlugin({ redis, tokens: parseHecTokens(`quay=${HEC_TOKEN}`), maxBodyBytes: 2 * 1024 * 1024 })] },
  );
});
afterAll(async () => {
  await f?.close();
  await quitRedis(redis);
});
beforeEach(async () => {
  await redis.flushdb();
  await f.reset();
});

/** Row counts of every table a refused request could write to. */
async function written(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of ['usage_logs', 'app_tokens', 'exports', 'users']) {
    const [r] = await f.store.query<{ n: string }>({ name: 't', sql: `SELECT count() AS n FROM ${t}` });
    out[t] = r!.n;
  }
  out.stream = String(await ingestBacklog(redis));
  return out;
}

/** A raw JSON body with a lone surrogate escape (JSON.stringify would write it the same way). */
const LONE = '"\\ud800"';

function raw(path: string, headers: Record<string, string>, body?: string | Buffer): Promise<{ status: number; body: any }> {
  const { port } = new URL(f.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: Number(port), method: body === undefined ? 'GET' : 'POST', path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const admin = { authorization: 'Bearer test-bootstrap-token-0123456789', 'content-type': 'application/json' };

describe('text that is not valid Unicode', () => {
  it('a lone surrogate in a JSON body is a 400 naming the field on every route the red team hit; nothing is written', async () => {
    const before = await written();
    const cases: [string, string][] = [
      ['/api/v1/user/apptoken', `{"title":${LONE}}`],
      ['/api/v1/superuser/users/admin/apptoken', `{"title":${LONE}}`],
      ['/api/v1/user/exportlogs', `{"performer":${LONE}}`],
      ['/api/v1/user/exportlogs', `{"callback_email":${LONE}}`],
      ['/api/v1/user/exportlogs', `{"callback_email":"a@b.example", "kind":["pull_repo",${LONE}]}`],
      ['/api/v1/superuser/users', `{"username":"x","email":"x@example.com",${LONE}:1}`],
    ];
    for (const [path, body] of cases) {
      const res = await raw(path, admin, body);
      expect([path, body, res.status]).toEqual([path, body, 400]);
      expect(res.body).toMatchObject({ error_type: 'invalid_request', status: 400 });
      expect(res.body.detail).toMatch(/body field .* is not valid Unicode/);
    }
    expect(await written()).toEqual(before);
  });

  it('query strings and headers that are not UTF-8 are a 400', async () => {
    const q = await raw('/api/v1/superuser/logs?performer=%ED%A0%80', admin);
    expect([q.status, q.body.detail]).toEqual([400, 'the query string is not valid UTF-8']);
    const latin = await raw('/api/v1/superuser/logs?performer=%FF%FE', admin);
    expect(latin.status).toBe(400);
    const ok = await raw('/api/v1/superuser/logs?performer=%C3%BC', admin);
    expect(ok.status).toBe(200);
    const header = await raw('/api/v1/superuser/logs', { ...admin, 'x-note': Buffer.from([0xed, 0xa0, 0x80]).toString('latin1') });
    expect([header.status, header.body.detail]).toEqual([400, 'header x-note is not valid UTF-8']);
  });

  it('HEC: an event with a lone surrogate is "Invalid data format" with its number, and nothing is acknowledged', async () => {
    const hec = { authorization: `Splunk ${HEC_TOKEN}`, 'content-type': 'application/json' };
    const one = await raw('/services/collector/event', hec, `{"event":{"kind":"pull_repo","performer":${LONE}}}`);
    expect(one).toEqual({ status: 400, body: { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 } });
    const second = await raw(
      '/services/collector/event',
      hec,
      `{"event":{"kind":"pull_repo","performer":"ok"}}\n{"event":{"kind":"pull_repo","metadata_json":{"tag":${LONE}}}}`,
    );
    expect(second).toEqual({ status: 400, body: { text: 'Invalid data format', code: 6, 'invalid-event-number': 1 } });
    expect(await ingestBacklog(redis)).toBe(0);
    const good = await raw('/services/collector/event', hec, '{"event":{"kind":"pull_repo","performer":"\\ud83d\\ude00"}}');
    expect(good.body).toEqual({ text: 'Success', code: 0 });
  });
});

describe('bytes that are not UTF-8', () => {
  // "performer": "<0xff 0xfe>" — raw bytes, not an escape: Node's decoder would make them U+FFFD.
  const badJson = Buffer.concat([Buffer.from('{"title":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);

  it('a JSON body with bytes that are not UTF-8 is a 400, never stored as U+FFFD', async () => {
    const before = await written();
    const res = await raw('/api/v1/user/apptoken', admin, badJson);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_type: 'invalid_request', detail: 'the JSON body is not valid UTF-8' });
    expect(await written()).toEqual(before);
  });

  it('HEC: a body with bytes that are not UTF-8 (plain or gzip) is "Invalid data format", and nothing is acknowledged', async () => {
    const hec = { authorization: `Splunk ${HEC_TOKEN}`, 'content-type': 'application/json' };
    const body = Buffer.concat([Buffer.from('{"event":{"kind":"pull_repo","performer":"a'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}')]);
    expect(await raw('/services/collector/event', hec, body)).toEqual({ status: 400, body: { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 } });
    const zipped = await raw('/services/collector/event', { ...hec, 'content-encoding': 'gzip' }, gzipSync(body));
    expect(zipped.body).toEqual({ text: 'Invalid data format', code: 6, 'invalid-event-number': 0 });
    expect(await ingestBacklog(redis)).toBe(0);
  });
});

describe('bounds', () => {
  it('HEC metadata nested 20,000 deep (object or text) is "Invalid data format", not "server busy"', async () => {
    const hec = { authorization: `Splunk ${HEC_TOKEN}`, 'content-type': 'application/json' };
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    const obj = await raw('/services/collector/event', hec, `{"event":{"kind":"pull_repo","metadata_json":${deep}}}`);
    expect(obj).toEqual({ status: 400, body: { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 } });
    const text = await raw('/services/collector/event', hec, `{"event":{"kind":"pull_repo","metadata_json":${JSON.stringify(deep)}}}`);
    expect(text).toEqual({ status: 400, body: { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 } });
    expect(await ingestBacklog(redis)).toBe(0);
  });

  it('a JSON body nested 20,000 deep is a 400, not a 5xx', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const res = await raw('/api/v1/user/apptoken', admin, `{"title":"t","x":${deep}}`);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/nested deeper than/);
  });

  it('exportlogs with a window end past the store range is a 400 naming endtime; no export row, no audit row', async () => {
    const before = await written();
    const res = await call(f, 'POST', '/api/v1/user/exportlogs?starttime=01/01/2024&endtime=12/31/9999', { body: { callback_email: 'a@b.example' } });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/^endtime is outside the dates the store holds/);
    const early = await call(f, 'POST', '/api/v1/user/exportlogs?starttime=01/01/0001', { body: { callback_email: 'a@b.example' } });
    expect([early.status, early.body.detail]).toEqual([400, expect.stringMatching(/^starttime/)]);
    expect(await written()).toEqual(before);
  });

  it('an empty path segment (/organization//exportlogs) is a 400 naming the parameter; no export row', async () => {
    const before = await written();
    const res = await call(f, 'POST', '/api/v1/organization//exportlogs', { body: { callback_email: 'a@b.example' } });
    expect([res.status, res.body.detail]).toEqual([400, 'path parameter orgname is empty']);
    const repo = await call(f, 'POST', '/api/v1/repository/acme//exportlogs', { body: { callback_email: 'a@b.example' } });
    expect(repo.status).toBe(400);
    expect(await written()).toEqual(before);
  });

  it('over-long export fields are a 400 naming the field', async () => {
    const res = await call(f, 'POST', '/api/v1/user/exportlogs', { body: { callback_email: 'a@b.example', performer: 'p'.repeat(5000) } });
    expect([res.status, res.body.detail]).toEqual([400, 'performer is longer than 2048 characters']);
  });
});

describe('callback_email', () => {
  it('anything but exactly one mailbox is refused: header injection, lists, groups', async () => {
    const before = await written();
    for (const email of ['a@b.c\r\nBcc: x@y.z', 'a@b.c\nBcc: x@y.z', 'a@b.c, x@y.z', 'a@b.c; x@y.z', 'team: a@b.c, x@y.z;', 'a@b', 'not an address', 'a@[127.0.0.1]']) {
      const res = await call(f, 'POST', '/api/v1/user/exportlogs', { body: { callback_email: email } });
      expect([email, res.status, res.body.detail]).toEqual([email, 400, 'Invalid callback e-mail']);
    }
    // Quay writes an export_logs_failure audit entry for an invalid request; nothing else changes.
    const after = await written();
    expect({ ...after, usage_logs: before.usage_logs }).toEqual(before);
    for (const email of ['alice@example.com', 'Alice Example <alice@example.com>']) {
      const res = await call(f, 'POST', '/api/v1/user/exportlogs', { body: { callback_email: email } });
      expect([email, res.status]).toEqual([email, 200]);
    }
  });
});
