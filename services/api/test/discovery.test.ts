import { describe, expect, it } from 'vitest';
import { buildDiscoveryDocument, type DiscoveryOptions } from '../src/discovery.ts';
import { pathParams, type RouteDoc, stringQuery } from '../src/routeRegistry.ts';

const orgLogs: RouteDoc = {
  method: 'GET',
  url: '/api/v1/organization/:orgname/logs',
  operationId: 'listOrgLogs',
  tag: 'logs',
  description: '  List the logs for the specified organization.\n',
  scope: 'org:admin',
  params: pathParams({ orgname: 'The name of the organization' }),
  // Declared in Quay's source order; Quay's discovery lists them reversed.
  querystring: stringQuery({
    starttime: 'Earliest time for logs.',
    endtime: 'Latest time for logs.',
    performer: 'Username for which to filter logs.',
    next_page: 'The page token for the next page',
  }),
};

const repoLogs: RouteDoc = {
  method: 'GET',
  url: '/api/v1/repository/:namespace/:repo/logs',
  operationId: 'listRepoLogs',
  tag: 'logs',
  description: 'List the logs for the specified repository.',
  scope: 'repo:admin',
  params: pathParams({ namespace: 'The namespace of the repository', repo: 'The name of the repository' }),
  querystring: {
    ...stringQuery({ starttime: 'Earliest time for logs.' }),
    required: ['starttime'],
  },
};

const exportBody = {
  type: 'object',
  description: 'Configuration for an export logs operation',
  properties: { callback_url: { type: 'string' }, callback_email: { type: 'string' } },
};

const exportRepoLogs: RouteDoc = {
  method: 'POST',
  url: '/api/v1/repository/:namespace/:repo/exportlogs',
  operationId: 'exportRepoLogs',
  tag: 'logs',
  description: 'Queues an export of the logs for the specified repository.',
  scope: 'repo:admin',
  params: pathParams({ namespace: 'ns', repo: 'name' }),
  body: exportBody,
  bodyName: 'ExportLogs',
  // The handler really answers 200; Quay's discovery still documents a POST as 201.
  success: { status: 200, description: 'Successful invocation' },
};

const superAggregate: RouteDoc = {
  method: 'GET',
  url: '/api/v1/superuser/aggregatelogs',
  operationId: 'listAllAggregateLogs',
  tag: 'superuser',
  description: 'Returns the aggregated logs for the current system.',
  scope: 'super:user',
  internal: true,
  querystring: {
    type: 'object',
    properties: { group_by: { type: 'string', enum: ['performer', 'repository'], description: 'Group by.' } },
  },
};

const createUser: RouteDoc = {
  method: 'POST',
  url: '/api/v1/superuser/users',
  operationId: 'createQuaylogsUser',
  tag: 'superuser',
  extension: true,
  description: 'Creates a quaylogs user.',
  scope: 'super:user',
  body: { type: 'object', required: ['username'], properties: { username: { type: 'string' } } },
  bodyName: 'NewQuaylogsUser',
  success: { status: 201, description: 'Successful creation' },
};

// A public and an internal method on one path: Quay's method-level @internal_only.
const listUsers: RouteDoc = {
  method: 'GET',
  url: '/api/v1/superuser/users',
  operationId: 'listQuaylogsUsers',
  tag: 'superuser',
  extension: true,
  description: 'Lists quaylogs users.',
  scope: 'super:user',
};
const purgeUsers: RouteDoc = {
  method: 'DELETE',
  url: '/api/v1/superuser/users',
  operationId: 'purgeQuaylogsUsers',
  tag: 'superuser',
  extension: true,
  internal: true,
  description: 'Deletes every quaylogs user.',
  scope: 'super:user',
  body: { type: 'object', properties: { confirm: { type: 'boolean' } } },
  bodyName: 'PurgeUsers',
};

const discovery: RouteDoc = {
  method: 'GET',
  url: '/api/v1/discovery',
  operationId: 'discovery',
  tag: 'discovery',
  description: 'List all of the API endpoints available in the swagger API format.',
  scope: null,
  querystring: { type: 'object', properties: { internal: { type: 'boolean', description: 'Whether to include internal APIs.' } } },
};

