/**
 * GET /api/v1/discovery and GET /api/v1/error/{type} served over
 * HTTP, and Quay's not_found body for routes that do not exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiFixture, call, startApi, notFoundBody } from './fixtures.ts';

/** Quay's error types, their descriptions (endpoints/exception.py ERROR_DESCRIPTION). */
const QUAY_ERRORS: Record<string, string> = {
  external_service_timeout: 'An external service timed out. Retrying the request may resolve the issue.',
  invalid_request: 'The request was invalid. It may have contained invalid values or was improperly formatted.',
  invalid_response: 'The response was invalid.',
  invalid_token: 'The access token provided was invalid.',
  expired_token: 'The access token provided has expired.',
  insufficient_scope: 'The access token did not have sufficient scope to access the requested resource.',
  fresh_login_required: 'The action requires a fresh login to succeed.',
  exceeds_license: 'The action was refused because the current license does not allow it.',
  not_found: 'The resource was not found.',
  downstream_issue: 'An error occurred in a downstream service.',
  tag_immutable: 'The tag is immutable and cannot be modified or deleted.',
  token_rotation_failed: 'Token rotation failed.',
};

/** Every logs route, as discovery names it, with its operation id and advertised scope. */
const LOG_OPERATIONS: [path: string, operationId: string, scope: string][] = [
  ['/api/v1/user/logs', 'listUserLogs', 'user:admin'],
  ['/api/v1/user/aggregatelogs', 'getAggregateUserLogs', 'user:admin'],
  ['/api/v1/organization/{orgname}/logs', 'listOrgLogs', 'org:admin'],
  ['/api/v1/organization/{orgname}/aggregatelogs', 'getAggregateOrgLogs', 'org:admin'],
  ['/api/v1/repository/{repository}/logs', 'listRepoLogs', 'repo:admin'],
  ['/api/v1/repository/{repository}/aggregatelogs', 'getAggregateRepoLogs', 'repo:admin'],
  ['/api/v1/superuser/logs', 'listAllLogs', 'super:user'],
];

function operationIds(doc: any): string[] {
  return Object.values(doc.paths as Record<string, any>).flatMap((p) =>
    ['get', 'post', 'put', 'delete'].filter((m) => m in p).map((m) => p[m].operationId as string),
  );
}

