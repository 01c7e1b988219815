/**
 * Quay's usage-log routes, served from ClickHouse:
 * GET /api/v1/{user | organization/{org} | repository/{ns}/{repo} | superuser}/{logs | aggregatelogs}.
 * Byte-compatible with Quay (docs/compatibility.md) plus additive extensions:
 * ISO-8601 dates, `kind`/`repository` filters, `group_by`, aggregates over any range.
 */
import type { FastifyInstance } from 'fastify';
import {
  aggregateUsageLogs,
  type GroupBy,
  listLogPage,
  type LogFilter,
  repositoryExists,
} from '@quaylogs/clickhouse';
import {
  decodePageToken,
  encodePageToken,
  formatRfc2822,
  MSG_BAD_REQUEST_GENERIC,
  MSG_INVALID_DATE_RANGE,
  renderAggregate,
  renderLogEntry,
  resolveLogWindow,
  SERVICE_LEVEL_LOG_KINDS,
} from '@quaylogs/core';
import type { AppContext } from '../context.ts';
import { forbidden, invalidRequest, MessageError, notFound, unauthenticated } from '../httpErrors.ts';
import { canAdminNamespace, canAdminRepository, type Principal } from '../principal.ts';
import { pathParams, stringQuery } from '../routeRegistry.ts';

export const PAGE_SIZE = 20;

/**
 * ClickHouse's DateTime64 ends in 2299, and a bound past year 9999 (endtime=12/31/9999 ⇒
 * 10000-01-01) has no text form it parses: later bounds are queried as this one.
 */
const LATEST_QUERYABLE = new Date(Date.UTC(2300, 0, 1));
const queryable = (d: Date): Date => (d > LATEST_QUERYABLE ? LATEST_QUERYABLE : d);

type Scope = 'user' | 'organization' | 'repository' | 'superuser';

interface LogsQuery {
  starttime?: string;
  endtime?: string;
  performer?: string;
  next_page?: string;
  kind?: string;
  repository?: string;
  namespace?: string;
  group_by?: string;
  source?: string;
}

interface LogsParams {
  orgname?: string;
  namespace?: string;
  repo?: string;
}

/** Documentation of the query parameters a route takes (each one an optional string). */
type QueryDocs = { [K in keyof LogsQuery | 'page']?: string };

const DATE_HELP = 'Earliest time from which to get logs (MM/DD/YYYY, UTC; ISO-8601 also accepted)';
const END_HELP = 'Latest time to which to get logs (MM/DD/YYYY, UTC, the whole day included; ISO-8601 also accepted)';
const QUERY_DOCS = {
  common: { starttime: DATE_HELP, endtime: END_HELP },
  performer: { performer: 'Username for which to filter logs.' },
  paging: { next_page: 'The page token for the next page' },
  kind: { kind: 'quaylogs extension: only these log kinds (comma-separated).' },
  repository: { repository: 'quaylogs extension: only this repository of the namespace.' },
  namespace: { namespace: 'quaylogs extension: only this namespace.' },
  groupBy: { group_by: 'quaylogs extension: also group counts by `performer` or `repository`.' },
  source: { source: 'quaylogs extension: only entries of this source (registry).' },
};

interface Target {
  scope: Scope;
  /** Route family for the page-token scope. */
  routeKey: string;
  filter: Omit<LogFilter, 'start' | 'end'>;
  includeNamespace: boolean;
}

function kindsParam(q: LogsQuery): string[] | undefined {
  if (q.kind === undefined || q.kind.trim() === '') return undefined;
  return q.kind
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
}

/** Authorises the caller for the route and builds the filter it reads. Permission is checked before existence (Quay). */
async function resolveTarget(ctx: AppContext, q: LogsQuery, params: LogsParams, scope: Scope, principal: Principal | null): Promise<Target> {
  if (!principal) throw unauthenticated();
  const kinds = kindsParam(q);
  const base: Omit<LogFilter, 'start' | 'end'> = { ...(kinds ? { kinds } : {}), ...(q.source ? { source: q.source } : {}) };
  switch (scope) {
    case 'user':
      return {
        scope,
        routeKey: `user:${principal.username}`,
        filter: {
          ...base,
          namespace: principal.username,
          excludeKinds: SERVICE_LEVEL_LOG_KINDS,
          ...(q.performer ? { performer: q.performer } : {}),
          ...(q.repository ? { repository: q.repository } : {}),
        },
        includeNamespace: false,
      };
    case 'organization': {
      const org = params.orgname!;
      if (!canAdminNamespace(principal, org)) throw forbidden();
      return {
        scope,
        routeKey: `org:${org}`,
        filter: {
          ...base,
          namespace: org,
          ...(q.performer ? { performer: q.performer } : {}),
          ...(q.repository ? { repository: q.repository } : {}),
        },
        includeNamespace: false,
      };
    }
    case 'repository': {
      const ns = params.namespace!;
      const repo = params.repo!;
      if (!canAdminRepository(principal, ns, repo)) throw forbidden();
      if (!(await repositoryExists(ctx.store, ns, repo))) throw notFound();
      return { scope, routeKey: `repo:${ns}/${repo}`, filter: { ...base, namespace: ns, repository: repo }, includeNamespace: false };
    }
    case 'superuser':
      if (!principal.superuser) throw forbidden();
      return {
        scope,
        routeKey: 'superuser',
        filter: {
          ...base,
          ...(q.namespace ? { namespace: q.namespace } : {}),
          ...(q.namespace && q.repository ? { repository: q.repository } : {}),
          ...(q.performer ? { performer: q.performer } : {}),
        },
        includeNamespace: true,
      };
  }
}

