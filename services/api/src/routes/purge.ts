/**
 * POST /api/v1/superuser/purge (quaylogs extension): erases every entry of a performer, or
 * of a namespace (or of a performer in a namespace), optionally only before a date —
 * the right to erasure. Superusers only. The work (delete, rollup correction, audit) is
 * the ingestion service's `purgeEntries`, handed in by the runtime; this route validates,
 * authorizes and answers what was erased. `quaylogs purge` calls it while `up` runs.
 */
import { parseQuayDate } from '@quaylogs/core';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { forbidden, invalidRequest, unauthenticated } from '../httpErrors.ts';

export interface PurgeRequest {
  performer?: string;
  namespace?: string;
  source?: string;
  before?: Date;
  requestedBy: string;
}

export interface PurgeAnswer {
  purge_id: string;
  rows_deleted: number;
  rounds: number;
  days: string[];
}

export interface PurgeDeps {
  /** Erases and audits; throws an Error whose message is the caller's fault for refusals. */
  purge(req: PurgeRequest): Promise<PurgeAnswer>;
  /** Errors of this class are answered 400 with their message (e.g. PurgeError). */
  refusal: new (...args: never[]) => Error;
}

const name = { type: 'string', minLength: 1, maxLength: 255 } as const;

export function purgePlugin(deps: PurgeDeps): (app: FastifyInstance, ctx: AppContext) => void {
  return (app, ctx) => {
    ctx.registry.define(
      app,
      {
        method: 'POST',
        url: '/api/v1/superuser/purge',
        operationId: 'purgeLogs',
        tag: 'quaylogs',
        extension: true,
        description:
          'Erases every stored entry of a performer, of a namespace, or of a performer in a namespace, optionally only ' +
          'entries before a date (MM/DD/YYYY or ISO-8601, UTC); the daily rollups are corrected for exactly the erased ' +
          'entries and the erasure is audited in the data_purges table. Safe while ingestion runs.',
        scope: 'super:user',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            performer: { ...name, description: 'Erase this performer’s entries' },
            namespace: { ...name, description: 'Erase this namespace’s entries (only the performer’s when both are given)' },
            source: { ...name, description: 'Only entries of this source (registry)' },
            before: { type: 'string', minLength: 1, maxLength: 64, description: 'Only entries before this date' },
          },
        },
        bodyName: 'PurgeLogs',
      },
      async (req) => {
        const p = await ctx.auth.principal(req);
        if (!p) throw unauthenticated();
        if (!p.superuser) throw forbidden();
        const body = req.body;
        if (body.performer === undefined && body.namespace === undefined) throw invalidRequest('Give a performer, a namespace, or both');
        let before: Date | undefined;
        if (body.before !== undefined) {
          const parsed = parseQuayDate(body.before);
          if (!parsed) throw invalidRequest(`Invalid date for before: ${body.before}`);
          before = parsed.at;
        }
        try {
          const res = await deps.purge({
            requestedBy: p.username,
            ...(body.performer !== undefined ? { performer: body.performer } : {}),
            ...(body.namespace !== undefined ? { namespace: body.namespace } : {}),
            ...(body.source !== undefined ? { source: body.source } : {}),
            ...(before ? { before } : {}),
          });
          req.log.warn({ purge_id: res.purge_id, rows_deleted: res.rows_deleted, by: p.username }, 'purge: entries erased');
          return res;
        } catch (err) {
          if (err instanceof deps.refusal) throw invalidRequest(err.message);
          throw err;
        }
      },
    );
  };
}