describe('discovery and error descriptions', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await startApi();
  });
  afterAll(async () => f.close());

  it('GET /api/v1/discovery answers anonymously with a Swagger 2.0 document for this server', async () => {
    const res = await call(f, 'GET', '/api/v1/discovery', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = res.body;
    expect(doc.swagger).toBe('2.0');
    expect(doc.host).toBe(new URL(f.url).host);
    expect(doc.basePath).toBe('/');
    expect(doc.schemes).toEqual(['http']);
    expect(doc.info.version).toBe('v1');
    expect(doc.securityDefinitions.oauth2_implicit).toMatchObject({
      type: 'oauth2',
      flow: 'implicit',
      authorizationUrl: `${f.url}/oauth/authorize`,
    });
    expect(doc.definitions.ApiError).toBeDefined();
    // No Fastify-style path slipped through.
    for (const path of Object.keys(doc.paths)) {
      expect(path).toMatch(/^\/api\/v1\//);
      expect(path).not.toContain(':');
    }
    // Operation ids are unique.
    const ids = operationIds(doc);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents every logs route under Quay’s path, operation id and scope, with path parameters', async () => {
    const doc = (await call(f, 'GET', '/api/v1/discovery', { token: null })).body;
    for (const [path, operationId, scope] of LOG_OPERATIONS) {
      const p = doc.paths[path];
      expect(p, path).toBeDefined();
      expect(p['x-path']).toBe(path);
      expect(p.get.operationId).toBe(operationId);
      expect(p.get.security).toEqual([{ oauth2_implicit: [scope] }]);
      expect(p.get.responses['200']).toBeDefined();
      for (const code of ['400', '401', '403', '404']) expect(p.get.responses[code].schema).toEqual({ $ref: '#/definitions/ApiError' });
      const query = p.get.parameters.filter((x: any) => x.in === 'query').map((x: any) => x.name);
      expect(query).toEqual(expect.arrayContaining(['starttime', 'endtime']));
      if (path.endsWith('/logs')) expect(query).toContain('next_page');
    }
    expect(doc.paths['/api/v1/repository/{repository}/logs'].parameters).toEqual([
      { name: 'repository', in: 'path', required: true, description: 'The full path of the repository. e.g. namespace/name', type: 'string' },
    ]);
    expect(doc.paths['/api/v1/organization/{orgname}/logs'].parameters[0]).toMatchObject({ name: 'orgname', in: 'path', required: true });
  });

  it('documents the app-token routes (list, create, get, revoke)', async () => {
    const doc = (await call(f, 'GET', '/api/v1/discovery', { token: null })).body;
    const list = doc.paths['/api/v1/user/apptoken'];
    expect(list.get.operationId).toBe('listAppTokens');
    expect(list.post.operationId).toBe('createAppToken');
    expect(list.post.parameters).toContainEqual(expect.objectContaining({ in: 'body', schema: { $ref: '#/definitions/NewToken' } }));
    expect(doc.definitions.NewToken.required).toEqual(['title']);
    const one = doc.paths['/api/v1/user/apptoken/{token_uuid}'];
    expect(one.get.operationId).toBe('getAppToken');
    expect(one.delete.operationId).toBe('revokeAppToken');
    expect(one.delete.responses['204']).toBeDefined();
    expect(doc.paths['/api/v1/discovery'].get.operationId).toBe('discovery');
    expect(doc.paths['/api/v1/error/{error_type}'].get.operationId).toBe('getErrorDescription');
  });

  it('hides /api/v1/superuser/aggregatelogs unless ?internal=true (Quay’s truthy values), then shows it', async () => {
    for (const q of ['', '?internal=false', '?internal=0', '?internal=']) {
      const doc = (await call(f, 'GET', `/api/v1/discovery${q}`, { token: null })).body;
      expect([q, doc.paths['/api/v1/superuser/aggregatelogs']]).toEqual([q, undefined]);
      expect(operationIds(doc)).not.toContain('listAllAggregateLogs');
    }
    for (const q of ['?internal=true', '?internal=True', '?internal=1']) {
      const res = await call(f, 'GET', `/api/v1/discovery${q}`, { token: null });
      expect(res.status).toBe(200);
      const p = res.body.paths['/api/v1/superuser/aggregatelogs'];
      expect([q, p?.get?.operationId]).toEqual([q, 'listAllAggregateLogs']);
      expect(p.get.security).toEqual([{ oauth2_implicit: ['super:user'] }]);
      // the internal document is a superset of the public one
      const pub = (await call(f, 'GET', '/api/v1/discovery', { token: null })).body;
      expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(Object.keys(pub.paths)));
    }
  });

  it("GET /api/v1/error/not_found answers Quay's description of the type", async () => {
    const res = await call(f, 'GET', '/api/v1/error/not_found', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ type: `${f.url}/api/v1/error/not_found`, title: 'not_found', description: 'The resource was not found.' });
    expect(Object.keys(res.body)).toEqual(['type', 'title', 'description']);
  });

  it('every Quay error type answers 200 with its own description, with or without a token', async () => {
    for (const [type, description] of Object.entries(QUAY_ERRORS)) {
      for (const token of [null, undefined]) {
        const res = await call(f, 'GET', `/api/v1/error/${type}`, { token });
        expect([type, res.status]).toEqual([type, 200]);
        expect(res.body).toEqual({ type: `${f.url}/api/v1/error/${type}`, title: type, description });
      }
    }
  });

  it('the `type` URL of every error body resolves to that error’s description', async () => {
    const unauth = await call(f, 'GET', '/api/v1/superuser/logs', { token: null });
    expect(unauth.status).toBe(401);
    const described = await fetch(unauth.body.type);
    expect(described.status).toBe(200);
    expect(await described.json()).toEqual({ type: unauth.body.type, title: 'invalid_token', description: QUAY_ERRORS.invalid_token });
  });

  it('an unknown error type is 404 with the not_found body (also names that exist on every JS object)', async () => {
    for (const type of ['no_such_error', 'NOT_FOUND', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '%20']) {
      const res = await call(f, 'GET', `/api/v1/error/${type}`, { token: null });
      expect([type, res.status]).toEqual([type, 404]);
      expect(res.body).toEqual(notFoundBody(f.url));
    }
  });

  it('an unknown route under /api/v1 is 404 with the not_found body, for any caller', async () => {
    const paths = [
      '/api/v1/nope',
      '/api/v1/',
      '/api/v1',
      '/api/v1/organization/acme',
      '/api/v1/organization/acme/logs/extra',
      '/api/v1/repository/acme/logs',
      '/api/v1/user/logs/',
      '/api/v2/user/logs',
      '/api/v1/superuser/users/nobody',
    ];
    for (const path of paths) {
      for (const token of [null, undefined]) {
        const res = await call(f, 'GET', path, { token });
        expect([path, res.status]).toEqual([path, 404]);
        expect(res.body).toEqual(notFoundBody(f.url));
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      }
    }
  });

  it('health endpoints answer without a token', async () => {
    expect((await call(f, 'GET', '/healthz', { token: null })).body).toEqual({ status: 'ok' });
    expect((await call(f, 'GET', '/readyz', { token: null })).body).toEqual({ status: 'ready' });
  });
});