/** The page-token scope: a token only continues the very query that issued it. */
function tokenScope(t: Target, q: LogsQuery): string {
  const f = t.filter;
  // The source is appended only when given, so tokens issued before the filter existed stay valid.
  return JSON.stringify([t.routeKey, f.performer ?? '', f.repository ?? '', f.namespace ?? '', f.kinds ?? [], q.starttime ?? '', q.endtime ?? '', ...(f.source ? [f.source] : [])]);
}

export function registerLogRoutes(app: FastifyInstance, ctx: AppContext): void {
  const routes: { scope: Scope; url: string; list: string; agg: string; params?: { [K in keyof LogsParams]?: string }; query: QueryDocs; aggQuery: QueryDocs; scopeName: string; internalAgg?: boolean }[] = [
    {
      scope: 'user',
      url: '/api/v1/user',
      list: 'listUserLogs',
      agg: 'getAggregateUserLogs',
      query: { ...QUERY_DOCS.common, ...QUERY_DOCS.source, ...QUERY_DOCS.performer, ...QUERY_DOCS.kind, ...QUERY_DOCS.repository },
      aggQuery: { ...QUERY_DOCS.common, ...QUERY_DOCS.source, ...QUERY_DOCS.performer, ...QUERY_DOCS.kind, ...QUERY_DOCS.repository, ...QUERY_DOCS.groupBy },
      scopeName: 'user:admin',
    },
    {
      scope: 'organization',
      url: '/api/v1/organization/:orgname',
      list: 'listOrgLogs',
      agg: 'getAggregateOrgLogs',
      params: { orgname: 'The name of the organization' },
      query: { ...QUERY_DOCS.common, ...QUERY_DOCS.source, ...QUERY_DOCS.performer, ...QUERY_DOCS.kind, ...QUERY_DOCS.repository },
      aggQuery: { ...QUERY_DOCS.common, ...QUERY_DOCS.source, ...QUERY_DOCS.performer, ...QUERY_DOCS.kind, ...QUERY_DOCS.repository, ...QUERY_DOCS.groupBy },
      scopeName: 'org:admin',
    },
    {
      scope: 'repository',
      url: '/api/v1/repository/:namespace/:repo',
      list: 'listRepoLogs',
      agg: 'getAggregateRepoLogs',
      params: { namespace: 'The namespace of the repository', repo: 'The name of the repository' },
      query: { ...QUERY_DOCS.common, ...QUERY_DOCS.source, ...QUERY_DOCS.kind },
      aggQuery: { ...QUERY_DOCS.common, ...QUERY_DOCS.source, ...QUERY_DOCS.kind, ...QUERY_DOCS.groupBy },
      scopeName: 'repo:admin',
    },
    {
      scope: 'superuser',
      url: '/api/v1/superuser',
      list: 'listAllLogs',
      agg: 'listAllAggregateLogs',
      query: { ...QUERY_DOCS.common, ...QUERY_DOCS.source, ...QUERY_DOCS.performer, ...QUERY_DOCS.kind, ...QUERY_DOCS.namespace, ...QUERY_DOCS.repository, page: 'The page number for the logs' },
      aggQuery: { ...QUERY_DOCS.common, ...QUERY_DOCS.source, ...QUERY_DOCS.performer, ...QUERY_DOCS.kind, ...QUERY_DOCS.namespace, ...QUERY_DOCS.repository, ...QUERY_DOCS.groupBy },
      scopeName: 'super:user',
      internalAgg: true,
    },
  ];

  for (const r of routes) {
    const listDoc = {
      method: 'GET' as const,
      url: `${r.url}/logs`,
      operationId: r.list,
      tag: r.scope === 'superuser' ? 'superuser' : 'logs',
      description: listDescription(r.scope),
      scope: r.scopeName,
      querystring: stringQuery({ ...r.query, ...QUERY_DOCS.paging }),
      ...(r.params ? { params: pathParams(r.params) } : {}),
    };
    ctx.registry.define(app, listDoc, async (req) => {
      const principal = await ctx.auth.principal(req);
      const target = await resolveTarget(ctx, req.query, req.params, r.scope, principal);
      return listLogs(ctx, req.query, target);
    });

    const aggQuery = stringQuery(r.aggQuery);
    const aggDoc = {
      method: 'GET' as const,
      url: `${r.url}/aggregatelogs`,
      operationId: r.agg,
      tag: r.scope === 'superuser' ? 'superuser' : 'logs',
      description: aggDescription(r.scope),
      scope: r.scopeName,
      ...(r.internalAgg ? { internal: true } : {}),
      querystring: {
        ...aggQuery,
        properties: {
          ...aggQuery.properties,
          group_by: { type: 'string', enum: ['performer', 'repository'], description: QUERY_DOCS.groupBy.group_by },
        },
      } as const,
      ...(r.params ? { params: pathParams(r.params) } : {}),
    };
    ctx.registry.define(app, aggDoc, async (req) => {
      const principal = await ctx.auth.principal(req);
      const target = await resolveTarget(ctx, req.query, req.params, r.scope, principal);
      return aggregateLogs(ctx, req.query, target);
    });
  }
}

