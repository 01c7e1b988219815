/**
 * Builds GET /api/v1/discovery: a Swagger 2.0 document in the shape Quay's
 * endpoints/api/discovery.py (`swagger_route_data`) produces, generated from the
 * route registry. Pure: no I/O, no Fastify, the same input gives the same output.
 *
 * How Quay's resource model maps onto `RouteDoc` (one Quay resource class = one path):
 * - A path whose every route is `internal` is a class-level `@internal_only` resource:
 *   left out entirely (path and tag) unless `opts.internal`; shown without `x-internal`.
 * - An `internal` route on a path that also has public routes is a method-level
 *   `@internal_only`: its operation is left out unless `opts.internal`, then carries
 *   `x-internal: true`. As in Quay, its body definition and operationId are still registered.
 * - The success response comes from the HTTP method (POST 201, DELETE 204, else 200),
 *   as in Quay, whatever status the handler really returns (`RouteDoc.success` is not read).
 * - Quay's `@path_param` / `@query_param` decorators apply bottom-up, so Quay lists
 *   parameters in the reverse of their declaration order (`next_page` first). Routes
 *   declare them in Quay's source order; they are emitted reversed.
 * - Our `/:namespace/:repo` pair is Quay's single `<apirepopath:repository>` argument.
 */
import type { JsonSchema, RouteDoc } from './routeRegistry.ts';

export interface DiscoveryOptions {
  host: string;
  scheme: 'http' | 'https';
  internal: boolean;
  contactEmail?: string;
  tagDescriptions?: Record<string, string>;
}

type Json = Record<string, unknown>;

/** Quay's `scopes.app_scopes()` with FEATURE_SUPER_USERS on (its default), in Quay's order. [auth/scopes.py] */
const QUAY_SCOPES: ReadonlyArray<readonly [string, string]> = [
  ['repo:read', 'This application will be able to view and pull all repositories visible to the granting user'],
  ['repo:write', 'This application will be able to view, push and pull to all repositories to which the granting user has write access'],
  ['repo:admin', 'This application will have administrator access to all repositories to which the granting user has access'],
  ['repo:create', 'This application will be able to create repositories in all namespaces that the granting user is allowed to create repositories'],
  ['user:read', 'This application will be able to read user information such as username and email address.'],
  ['org:admin', 'This application will be able to administer your organizations including creating robots, creating teams, adjusting team membership, and changing billing settings. You should have absolute trust in the requesting application before granting this permission.'],
  ['super:user', 'This application will be able to administer your installation including managing users, managing organizations and other features found in the superuser panel. You should have absolute trust in the requesting application before granting this permission.'],
  ['user:admin', 'This application will be able to administer your account including creating robots and granting them permissions to your repositories. You should have absolute trust in the requesting application before granting this permission.'],
];

/** Quay's MAIL_DEFAULT_SENDER default (config.py), shown when no contact is configured. */
const DEFAULT_CONTACT_EMAIL = 'admin@example.com';

const REPOSITORY_PARAM = 'repository';
const REPOSITORY_DESCRIPTION = 'The full path of the repository. e.g. namespace/name';
/** Our two path segments that together are Quay's `repository` argument. */
const NAMESPACE_SEGMENT = 'namespace';
const REPO_SEGMENT = 'repo';

/**
 * Quay's resource class (`x-name`, which Quay's UI uses as the key `x-user-related`
 * points at), its `@related_user_resource` and `@require_fresh_login`, for the Quay
 * operations we serve. [endpoints/api/logs.py, superuser.py, appspecifictokens.py,
 * discovery.py, error.py] Other routes get `quaylogs.<tag>.<OperationId>`.
 */
const QUAY_RESOURCES: Readonly<Record<string, { name: string; userRelated?: string; freshLogin?: true }>> = {
  listUserLogs: { name: 'endpoints.api.logs.UserLogs' },
  listOrgLogs: { name: 'endpoints.api.logs.OrgLogs', userRelated: 'endpoints.api.logs.UserLogs' },
  listRepoLogs: { name: 'endpoints.api.logs.RepositoryLogs' },
  getAggregateUserLogs: { name: 'endpoints.api.logs.UserAggregateLogs' },
  getAggregateOrgLogs: { name: 'endpoints.api.logs.OrgAggregateLogs', userRelated: 'endpoints.api.logs.UserLogs' },
  getAggregateRepoLogs: { name: 'endpoints.api.logs.RepositoryAggregateLogs' },
  exportUserLogs: { name: 'endpoints.api.logs.ExportUserLogs' },
  exportOrgLogs: { name: 'endpoints.api.logs.ExportOrgLogs', userRelated: 'endpoints.api.logs.ExportUserLogs' },
  exportRepoLogs: { name: 'endpoints.api.logs.ExportRepositoryLogs' },
  listAllLogs: { name: 'endpoints.api.superuser.SuperUserLogs' },
  listAllAggregateLogs: { name: 'endpoints.api.superuser.SuperUserAggregateLogs' },
  listAppTokens: { name: 'endpoints.api.appspecifictokens.AppTokens' },
  createAppToken: { name: 'endpoints.api.appspecifictokens.AppTokens', freshLogin: true },
  getAppToken: { name: 'endpoints.api.appspecifictokens.AppToken', freshLogin: true },
  revokeAppToken: { name: 'endpoints.api.appspecifictokens.AppToken', freshLogin: true },
  getGlobalMessages: { name: 'endpoints.api.globalmessages.GlobalUserMessages' },
  createGlobalMessage: { name: 'endpoints.api.globalmessages.GlobalUserMessages', freshLogin: true },
  deleteGlobalMessage: { name: 'endpoints.api.globalmessages.GlobalUserMessage', freshLogin: true },
  getLoggedInUser: { name: 'endpoints.api.user.User' },
  listAllUsers: { name: 'endpoints.api.superuser.SuperUserList' },
  discovery: { name: 'endpoints.api.discovery.DiscoveryResource' },
  getErrorDescription: { name: 'endpoints.api.error.Error' },
};

