/**
 * Dead letters over HTTP (quaylogs extensions, superusers only), what `quaylogs
 * deadletter list|replay` does: GET /api/v1/superuser/deadletters lists them with the
 * reason and payload; POST /api/v1/superuser/deadletters/replay puts the named ones (or
 * all) back into the ingest stream. The functions come from @quaylogs/ingest through
 * the process that builds the app, so the API does not depend on the ingest service.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { forbidden, unauthenticated } from '../httpErrors.ts';

export interface DeadLetterView {
  id: string;
  originalId: string;
  reason: string;
  consumer: string;
  at: string;
  payload: string;
}

export interface PipelineDeps {
  listDeadLetters: (opts: { limit: number; after?: string }) => Promise<DeadLetterView[]>;
  countDeadLetters: () => Promise<number>;
  replayDeadLetters: (opts: { ids?: readonly string[] }) => Promise<{ replayed: number; missing: string[] }>;
}

const STREAM_ID = '^[0-9]{1,20}-[0-9]{1,20}$';
/** A payload is shown up to this many characters (the CLI has the whole thing). */
const PAYLOAD_PREVIEW = 20_000;

export function pipelinePlugin(deps: PipelineDeps): (app: FastifyInstance, ctx: AppContext) => void {
  return (app, ctx) => {
    const superuser = async (req: Parameters<AppContext['auth']['principal']>[0]) => {
      const p = await ctx.auth.principal(req);
      if (!p) throw unauthenticated();
      if (!p.superuser) throw forbidden();
      return p;
    };

    ctx.registry.define(
      app,
      {
        method: 'GET',
        url: '/api/v1/superuser/deadletters',
        operationId: 'listDeadLetters',
        tag: 'quaylogs',
        extension: true,
        description: 'Ingest entries the loader could not store, oldest first, with the reason and the original payload.',
        scope: 'super:user',
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: 'How many (1–999, default 100)' },
            after: { type: 'string', pattern: STREAM_ID, description: 'Continue after this dead-letter id' },
          },
        },
      },
      async (req) => {
        await superuser(req);
        const q = req.query;
        const [items, total] = await Promise.all([
          deps.listDeadLetters({ limit: q.limit ? Number(q.limit) : 100, ...(q.after ? { after: q.after } : {}) }),
          deps.countDeadLetters(),
        ]);
        return {
          total,
          dead_letters: items.map((d) => ({
            id: d.id,
            original_id: d.originalId,
            reason: d.reason,
            consumer: d.consumer,
            at: d.at,
            payload: d.payload.length > PAYLOAD_PREVIEW ? `${d.payload.slice(0, PAYLOAD_PREVIEW)}…` : d.payload,
            payload_bytes: Buffer.byteLength(d.payload),
          })),
        };
      },
    );

    ctx.registry.define(
      app,
      {
        method: 'POST',
        url: '/api/v1/superuser/deadletters/replay',
        operationId: 'replayDeadLetters',
        tag: 'quaylogs',
        extension: true,
        description: 'Puts dead letters back into the ingest stream (the listed ids, or every one when `all` is true).',
        scope: 'super:user',
        bodyName: 'ReplayDeadLetters',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ids: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', pattern: STREAM_ID } },
            all: { type: 'boolean', description: 'Replay every dead letter' },
          },
          oneOf: [{ required: ['ids'] }, { required: ['all'], properties: { all: { const: true } } }],
        },
      },
      async (req) => {
        const p = await superuser(req);
        const body = req.body;
        const res = await deps.replayDeadLetters(body.ids ? { ids: body.ids } : {});
        req.log.info({ audit: 'replay_dead_letters', performer: p.username, replayed: res.replayed }, 'dead letters replayed');
        return { replayed: res.replayed, missing: res.missing };
      },
    );
  };
}
