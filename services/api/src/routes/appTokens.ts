/**
 * App-specific tokens (Quay's app-token API; see docs/compatibility.md) for the calling user, and the
 * superuser's surface for managing quaylogs users: create, admin grants, tokens.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type AppTokenRecord,
  getAppToken,
  getUser,
  listAppTokens,
  putAppToken,
  putGrants,
  putUser,
  upsertAccounts,
} from '@quaylogs/clickhouse';
import { formatRfc2822, parseChDateTime, toChDateTime, NO_EXTENDED_FIELDS } from '@quaylogs/core';
import type { AppContext } from '../context.ts';
import { ApiError, forbidden, invalidRequest, notFound, unauthenticated } from '../httpErrors.ts';
import type { Principal } from '../principal.ts';
import { pathParams, truthyBool } from '../routeRegistry.ts';
import { generateTokenCode, hashToken, sealTokenCode, unsealTokenCode } from '../tokenCodes.ts';

const AUDIT_SOURCE = 'quaylogs';

function tokenView(t: AppTokenRecord, withCode: string | null | undefined) {
  const view: Record<string, unknown> = {
    uuid: t.uuid,
    title: t.title,
    last_accessed: t.last_accessed ? formatRfc2822(parseChDateTime(t.last_accessed)) : null,
    created: formatRfc2822(parseChDateTime(t.created)),
    expiration: t.expiration ? formatRfc2822(parseChDateTime(t.expiration)) : null,
  };
  if (withCode !== undefined) view.token_code = withCode;
  return view;
}

async function requireUser(ctx: AppContext, req: FastifyRequest): Promise<Principal> {
  const p = await ctx.auth.principal(req);
  if (!p) throw unauthenticated();
  return p;
}

async function requireSuperuser(ctx: AppContext, req: FastifyRequest): Promise<Principal> {
  const p = await requireUser(ctx, req);
  if (!p.superuser) throw forbidden();
  return p;
}

/** Creates a token for `username` and writes Quay's audit entry; returns the create response. */
export async function createAppToken(
  ctx: AppContext,
  username: string,
  title: string,
  audit: { performer: string; ip: string },
  fixedCode?: string,
  /** false for the bootstrap token: configuration, not an API-created token, so QUAYLOGS_APPTOKEN_TTL does not apply. */
  expires = true,
) {
  const code = fixedCode ?? generateTokenCode();
  const ttl = expires ? ctx.config.QUAYLOGS_APPTOKEN_TTL : undefined;
  const now = new Date();
  const record: AppTokenRecord = {
    uuid: randomUUID(),
    username,
    title,
    token_hash: hashToken(code),
    code_sealed: sealTokenCode(code, ctx.secret),
    created: toChDateTime(now),
    expiration: ttl ? toChDateTime(new Date(now.getTime() + ttl * 1000)) : null,
    last_accessed: null,
  };
  await putAppToken(ctx.store, record);
  ctx.auth.invalidate();
  await writeTokenAudit(ctx, 'create_app_specific_token', username, record, audit);
  return { token: tokenView(record, code) };
}

async function writeTokenAudit(
  ctx: AppContext,
  kind: 'create_app_specific_token' | 'revoke_app_specific_token',
  namespace: string,
  token: AppTokenRecord,
  audit: { performer: string; ip: string },
): Promise<void> {
  await ctx.audit.write([
    {
      source: AUDIT_SOURCE,
      namespace,
      repository: '',
      kind,
      performer: audit.performer,
      ip: audit.ip,
      datetime: toChDateTime(new Date()),
      metadata: JSON.stringify({ app_specific_token_title: token.title, app_specific_token: token.uuid }),
      ...NO_EXTENDED_FIELDS,
    },
  ]);
}

const titleBody = {
  type: 'object',
  required: ['title'],
  properties: { title: { type: 'string', minLength: 1, maxLength: 255, description: 'Friendly name to help identify the token' } },
} as const;

