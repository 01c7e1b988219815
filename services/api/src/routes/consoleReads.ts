/**
 * Read endpoints the console needs besides Quay's own (quaylogs extensions, each in
 * discovery): who the caller is (Quay's GET /api/v1/user/), the busiest namespaces,
 * repositories and performers of a range (from the daily rollups), the day-of-week ×
 * hour heat map, and the caller's recent exports. Permissions are the logs routes'.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  getExport,
  getGrants,
  listUsers,
  listExportDeliveries,
  listRecentExportIds,
  overallExportStatus,
  topUsage,
  type TopBy,
  usageHeatmap,
  dailyBySource,
} from '@quaylogs/clickhouse';
import { avatarFor, DAY_MS, formatRfc2822, MSG_BAD_REQUEST_GENERIC, resolveLogWindow } from '@quaylogs/core';
import type { AppContext } from '../context.ts';
import { forbidden, invalidRequest, MessageError, unauthenticated } from '../httpErrors.ts';
import { canAdminNamespace, canAdminRepository, type Principal } from '../principal.ts';
import { pathParams, stringQuery } from '../routeRegistry.ts';

type Scope = 'superuser' | 'organization' | 'repository';

const RANGE_DOCS = {
  starttime: 'First day (MM/DD/YYYY, UTC; ISO-8601 also accepted); whole UTC days are counted',
  endtime: 'Last day, included (MM/DD/YYYY, UTC)',
};

async function principalOf(ctx: AppContext, req: FastifyRequest): Promise<Principal> {
  const p = await ctx.auth.principal(req);
  if (!p) throw unauthenticated();
  return p;
}

/** The namespace/repository the scope reads, after checking the caller may read it. */
function scoped(
  p: Principal,
  scope: Scope,
  params: { orgname?: string; namespace?: string; repo?: string },
  q: { namespace?: string; repository?: string; source?: string },
): { namespace?: string; repository?: string; source?: string } {
  const src = q.source ? { source: q.source } : {};
  if (scope === 'superuser') {
    if (!p.superuser) throw forbidden();
    return { ...src, ...(q.namespace ? { namespace: q.namespace } : {}), ...(q.namespace && q.repository ? { repository: q.repository } : {}) };
  }
  if (scope === 'organization') {
    if (!canAdminNamespace(p, params.orgname!)) throw forbidden();
    return { ...src, namespace: params.orgname!, ...(q.repository ? { repository: q.repository } : {}) };
  }
  if (!canAdminRepository(p, params.namespace!, params.repo!)) throw forbidden();
  return { ...src, namespace: params.namespace!, repository: params.repo! };
}

function windowOf(q: { starttime?: string; endtime?: string }): { start: Date; end: Date } {
  const w = resolveLogWindow(q.starttime, q.endtime);
  if (w.end < w.start) throw new MessageError(400, MSG_BAD_REQUEST_GENERIC);
  // Whole UTC days (the rollups' grain); DateTime64 ends in 2299.
  const cap = Date.UTC(2299, 0, 1);
  const start = new Date(Math.min(cap, Math.floor(w.start.getTime() / DAY_MS) * DAY_MS));
  const end = new Date(Math.min(cap, Math.ceil(w.end.getTime() / DAY_MS) * DAY_MS));
  return { start, end };
}