function isGroupBy(value: string): value is GroupBy {
  return value === 'performer' || value === 'repository';
}

function listDescription(scope: Scope): string {
  return {
    user: 'List the logs for the current user.',
    organization: 'List the logs for the specified organization.',
    repository: 'List the logs for the specified repository.',
    superuser: 'List the usage logs for the current system.',
  }[scope];
}

function aggDescription(scope: Scope): string {
  return {
    user: 'Returns the aggregated logs for the current user.',
    organization: 'Gets the aggregated logs for the specified organization.',
    repository: 'Returns the aggregated logs for the specified repository.',
    superuser: 'Returns the aggregated logs for the current system.',
  }[scope];
}

async function listLogs(ctx: AppContext, q: LogsQuery, target: Target) {
  const scope = tokenScope(target, q);
  const token = decodePageToken(q.next_page, scope, ctx.secret);
  // A continued walk keeps the window it started with (a default window moves with "now").
  const window = token?.window
    ? { start: new Date(token.window.start), end: new Date(token.window.end) }
    : resolveLogWindow(q.starttime, q.endtime);
  if (target.scope !== 'superuser' && window.end < window.start) throw new MessageError(400, MSG_BAD_REQUEST_GENERIC);
  const filter: LogFilter = { ...target.filter, start: queryable(window.start), end: queryable(window.end) };
  const cursor = token ? { datetime: token.datetime, eventKey: token.eventKey } : null;
  const page = ctx.logPageCache
    ? await ctx.logPageCache.page(ctx.store, filter, cursor, PAGE_SIZE, { now: ctx.now() })
    : await listLogPage(ctx.store, filter, cursor, PAGE_SIZE, { now: ctx.now() });
  const names = new Set<string>();
  for (const row of page.rows) {
    names.add(row.performer);
    if (target.includeNamespace) names.add(row.namespace);
  }
  const accounts = await ctx.accounts.find(ctx.store, names);
  const body: Record<string, unknown> = {
    start_time: formatRfc2822(window.start),
    end_time: formatRfc2822(window.end),
    logs: page.rows.map((row) => renderLogEntry(row, accounts, target.includeNamespace, ctx.config.QUAYLOGS_AVATAR_KIND)),
  };
  const last = page.rows[page.rows.length - 1];
  if (page.hasMore && last) {
    body.next_page = encodePageToken(
      {
        datetime: last.datetime,
        eventKey: last.event_key,
        source: last.source,
        window: { start: window.start.toISOString(), end: window.end.toISOString() },
      },
      scope,
      ctx.secret,
    );
  }
  return body;
}

async function aggregateLogs(ctx: AppContext, q: LogsQuery, target: Target) {
  const window = resolveLogWindow(q.starttime, q.endtime);
  if (target.scope !== 'superuser' && window.end < window.start) throw new MessageError(400, MSG_BAD_REQUEST_GENERIC);
  const maxDays = ctx.config.QUAYLOGS_MAX_AGGREGATE_DAYS;
  if (maxDays > 0 && window.end.getTime() - window.start.getTime() > maxDays * 86_400_000) {
    throw new MessageError(400, MSG_INVALID_DATE_RANGE);
  }
  const groupBy = q.group_by;
  if (groupBy !== undefined && !isGroupBy(groupBy)) throw invalidRequest("group_by must be 'performer' or 'repository'");
  const rows = await aggregateUsageLogs(ctx.store, { ...target.filter, start: queryable(window.start), end: queryable(window.end) }, groupBy);
  return {
    aggregated: rows.map((r) =>
      renderAggregate(r.kind, r.count, new Date(`${r.day}T00:00:00Z`), groupBy ? { [groupBy]: r.group ?? '' } : undefined),
    ),
  };
}