export function registerAppTokenRoutes(app: FastifyInstance, ctx: AppContext): void {
  const R = ctx.registry;
  const uuidParams = pathParams({ token_uuid: 'The uuid of the app specific token' });

  R.define(
    app,
    {
      method: 'GET',
      url: '/api/v1/user/apptoken',
      operationId: 'listAppTokens',
      tag: 'appspecifictokens',
      description: 'Lists the app specific tokens for the user.',
      scope: 'user:admin',
      querystring: {
        type: 'object',
        properties: { expiring: { type: 'string', description: 'If true, only returns those tokens expiring soon' } },
      },
    },
    async (req) => {
      const p = await requireUser(ctx, req);
      const { expiring } = req.query;
      const onlyExpiring = expiring === undefined ? null : truthyBool(expiring);
      let tokens = await listAppTokens(ctx.store, p.username);
      if (onlyExpiring) {
        // Quay: expiring within 10 % of the configured lifetime (or of 4 weeks), not yet expired.
        const window = (ctx.config.QUAYLOGS_APPTOKEN_TTL ?? 28 * 86400) * 100;
        const now = Date.now();
        tokens = tokens.filter((t) => {
          if (!t.expiration) return false;
          const at = parseChDateTime(t.expiration).getTime();
          return at > now && at <= now + window;
        });
      }
      return { tokens: tokens.map((t) => tokenView(t, undefined)), only_expiring: onlyExpiring };
    },
  );

  R.define(
    app,
    {
      method: 'POST',
      url: '/api/v1/user/apptoken',
      operationId: 'createAppToken',
      tag: 'appspecifictokens',
      description: 'Create a new app specific token for user.',
      scope: 'user:admin',
      body: titleBody,
      bodyName: 'NewToken',
    },
    async (req) => {
      const p = await requireUser(ctx, req);
      const { title } = req.body;
      return createAppToken(ctx, p.username, title, { performer: p.username, ip: req.ip });
    },
  );

  R.define(
    app,
    {
      method: 'GET',
      url: '/api/v1/user/apptoken/:token_uuid',
      operationId: 'getAppToken',
      tag: 'appspecifictokens',
      description: 'Returns a specific app token for the user.',
      scope: 'user:admin',
      params: uuidParams,
    },
    async (req) => {
      const p = await requireUser(ctx, req);
      const t = await getAppToken(ctx.store, req.params.token_uuid);
      if (!t || t.username !== p.username) throw notFound();
      return { token: tokenView(t, unsealTokenCode(t.code_sealed, ctx.secret)) };
    },
  );

  R.define(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/user/apptoken/:token_uuid',
      operationId: 'revokeAppToken',
      tag: 'appspecifictokens',
      description: 'Revokes a specific app token for the user.',
      scope: 'user:admin',
      params: uuidParams,
      success: { status: 204, description: 'Deleted' },
    },
    async (req, reply: FastifyReply) => {
      const p = await requireUser(ctx, req);
      const t = await getAppToken(ctx.store, req.params.token_uuid);
      if (!t || t.username !== p.username) throw notFound();
      await putAppToken(ctx.store, t, true);
      ctx.auth.invalidate();
      await writeTokenAudit(ctx, 'revoke_app_specific_token', p.username, t, { performer: p.username, ip: req.ip });
      return reply.code(204).send();
    },
  );

  // ---- superuser: quaylogs users, grants and their tokens (quaylogs extensions) ----

  const USERNAME = '^[a-z0-9][a-z0-9._-]{0,254}$';
  R.define(
    app,
    {
      method: 'POST',
      url: '/api/v1/superuser/users',
      operationId: 'createQuaylogsUser',
      tag: 'superuser',
      extension: true,
      description: 'Creates a quaylogs user (not a Quay user): someone who may read logs through this API.',
      scope: 'super:user',
      body: {
        type: 'object',
        required: ['username', 'email'],
        additionalProperties: false,
        properties: {
          username: { type: 'string', pattern: USERNAME, description: 'Lower-case username, as in Quay' },
          email: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 320, description: 'E-mail address' },
          superuser: { type: 'boolean', description: 'Whether the user reads every namespace' },
        },
      },
      bodyName: 'NewQuaylogsUser',
      success: { status: 201, description: 'Successful creation' },
    },
    async (req, reply) => {
      await requireSuperuser(ctx, req);
      const body = req.body;
      if (await getUser(ctx.store, body.username)) {
        throw new ApiError(400, 'invalid_request', `User ${body.username} already exists`);
      }
      await putUser(ctx.store, { username: body.username, email: body.email, superuser: body.superuser ?? false });
      await upsertAccounts(ctx.store, AUDIT_SOURCE, [{ name: body.username, kind: 'user', email: body.email }]);
      ctx.accounts.forget(body.username);
      ctx.auth.invalidate();
      return reply.code(201).send({ username: body.username, email: body.email, superuser: body.superuser ?? false });
    },
  );

  R.define(
    app,
    {
      method: 'PUT',
      url: '/api/v1/superuser/users/:username/grants',
      operationId: 'setQuaylogsUserGrants',
      tag: 'superuser',
      extension: true,
      description: 'Replaces the organizations and repositories (namespace/name) a quaylogs user administers.',
      scope: 'super:user',
      params: pathParams({ username: 'The quaylogs username' }),
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          organizations: { type: 'array', maxItems: 10000, items: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^/\\s]+$' } },
          repositories: { type: 'array', maxItems: 10000, items: { type: 'string', pattern: '^[^/\\s]+/[^\\s]+$', maxLength: 511 } },
        },
      },
      bodyName: 'QuaylogsUserGrants',
    },
    async (req) => {
      await requireSuperuser(ctx, req);
      const { username } = req.params;
      if (!(await getUser(ctx.store, username))) throw notFound();
      const body = req.body;
      const grants = { organizations: [...new Set(body.organizations ?? [])], repositories: [...new Set(body.repositories ?? [])] };
      await putGrants(ctx.store, username, grants);
      ctx.auth.invalidate();
      return { username, ...grants };
    },
  );

  R.define(
    app,
    {
      method: 'POST',
      url: '/api/v1/superuser/users/:username/apptoken',
      operationId: 'createQuaylogsUserAppToken',
      tag: 'superuser',
      extension: true,
      description: 'Creates an app token for a quaylogs user (answers like POST /api/v1/user/apptoken).',
      scope: 'super:user',
      params: pathParams({ username: 'The quaylogs username' }),
      body: titleBody,
      bodyName: 'NewToken',
    },
    async (req) => {
      const p = await requireSuperuser(ctx, req);
      const { username } = req.params;
      if (!(await getUser(ctx.store, username))) throw notFound();
      const { title } = req.body;
      return createAppToken(ctx, username, title, { performer: p.username, ip: req.ip });
    },
  );
}

export { invalidRequest };