export function registerConsoleReadRoutes(app: FastifyInstance, ctx: AppContext): void {
  const R = ctx.registry;

  R.define(
    app,
    {
      method: 'GET',
      url: '/api/v1/user/',
      operationId: 'getLoggedInUser',
      tag: 'user',
      description: 'Get user information for the authenticated user.',
      scope: 'user:read',
    },
    async (req) => {
      const p = await principalOf(ctx, req);
      const kind = ctx.config.QUAYLOGS_AVATAR_KIND;
      return {
        anonymous: false,
        username: p.username,
        email: p.email,
        verified: true,
        avatar: avatarFor(p.username, p.email, 'user', kind),
        super_user: p.superuser,
        organizations: [...p.organizations].sort().map((name) => ({
          name,
          avatar: avatarFor(name, null, 'org', kind),
          is_org_admin: true,
        })),
        // quaylogs extension: repositories administered directly (`namespace/name`).
        repositories: [...p.repositories].sort(),
      };
    },
  );

  R.define(
    app,
    {
      method: 'GET',
      url: '/api/v1/superuser/users/',
      operationId: 'listAllUsers',
      tag: 'superuser',
      description: 'Returns a list of all users in the system (quaylogs users, with the grants they hold as an extension).',
      scope: 'super:user',
    },
    async (req) => {
      const p = await principalOf(ctx, req);
      if (!p.superuser) throw forbidden();
      const users = [];
      for (const u of await listUsers(ctx.store)) {
        const g = await getGrants(ctx.store, u.username);
        users.push({
          username: u.username,
          email: u.email,
          verified: true,
          super_user: u.superuser,
          enabled: true,
          organizations: [...g.organizations].sort(),
          repositories: [...g.repositories].sort(),
        });
      }
      return { users };
    },
  );

  const scopes: { scope: Scope; url: string; params?: { orgname?: string; namespace?: string; repo?: string }; by: TopBy[]; tag: string; scopeName: string }[] = [
    { scope: 'superuser', url: '/api/v1/superuser', by: ['namespace', 'repository', 'performer', 'source'], tag: 'superuser', scopeName: 'super:user' },
    {
      scope: 'organization',
      url: '/api/v1/organization/:orgname',
      params: { orgname: 'The name of the organization' },
      by: ['repository', 'performer', 'source'],
      tag: 'logs',
      scopeName: 'org:admin',
    },
    {
      scope: 'repository',
      url: '/api/v1/repository/:namespace/:repo',
      params: { namespace: 'The namespace of the repository', repo: 'The name of the repository' },
      by: ['performer', 'source'],
      tag: 'logs',
      scopeName: 'repo:admin',
    },
  ];
  const filterDocs = (s: Scope): { source: string; namespace?: string; repository?: string } => ({
    source: 'Only entries of this source (registry)',
    ...(s === 'superuser'
      ? { namespace: 'Only this namespace', repository: 'Only this repository of the namespace' }
      : s === 'organization'
        ? { repository: 'Only this repository' }
        : {}),
  });

  for (const s of scopes) {
    const params = s.params ? { params: pathParams(s.params) } : {};
    const rangeQuery = stringQuery({ ...RANGE_DOCS, ...filterDocs(s.scope) });
    R.define(
      app,
      {
        method: 'GET',
        url: `${s.url}/toplogs`,
        operationId: `getTop${s.scope[0]!.toUpperCase()}${s.scope.slice(1)}Logs`,
        tag: s.tag,
        extension: true,
        description: `quaylogs: the busiest ${s.by.join(', ')} of a range of whole UTC days, with their entry counts (from the daily rollups).`,
        scope: s.scopeName,
        ...params,
        querystring: {
          ...rangeQuery,
          required: ['by'],
          properties: {
            ...rangeQuery.properties,
            by: { type: 'string', enum: s.by, description: 'What to rank' },
            limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: 'How many (1–999, default 10)' },
          },
        } as const,
      },
      async (req) => {
        const p = await principalOf(ctx, req);
        const q = req.query;
        const target = scoped(p, s.scope, req.params, q);
        const w = windowOf(q);
        const rows = await topUsage(ctx.store, {
          by: q.by,
          dayFrom: w.start.toISOString().slice(0, 10),
          dayTo: w.end.toISOString().slice(0, 10),
          ...target,
          limit: q.limit ? Number(q.limit) : 10,
        });
        return { start_time: formatRfc2822(w.start), end_time: formatRfc2822(w.end), by: q.by, top: rows };
      },
    );

    R.define(
      app,
      {
        method: 'GET',
        url: `${s.url}/logheatmap`,
        operationId: `get${s.scope[0]!.toUpperCase()}${s.scope.slice(1)}LogHeatmap`,
        tag: s.tag,
        extension: true,
        description: 'quaylogs: entries per UTC day of week (1 = Monday) and hour over a range of whole UTC days.',
        scope: s.scopeName,
        ...params,
        querystring: stringQuery({ ...RANGE_DOCS, ...filterDocs(s.scope) }),
      },
      async (req) => {
        const p = await principalOf(ctx, req);
        const target = scoped(p, s.scope, req.params, req.query);
        const w = windowOf(req.query);
        const cells = await usageHeatmap(ctx.store, { start: w.start, end: w.end, ...target });
        return { start_time: formatRfc2822(w.start), end_time: formatRfc2822(w.end), cells };
      },
    );
  }

  R.define(
    app,
    {
      method: 'GET',
      url: '/api/v1/superuser/sourcedaily',
      operationId: 'getSourceDailyCounts',
      tag: 'superuser',
      extension: true,
      description: 'quaylogs: entries per source and UTC day over the last `days` days (default 14), from the daily rollup.',
      scope: 'super:user',
      querystring: {
        type: 'object',
        properties: { days: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: 'How many days back, today included (1–999)' } },
      },
    },
    async (req) => {
      const p = await principalOf(ctx, req);
      if (!p.superuser) throw forbidden();
      const days = Number(req.query.days ?? 14);
      const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
      const from = new Date(today - (days - 1) * DAY_MS).toISOString().slice(0, 10);
      const to = new Date(today + DAY_MS).toISOString().slice(0, 10);
      return { days: await dailyBySource(ctx.store, from, to) };
    },
  );

  R.define(
    app,
    {
      method: 'GET',
      url: '/api/v1/exportlogs',
      operationId: 'listExports',
      tag: 'logs',
      extension: true,
      description: 'quaylogs: the caller’s most recent log exports (a superuser’s: everyone’s), newest first.',
      scope: 'org:admin',
      querystring: {
        type: 'object',
        properties: { limit: { type: 'string', pattern: '^[1-9][0-9]?$', description: 'How many (1–99, default 25)' } },
      },
    },
    async (req) => {
      const p = await principalOf(ctx, req);
      const limit = Number(req.query.limit ?? 25);
      if (!Number.isFinite(limit)) throw invalidRequest('limit must be a number');
      const ids = await listRecentExportIds(ctx.store, { ...(p.superuser ? {} : { requestedBy: p.username }), limit });
      const exports = [];
      for (const id of ids) {
        const e = await getExport(ctx.store, id);
        if (!e) continue;
        const deliveries = await listExportDeliveries(ctx.store, id);
        exports.push({
          export_id: e.export_id,
          status: overallExportStatus(e, deliveries),
          namespace: e.namespace,
          repository: e.repository || null,
          requested_by: e.requested_by,
          start_time: formatRfc2822(e.window_start),
          end_time: formatRfc2822(e.window_end),
          format: e.format,
          created: formatRfc2822(e.created),
          attempts: e.attempts,
          last_error: e.last_error || deliveries.find((d) => d.last_error)?.last_error || null,
          rows: e.rows,
          bytes: e.bytes,
        });
      }
      return { exports };
    },
  );
}