// A path argument nobody declared: Quay lists it on the operation with an empty description.
const errorDescription: RouteDoc = {
  method: 'GET',
  url: '/api/v1/error/:error_type',
  operationId: 'getErrorDescription',
  tag: 'error',
  description: 'Get a detailed description of the error.',
  scope: null,
};

const ROUTES: readonly RouteDoc[] = [
  superAggregate,
  createUser,
  listUsers,
  purgeUsers,
  orgLogs,
  repoLogs,
  exportRepoLogs,
  discovery,
  errorDescription,
];

const OPTS: DiscoveryOptions = {
  host: 'logs.example.com:8443',
  scheme: 'https',
  internal: false,
  tagDescriptions: { logs: 'Access usage logs for organizations or repositories.', superuser: 'Superuser API.' },
};

type Json = Record<string, any>;
const build = (opts: Partial<DiscoveryOptions> = {}, routes: readonly RouteDoc[] = ROUTES): Json =>
  buildDiscoveryDocument(routes, { ...OPTS, ...opts }) as Json;

describe('buildDiscoveryDocument', () => {
  it("has Quay's top-level keys in Quay's order, with the OAuth endpoint on the configured host", () => {
    const doc = build({ contactEmail: 'ops@example.com' });
    expect(Object.keys(doc)).toEqual(['swagger', 'host', 'basePath', 'schemes', 'info', 'securityDefinitions', 'paths', 'definitions', 'tags']);
    expect(doc.swagger).toBe('2.0');
    expect(doc.host).toBe('logs.example.com:8443');
    expect(doc.basePath).toBe('/');
    expect(doc.schemes).toEqual(['https']);
    expect(Object.keys(doc.info)).toEqual(['version', 'title', 'description', 'termsOfService', 'contact']);
    expect(doc.info.version).toBe('v1');
    expect(doc.info.contact).toEqual({ email: 'ops@example.com' });
    const oauth = doc.securityDefinitions.oauth2_implicit;
    expect(oauth.type).toBe('oauth2');
    expect(oauth.flow).toBe('implicit');
    expect(oauth.authorizationUrl).toBe('https://logs.example.com:8443/oauth/authorize');
  });

  it("advertises every Quay scope with Quay's descriptions, as Quay does, not only the scopes in use", () => {
    const scopes = build().securityDefinitions.oauth2_implicit.scopes as Record<string, string>;
    expect(Object.keys(scopes)).toEqual(['repo:read', 'repo:write', 'repo:admin', 'repo:create', 'user:read', 'org:admin', 'super:user', 'user:admin']);
    expect(scopes['org:admin']).toMatch(/^This application will be able to administer your organizations including creating robots/);
  });

  it('documents a repository route under one {repository} path parameter, as Quay does', () => {
    const paths = build().paths as Json;
    expect(paths['/api/v1/repository/:namespace/:repo/logs']).toBeUndefined();
    const repo = paths['/api/v1/repository/{repository}/logs'];
    expect(repo['x-path']).toBe('/api/v1/repository/{repository}/logs');
    expect(repo['x-name']).toBe('endpoints.api.logs.RepositoryLogs');
    expect(repo['x-tag']).toBe('logs');
    expect(repo.parameters).toEqual([
      { name: 'repository', in: 'path', required: true, description: 'The full path of the repository. e.g. namespace/name', type: 'string' },
    ]);
    // The path-level parameter is not repeated on the operation.
    expect(repo.get.parameters).toEqual([{ name: 'starttime', in: 'query', required: true, description: 'Earliest time for logs.', type: 'string' }]);
  });

  it("lists query parameters as Quay does: reversed declaration order, typed, with descriptions and enums", () => {
    const paths = build({ internal: true }).paths as Json;
    const org = paths['/api/v1/organization/{orgname}/logs'];
    expect(Object.keys(org)).toEqual(['x-name', 'x-path', 'x-tag', 'x-user-related', 'parameters', 'get']);
    expect(org.parameters).toEqual([{ name: 'orgname', in: 'path', required: true, description: 'The name of the organization', type: 'string' }]);
    expect(Object.keys(org.get)).toEqual(['operationId', 'parameters', 'description', 'tags', 'security', 'responses']);
    expect(org.get.operationId).toBe('listOrgLogs');
    expect(org.get.description).toBe('List the logs for the specified organization.');
    expect(org.get.tags).toEqual(['logs']);
    expect(org.get.parameters.map((p: Json) => [p.name, p.in, p.required, p.type])).toEqual([
      ['next_page', 'query', false, 'string'],
      ['performer', 'query', false, 'string'],
      ['endtime', 'query', false, 'string'],
      ['starttime', 'query', false, 'string'],
    ]);
    expect(org.get.parameters[0].description).toBe('The page token for the next page');
    const agg = paths['/api/v1/superuser/aggregatelogs'].get;
    expect(agg.parameters).toEqual([
      { name: 'group_by', in: 'query', required: false, description: 'Group by.', type: 'string', enum: ['performer', 'repository'] },
    ]);
    expect(paths['/api/v1/discovery'].get.parameters[0].type).toBe('boolean');
  });

  it('requires the route scope through oauth2_implicit and omits security on anonymous routes', () => {
    const paths = build().paths as Json;
    expect(paths['/api/v1/organization/{orgname}/logs'].get.security).toEqual([{ oauth2_implicit: ['org:admin'] }]);
    expect(paths['/api/v1/repository/{repository}/logs'].get.security).toEqual([{ oauth2_implicit: ['repo:admin'] }]);
    expect(paths['/api/v1/discovery'].get).not.toHaveProperty('security');
  });

  it("answers every operation's 400/401/403/404 with ApiError, and the success code by HTTP method", () => {
    const doc = build({ internal: true });
    const error = (description: string) => ({ description, schema: { $ref: '#/definitions/ApiError' } });
    const errors = { '400': error('Bad Request'), '401': error('Session required'), '403': error('Unauthorized access'), '404': error('Not found') };
    expect(doc.paths['/api/v1/organization/{orgname}/logs'].get.responses).toEqual({ ...errors, '200': { description: 'Successful invocation' } });
    expect(doc.paths['/api/v1/superuser/users'].post.responses).toEqual({ ...errors, '201': { description: 'Successful creation' } });
    expect(doc.paths['/api/v1/superuser/users'].delete.responses).toEqual({ ...errors, '204': { description: 'Deleted' } });
    // Quay derives it from the method: a POST is "201" even where the handler answers 200.
    expect(doc.paths['/api/v1/repository/{repository}/exportlogs'].post.responses).toEqual({ ...errors, '201': { description: 'Successful creation' } });
    expect(Object.keys(doc.definitions)[0]).toBe('ApiError');
    expect(doc.definitions.ApiError).toEqual({
      type: 'object',
      properties: {
        status: { type: 'integer', description: 'Status code of the response.' },
        type: { type: 'string', description: 'Reference to the type of the error.' },
        detail: { type: 'string', description: 'Details about the specific instance of the error.' },
        title: { type: 'string', description: 'Unique error code to identify the type of error.' },
        error_message: { type: 'string', description: 'Deprecated; alias for detail' },
        error_type: { type: 'string', description: 'Deprecated; alias for detail' },
      },
      required: ['status', 'type', 'title'],
    });
  });

  it('documents a request body as a body parameter referring to its definition, and marks extensions', () => {
    const doc = build();
    const post = doc.paths['/api/v1/repository/{repository}/exportlogs'].post;
    expect(post.parameters).toEqual([
      { name: 'body', in: 'body', required: true, description: 'Request body contents.', schema: { $ref: '#/definitions/ExportLogs' } },
    ]);
    expect(doc.definitions.ExportLogs).toEqual(exportBody);
    expect(post).not.toHaveProperty('x-quaylogs-extension');
    const create = doc.paths['/api/v1/superuser/users'].post;
    expect(create['x-quaylogs-extension']).toBe(true);
    expect(create.parameters[0].schema).toEqual({ $ref: '#/definitions/NewQuaylogsUser' });
    expect(doc.paths['/api/v1/superuser/users']['x-name']).toBe('quaylogs.superuser.CreateQuaylogsUser');
  });

  it('lists an undeclared path argument on the operation with an empty description', () => {
    const path = build().paths['/api/v1/error/{error_type}'];
    expect(path).not.toHaveProperty('parameters');
    expect(path.get.parameters).toEqual([{ name: 'error_type', in: 'path', required: true, description: '', type: 'string' }]);
  });

  it('hides internal routes and wholly internal paths unless internal is asked for', () => {
    const pub = build();
    expect(pub.paths).not.toHaveProperty(['/api/v1/superuser/aggregatelogs']);
    expect(Object.keys(pub.paths['/api/v1/superuser/users'])).toEqual(['x-name', 'x-path', 'x-tag', 'post', 'get']);
    const operationIds = Object.values(pub.paths as Json).flatMap((p: Json) =>
      ['get', 'post', 'put', 'delete'].filter((m) => m in p).map((m) => p[m].operationId),
    );
    expect(operationIds).not.toContain('listAllAggregateLogs');
    expect(operationIds).not.toContain('purgeQuaylogsUsers');
    // A path with nothing public is dropped altogether.
    expect(build({}, [superAggregate]).paths).toEqual({});
    expect(build({}, [superAggregate]).tags).toEqual([]);

    const all = build({ internal: true });
    // Wholly internal path = Quay's class-level @internal_only: shown, without x-internal.
    expect(all.paths['/api/v1/superuser/aggregatelogs'].get.operationId).toBe('listAllAggregateLogs');
    expect(all.paths['/api/v1/superuser/aggregatelogs'].get).not.toHaveProperty('x-internal');
    // Internal method beside public ones = method-level @internal_only: shown with x-internal.
    expect(all.paths['/api/v1/superuser/users'].delete['x-internal']).toBe(true);
    expect(all.paths['/api/v1/superuser/users'].get).not.toHaveProperty('x-internal');
  });

  it('adds the internal-only annotations Quay adds (x-user-related, x-requires-fresh-login) only with internal', () => {
    const appToken: RouteDoc = { method: 'DELETE', url: '/api/v1/user/apptoken/:token_uuid', operationId: 'revokeAppToken', tag: 'appspecifictokens', description: 'Revoke.', scope: 'user:admin', params: pathParams({ token_uuid: 'The uuid of the app specific token' }) };
    const routes = [orgLogs, appToken];
    const pub = build({}, routes);
    expect(pub.paths['/api/v1/organization/{orgname}/logs']).not.toHaveProperty('x-user-related');
    expect(pub.paths['/api/v1/user/apptoken/{token_uuid}'].delete).not.toHaveProperty('x-requires-fresh-login');
    const all = build({ internal: true }, routes);
    expect(all.paths['/api/v1/organization/{orgname}/logs']['x-user-related']).toBe('endpoints.api.logs.UserLogs');
    expect(all.paths['/api/v1/user/apptoken/{token_uuid}'].delete['x-requires-fresh-login']).toBe(true);
  });

  it('sorts tags by name and paths by tag, keeping registration order within a tag', () => {
    const doc = build({ internal: true });
    expect(doc.tags).toEqual([
      { name: 'discovery', description: '' },
      { name: 'error', description: '' },
      { name: 'logs', description: 'Access usage logs for organizations or repositories.' },
      { name: 'superuser', description: 'Superuser API.' },
    ]);
    expect(Object.keys(doc.paths)).toEqual([
      '/api/v1/discovery',
      '/api/v1/error/{error_type}',
      '/api/v1/organization/{orgname}/logs',
      '/api/v1/repository/{repository}/logs',
      '/api/v1/repository/{repository}/exportlogs',
      '/api/v1/superuser/aggregatelogs',
      '/api/v1/superuser/users',
    ]);
  });

  it('keeps a hidden internal method’s body definition, as Quay does', () => {
    expect(build().definitions).toHaveProperty('PurgeUsers');
    expect(Object.keys(build().definitions)).toEqual(['ApiError', 'NewQuaylogsUser', 'PurgeUsers', 'ExportLogs']);
  });

  it('refuses two routes with one operationId, as Quay does', () => {
    expect(() => build({}, [orgLogs, { ...orgLogs, url: '/api/v1/organization/:orgname/logs2' }])).toThrow(/Duplicate operation Id: listOrgLogs/);
  });

  it('is plain JSON: serialising and parsing gives the same document, and inputs are not aliased', () => {
    const doc = build({ internal: true });
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    (doc.definitions.ExportLogs as Json).mutated = true;
    expect(exportBody).not.toHaveProperty('mutated');
  });
});