/** Quay's ApiError definition, property order included. [endpoints/api/discovery.py] */
function apiErrorDefinition(): Json {
  return {
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
  };
}

/**
 * Quay's responses block. Quay emits 400, 401, 403, 404, then the success code; a
 * JavaScript object always enumerates integer-like keys in ascending order, so the
 * serialised document has the success code first. Same keys and values.
 */
function responses(method: RouteDoc['method']): Json {
  const error = (description: string): Json => ({ description, schema: { $ref: '#/definitions/ApiError' } });
  const out: Json = {
    '400': error('Bad Request'),
    '401': error('Session required'),
    '403': error('Unauthorized access'),
    '404': error('Not found'),
  };
  if (method === 'DELETE') out['204'] = { description: 'Deleted' };
  else if (method === 'POST') out['201'] = { description: 'Successful creation' };
  else out['200'] = { description: 'Successful invocation' };
  return out;
}

interface SwaggerPath {
  path: string;
  /** Path arguments in URL order, after the repository mapping. */
  args: string[];
  repository: boolean;
}

/** `/api/v1/repository/:namespace/:repo/logs` ⇒ `/api/v1/repository/{repository}/logs`. */
function toSwaggerPath(url: string): SwaggerPath {
  const pair = new RegExp(`/:${NAMESPACE_SEGMENT}/:${REPO_SEGMENT}(?=/|$)`);
  const repository = pair.test(url);
  const mapped = url.replace(pair, `/:${REPOSITORY_PARAM}`);
  const args: string[] = [];
  // Fastify: `:name`, optionally `:name(regex)`; `::` is an escaped literal colon.
  const path = mapped.replace(/::|:(\w+)(?:\((?:\\.|[^)])*\))?/g, (_match: string, name: string | undefined) => {
    if (name === undefined) return ':';
    args.push(name);
    return `{${name}}`;
  });
  return { path, args, repository };
}

function properties(schema: JsonSchema | undefined): [string, JsonSchema][] {
  const props = schema?.properties;
  if (!props || typeof props !== 'object') return [];
  return Object.entries(props as Record<string, JsonSchema>);
}

function description(prop: JsonSchema): string {
  return typeof prop.description === 'string' ? prop.description : '';
}

/** Quay's TYPE_CONVERTER knows string, boolean and integer; `number` passes through. */
function swaggerType(prop: JsonSchema): string {
  const raw = prop.type;
  const type = Array.isArray(raw) ? raw.find((t) => t !== 'null') : raw;
  return type === 'boolean' || type === 'integer' || type === 'number' ? type : 'string';
}

function pathParameter(name: string, desc: string): Json {
  return { name, in: 'path', required: true, description: desc, type: 'string' };
}

function queryParameters(schema: JsonSchema | undefined): Json[] {
  const required = Array.isArray(schema?.required) ? (schema.required as unknown[]) : [];
  return properties(schema)
    .reverse()
    .map(([name, prop]) => {
      const p: Json = { name, in: 'query', required: required.includes(name), description: description(prop), type: swaggerType(prop) };
      if (Array.isArray(prop.enum) && prop.enum.length > 0) p.enum = [...prop.enum];
      return p;
    });
}

function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Group {
  swagger: SwaggerPath;
  routes: RouteDoc[];
}

function groupByPath(routes: readonly RouteDoc[]): Group[] {
  const groups = new Map<string, Group>();
  for (const route of routes) {
    const swagger = toSwaggerPath(route.url);
    const group = groups.get(swagger.path);
    if (group) group.routes.push(route);
    else groups.set(swagger.path, { swagger, routes: [route] });
  }
  return [...groups.values()];
}

