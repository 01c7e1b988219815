/**
 * GET /api/v1/discovery (Swagger 2.0, generated from the route registry) and
 * GET /api/v1/error/{error_type} (Quay's error descriptions). Both anonymous, as in Quay.
 */
import type { FastifyInstance } from 'fastify';
import { quayErrorDescription } from '@quaylogs/core';
import { type AppContext, baseUrl } from '../context.ts';
import { buildDiscoveryDocument } from '../discovery.ts';
import { notFound } from '../httpErrors.ts';
import { pathParams, truthyBool } from '../routeRegistry.ts';

export function registerDiscoveryRoutes(app: FastifyInstance, ctx: AppContext): void {
  ctx.registry.define(
    app,
    {
      method: 'GET',
      url: '/api/v1/discovery',
      operationId: 'discovery',
      tag: 'discovery',
      description: 'List all of the API endpoints available in the swagger API format.',
      scope: null,
      querystring: {
        type: 'object',
        properties: { internal: { type: 'string', description: 'Whether to include internal APIs.' } },
      },
    },
    async (req) => {
      const q = req.query;
      const url = new URL(baseUrl(ctx, req));
      return buildDiscoveryDocument(ctx.registry.routes, {
        host: url.host,
        scheme: ctx.config.QUAYLOGS_PREFERRED_URL_SCHEME,
        internal: q.internal !== undefined && truthyBool(q.internal),
        tagDescriptions: {
          logs: 'Access usage logs for organizations or repositories.',
          superuser: 'Superuser API.',
          appspecifictokens: 'Manages app specific tokens for the current user.',
          discovery: 'API discovery information.',
          error: 'Error details API.',
          quaylogs: 'quaylogs extensions: ad-hoc SQL and ingestion status.',
        },
      });
    },
  );

  ctx.registry.define(
    app,
    {
      method: 'GET',
      url: '/api/v1/error/:error_type',
      operationId: 'getErrorDescription',
      tag: 'error',
      description: 'Get a detailed description of the error.',
      scope: null,
      params: pathParams({ error_type: 'The error code identifying the type of error.' }),
    },
    async (req) => {
      const { error_type } = req.params;
      const body = quayErrorDescription(error_type, baseUrl(ctx, req));
      if (!body) throw notFound();
      return body;
    },
  );
}
