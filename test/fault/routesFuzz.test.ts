/**
 * Property-based fuzzing of every route the API declares (the discovery registry) and
 * of the HEC body: random path segments, query strings, headers and JSON bodies — with
 * lone surrogates, bytes that are not UTF-8, deep nesting, huge and empty values.
 * Properties: no response is a 5xx; a refused request (4xx) changes nothing; the
 * process answers /healthz, /readyz and /logs afterwards. Deterministic seeds.
 */
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN, count, type FaultApi, HEC_TOKEN, jsonText, nastyJson, nastyText, report, SEED, snapshot, startFaultApi, tally, urlPiece } from './support.ts';

let api: FaultApi;
beforeAll(async () => {
  api = await startFaultApi();
});
afterAll(async () => api?.close());

interface Raw {
  status: number;
  text: string;
}

function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  const { port } = new URL(api.f.url);
  return new Promise((resolve, reject) => {
    const h: Record<string, string | number> = { ...headers };
    if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
    const req = request({ host: '127.0.0.1', port: Number(port), method, path, headers: h }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const BODY_KEYS = ['title', 'callback_url', 'callback_email', 'starttime', 'endtime', 'format', 'compress', 'kind', 'performer', 'repository', 'query', 'username', 'email', 'superuser', 'organizations', 'repositories', 'schedule', 'name', 'enabled'];
const QUERY_KEYS = ['starttime', 'endtime', 'performer', 'kind', 'repository', 'next_page', 'page', 'group_by', 'internal', 'limit'];

/** A request against one declared route, every part drawn at random. */
function routeRequest(routes: { method: string; url: string }[]) {
  return fc.record({
    route: fc.constantFrom(...routes),
    segments: fc.array(urlPiece, { minLength: 4, maxLength: 4 }),
    query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), urlPiece), urlPiece), { maxLength: 4 }),
    body: fc.oneof(
      { weight: 4, arbitrary: fc.dictionary(fc.oneof(fc.constantFrom(...BODY_KEYS), nastyText), nastyJson, { maxKeys: 5 }) },
      { weight: 1, arbitrary: nastyJson },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    auth: fc.constantFrom('admin', 'admin', 'admin', 'none', 'garbage'),
    contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/json; charset=latin1'),
    // Any byte a header may carry (no control characters): high bytes make text that is not UTF-8.
    header: fc.option(fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => Buffer.from(b.map((x) => (x < 0x20 || x === 0x7f ? x | 0x80 : x))).toString('latin1'))),
  });
}

it('every declared route: random params, queries, headers and bodies give no 5xx, and a refusal changes nothing', async () => {
  const routes = api.f.ctx.registry.routes.map((r) => ({ method: r.method, url: r.url }));
  expect(routes.length).toBeGreaterThan(15);
  const t = tally();
  const offenders: string[] = [];
  await fc.assert(
    fc.asyncProperty(routeRequest(routes), async (r) => {
      t.cases++;
      let i = 0;
      const path = r.route.url.replace(/:[A-Za-z_]+/g, () => r.segments[i++ % r.segments.length]!);
      const qs = r.query.map(([k, v]) => `${k}=${v}`).join('&');
      const headers: Record<string, string> = { 'content-type': r.contentType };
      if (r.auth === 'admin') headers.authorization = `Bearer ${ADMIN}`;
      if (r.auth === 'garbage') headers.authorization = 'Bearer \u00ff\u00fe';
      if (r.header !== null) headers['x-fuzz'] = r.header;
      const body = r.body === undefined || r.route.method === 'GET' ? undefined : jsonText(r.body);
      const before = await snapshot(api);
      const res = await send(r.route.method, qs ? `${path}?${qs}` : path, headers, body).catch((err: Error) => ({ status: 599, text: `request failed: ${err.message}` }));
      count(t, res.status);
      if (res.status >= 500) offenders.push(`${res.status} ${r.route.method} ${path}?${qs} ${body?.slice(0, 200)}: ${res.text.slice(0, 200)}`);
      if (res.status >= 400 && res.status < 500) {
        const after = await snapshot(api);
        if (after !== before) offenders.push(`refused ${res.status} but changed state: ${r.route.method} ${path} ${body?.slice(0, 200)}\n  ${before}\n  ${after}`);
      }
      return offenders.length === 0;
    }),
    { seed: SEED, numRuns: 400, endOnFailure: true },
  ).catch((err: unknown) => offenders.push(`property failed: ${String(err).slice(0, 2000)}`));
  report('routes', t);
  expect(offenders).toEqual([]);
  // Healthy after.
  expect((await send('GET', '/healthz', {})).status).toBe(200);
  expect((await send('GET', '/readyz', {})).status).toBe(200);
  expect((await send('GET', '/api/v1/superuser/logs', { authorization: `Bearer ${ADMIN}` })).status).toBe(200);
}, 300_000);

it('the HEC body: random events and envelopes give no 5xx; a refused body puts nothing in the stream', async () => {
  const t = tally();
  const offenders: string[] = [];
  const event = fc.record(
    {
      kind: fc.oneof(fc.constant('pull_repo'), nastyText),
      account: nastyText,
      repository: nastyText,
      performer: nastyText,
      ip: nastyText,
      datetime: fc.oneof(fc.integer(), fc.double(), nastyText),
      metadata_json: fc.oneof(nastyJson, nastyJson.map(jsonText)),
    },
    { requiredKeys: [] },
  );
  const envelope = fc.oneof(
    { weight: 5, arbitrary: fc.record({ event, time: fc.option(fc.oneof(fc.integer(), nastyText)), host: nastyText }, { requiredKeys: ['event'] }) },
    { weight: 1, arbitrary: nastyJson },
  );
  const body = fc.oneof(
    fc.array(envelope, { minLength: 1, maxLength: 4 }).map((es) => es.map(jsonText).join('\n')),
    nastyText,
  );
  await fc.assert(
    fc.asyncProperty(body, async (text) => {
      t.cases++;
      const before = await snapshot(api);
      const res = await send('POST', '/services/collector/event', { authorization: `Splunk ${HEC_TOKEN}`, 'content-type': 'application/json' }, text).catch(
        (err: Error) => ({ status: 599, text: `request failed: ${err.message}` }),
      );
      count(t, res.status);
      if (res.status >= 500) offenders.push(`${res.status} ${text.slice(0, 300)}: ${res.text}`);
      if (res.status >= 400 && res.status < 500 && (await snapshot(api)) !== before) offenders.push(`refused ${res.status} but changed state: ${text.slice(0, 300)}`);
      return offenders.length === 0;
    }),
    { seed: SEED, numRuns: 300, endOnFailure: true },
  ).catch((err: unknown) => offenders.push(`property failed: ${String(err).slice(0, 2000)}`));
  report('hec', t);
  expect(offenders).toEqual([]);
  // A well-formed event is still taken after all of that.
  const ok = await send('POST', '/services/collector/event', { authorization: `Splunk ${HEC_TOKEN}`, 'content-type': 'application/json' }, '{"event":{"kind":"pull_repo","performer":"alice"}}');
  expect(ok.text).toBe('{"text":"Success","code":0}');
  expect((await send('GET', '/services/collector/health', {})).status).toBe(200);
}, 300_000);
