/**
 * Quay's global messages (endpoints/api/globalmessages.py): GET /api/v1/messages for
 * anyone, POST /api/v1/messages and DELETE /api/v1/message/{uuid} for superusers.
 * Same bodies and codes as Quay: POST answers 201 with an empty body, DELETE 204 even
 * for a uuid that no longer exists. Quay writes no usage-log entry for either (there is
 * no log kind for it); quaylogs records who created or deleted which message in its
 * structured server log.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { deleteGlobalMessage, getGlobalMessage, listGlobalMessages, putGlobalMessage } from '@quaylogs/clickhouse';
import type { MessageMediaType, MessageSeverity } from '@quaylogs/clickhouse';
import type { AppContext } from '../context.ts';
import { forbidden, unauthenticated } from '../httpErrors.ts';
import { pathParams } from '../routeRegistry.ts';

const MEDIA_TYPES = ['text/plain', 'text/markdown'] as const satisfies readonly MessageMediaType[];
const SEVERITIES = ['info', 'warning', 'error'] as const satisfies readonly MessageSeverity[];
/** Quay stores content in a TEXT column; quaylogs bounds it so a banner stays a banner. */
const MAX_CONTENT = 10_000;

export function registerGlobalMessageRoutes(app: FastifyInstance, ctx: AppContext): void {
  const R = ctx.registry;

  R.define(
    app,
    {
      method: 'GET',
      url: '/api/v1/messages',
      operationId: 'getGlobalMessages',
      tag: 'globalmessages',
      description: 'Return a super users messages.',
      scope: null,
    },
    async () => ({
      messages: (await listGlobalMessages(ctx.store)).map((m) => ({
        uuid: m.uuid,
        content: m.content,
        severity: m.severity,
        media_type: m.media_type,
      })),
    }),
  );

  R.define(
    app,
    {
      method: 'POST',
      url: '/api/v1/messages',
      operationId: 'createGlobalMessage',
      tag: 'globalmessages',
      description: 'Create a message.',
      scope: 'super:user',
      bodyName: 'CreateMessage',
      body: {
        type: 'object',
        description: 'Create a new message',
        required: ['message'],
        properties: {
          message: {
            type: 'object',
            description: 'A single message',
            required: ['content', 'media_type', 'severity'],
            properties: {
              content: { type: 'string', minLength: 1, maxLength: MAX_CONTENT, description: 'The actual message' },
              media_type: { type: 'string', enum: MEDIA_TYPES, description: 'The media type of the message' },
              severity: { type: 'string', enum: SEVERITIES, description: 'The severity of the message' },
            },
          },
        },
      },
      success: { status: 201, description: 'Successful creation' },
    },
    async (req, reply) => {
      const p = await ctx.auth.principal(req);
      if (!p) throw unauthenticated();
      if (!p.superuser) throw forbidden();
      const { message } = req.body;
      const uuid = randomUUID();
      await putGlobalMessage(ctx.store, { uuid, ...message, created_by: p.username, created: new Date() });
      req.log.info({ audit: 'create_global_message', uuid, performer: p.username, severity: message.severity }, 'global message created');
      return reply.code(201).type('text/html; charset=utf-8').send('');
    },
  );

  R.define(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/message/:uuid',
      operationId: 'deleteGlobalMessage',
      tag: 'globalmessages',
      description: 'Delete a message.',
      scope: 'super:user',
      params: pathParams({ uuid: 'The uuid of the message' }),
      success: { status: 204, description: 'Deleted' },
    },
    async (req, reply) => {
      const p = await ctx.auth.principal(req);
      if (!p) throw unauthenticated();
      if (!p.superuser) throw forbidden();
      const { uuid } = req.params;
      const m = await getGlobalMessage(ctx.store, uuid);
      if (m) {
        await deleteGlobalMessage(ctx.store, m);
        req.log.info({ audit: 'delete_global_message', uuid, performer: p.username }, 'global message deleted');
      }
      return reply.code(204).send();
    },
  );
}