describe('with QUAYLOGS_SERVER_HOSTNAME and QUAYLOGS_PREFERRED_URL_SCHEME', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await startApi({ QUAYLOGS_SERVER_HOSTNAME: 'logs.example.com:8443', QUAYLOGS_PREFERRED_URL_SCHEME: 'https' });
  });
  afterAll(async () => f.close());

  it('error bodies, error descriptions and discovery name the configured public host, not the request’s', async () => {
    const base = 'https://logs.example.com:8443';
    const missing = await call(f, 'GET', '/api/v1/nope', { token: null });
    expect(missing.body).toEqual(notFoundBody(base));
    const unauth = await call(f, 'GET', '/api/v1/user/logs', { token: null });
    expect(unauth.body.type).toBe(`${base}/api/v1/error/invalid_token`);
    const desc = await call(f, 'GET', '/api/v1/error/expired_token', { token: null });
    expect(desc.body).toEqual({ type: `${base}/api/v1/error/expired_token`, title: 'expired_token', description: QUAY_ERRORS.expired_token });
    const doc = (await call(f, 'GET', '/api/v1/discovery', { token: null })).body;
    expect(doc.host).toBe('logs.example.com:8443');
    expect(doc.schemes).toEqual(['https']);
    expect(doc.securityDefinitions.oauth2_implicit.authorizationUrl).toBe(`${base}/oauth/authorize`);
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text with request durations per route when metrics are on', async () => {
    const { createMetrics } = await import('../src/index.ts');
    const withMetrics = await startApi({}, { metrics: createMetrics() });
    try {
      await call(withMetrics, 'GET', '/api/v1/user/logs');
      const res = await fetch(`${withMetrics.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toMatch(/quaylogs_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/user\/logs",status="200"\} 1/);
      expect(text).toContain('quaylogs_process_cpu_user_seconds_total');
    } finally {
      await withMetrics.close();
    }
  });
});

describe('GET /healthz and /readyz', () => {
  it('readiness names the dependency that does not answer; liveness stays up', async () => {
    let redisUp = true;
    const g = await startApi({}, { readiness: { redis: async () => redisUp } });
    try {
      expect((await call(g, 'GET', '/readyz', { token: null })).body).toEqual({ status: 'ready' });
      redisUp = false;
      const down = await call(g, 'GET', '/readyz', { token: null });
      expect(down.status).toBe(503);
      expect(down.body).toEqual({ status: 'redis unreachable' });
      expect((await call(g, 'GET', '/healthz', { token: null })).status).toBe(200);
      g.ctx.shuttingDown = true;
      expect((await call(g, 'GET', '/readyz', { token: null })).body).toEqual({ status: 'shutting down' });
    } finally {
      await g.close();
    }
  });
});