/** Declared path parameters (Quay's class-level `@path_param`s), in declaration order. */
function declaredPathParams(group: Group): Map<string, string> {
  const declared = new Map<string, string>();
  if (group.swagger.repository) declared.set(REPOSITORY_PARAM, REPOSITORY_DESCRIPTION);
  for (const route of group.routes) {
    for (const [name, prop] of properties(route.params)) {
      if (group.swagger.repository && (name === NAMESPACE_SEGMENT || name === REPO_SEGMENT)) continue;
      if (!declared.has(name)) declared.set(name, description(prop));
    }
  }
  return declared;
}

export function buildDiscoveryDocument(routes: readonly RouteDoc[], opts: DiscoveryOptions): Record<string, unknown> {
  const paths: { tag: string; path: string; value: Json }[] = [];
  const definitions: Json = {};
  const tags = new Map<string, string>();
  const operationIds = new Set<string>();
  const addTag = (name: string) => {
    if (!tags.has(name)) tags.set(name, (opts.tagDescriptions?.[name] ?? '').trim());
  };

  for (const group of groupByPath(routes)) {
    const first = group.routes[0];
    if (!first) continue;
    const classInternal = group.routes.every((r) => r.internal === true);
    if (classInternal && !opts.internal) continue;

    const tag = first.tag;
    addTag(tag);
    const known = group.routes.map((r) => QUAY_RESOURCES[r.operationId]).find((m) => m !== undefined);
    const pathValue: Json = {
      'x-name': known?.name ?? `quaylogs.${tag}.${pascal(first.operationId)}`,
      'x-path': group.swagger.path,
      'x-tag': tag,
    };
    if (opts.internal && known?.userRelated) pathValue['x-user-related'] = known.userRelated;
    const declared = declaredPathParams(group);
    if (declared.size > 0) pathValue.parameters = [...declared].reverse().map(([name, desc]) => pathParameter(name, desc));

    for (const route of group.routes) {
      if (operationIds.has(route.operationId)) throw new Error(`Duplicate operation Id: ${route.operationId}`);
      operationIds.add(route.operationId);

      const methodInternal = route.internal === true && !classInternal;
      const op: Json = { operationId: route.operationId, parameters: [], description: route.description.trim(), tags: [route.tag] };
      if (methodInternal) op['x-internal'] = true;
      if (opts.internal && QUAY_RESOURCES[route.operationId]?.freshLogin) op['x-requires-fresh-login'] = true;

      const parameters: Json[] = [
        ...group.swagger.args.filter((a) => !declared.has(a)).map((a) => pathParameter(a, '')),
        ...queryParameters(route.querystring),
      ];
      if (route.scope) op.security = [{ oauth2_implicit: [route.scope] }];
      if (!('ApiError' in definitions)) definitions.ApiError = apiErrorDefinition();
      op.responses = responses(route.method);
      if (route.body) {
        const name = route.bodyName ?? `${pascal(route.operationId)}Request`;
        definitions[name] = structuredClone(route.body);
        parameters.push({ name: 'body', in: 'body', required: true, description: 'Request body contents.', schema: { $ref: `#/definitions/${name}` } });
      }
      op.parameters = parameters;
      if (route.extension) op['x-quaylogs-extension'] = true;

      if (!methodInternal || opts.internal) {
        pathValue[route.method.toLowerCase()] = op;
        addTag(route.tag);
      }
    }
    paths.push({ tag, path: group.swagger.path, value: pathValue });
  }

  // Quay: paths stably sorted by x-tag (registration order within a tag), tags by name.
  paths.sort((a, b) => byName(a.tag, b.tag));
  const scopes: Record<string, string> = Object.fromEntries(QUAY_SCOPES);
  for (const route of routes) if (route.scope && !(route.scope in scopes)) scopes[route.scope] = '';
  const baseUrl = `${opts.scheme}://${opts.host}`;

  return {
    swagger: '2.0',
    host: opts.host,
    basePath: '/',
    schemes: [opts.scheme],
    info: {
      version: 'v1',
      // Quay says "Quay Frontend". This document describes quaylogs' own surface (Quay's
      // logs API plus extensions), not Quay's whole frontend API, so it says so; Quay's
      // clients read only `paths` (operationId, x-path, x-name), and the key set is Quay's.
      title: 'quaylogs',
      description:
        "This API serves Quay's usage-log endpoints (logs, aggregated logs, log exports) and quaylogs' extensions, " +
        "answered from ClickHouse with Quay's request and response formats.",
      // Quay: FOOTER_LINKS.TERMS_OF_SERVICE_URL, "" when unset.
      termsOfService: '',
      contact: { email: opts.contactEmail ?? DEFAULT_CONTACT_EMAIL },
    },
    securityDefinitions: {
      oauth2_implicit: {
        type: 'oauth2',
        flow: 'implicit',
        authorizationUrl: `${baseUrl}/oauth/authorize`,
        scopes,
      },
    },
    paths: Object.fromEntries(paths.map((p) => [p.path, p.value])),
    definitions,
    tags: [...tags].sort(([a], [b]) => byName(a, b)).map(([name, desc]) => ({ name, description: desc })),
  };
}
