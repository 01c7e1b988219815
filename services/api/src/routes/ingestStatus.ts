/**
 * GET /api/v1/superuser/ingest (quaylogs extension): how ingestion is doing — per
 * source the newest entry, its lag and the entries of the last hour; the ingest
 * stream's length and pending entries; the dead letters. Superusers only.
 *
 * The status itself is computed by `ingestStatus` in @quaylogs/ingest; the process that
 * builds the app passes it in, so the API does not depend on the ingest service.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { forbidden, unauthenticated } from '../httpErrors.ts';

export interface IngestStatusDeps {
  /** Computes the status document (e.g. `() => ingestStatus(store, redis)`). */
  status: () => Promise<object>;
}

export function ingestStatusPlugin(deps: IngestStatusDeps): (app: FastifyInstance, ctx: AppContext) => void {
  return (app, ctx) => {
    ctx.registry.define(
      app,
      {
        method: 'GET',
        url: '/api/v1/superuser/ingest',
        operationId: 'getIngestStatus',
        tag: 'quaylogs',
        extension: true,
        description:
          'Ingestion status: per source the newest entry, its lag and the entries of the last hour; ' +
          'the ingest stream length, pending entries and dead letters.',
        scope: 'super:user',
      },
      async (req) => {
        const p = await ctx.auth.principal(req);
        if (!p) throw unauthenticated();
        if (!p.superuser) throw forbidden();
        return deps.status();
      },
    );
  };
}
