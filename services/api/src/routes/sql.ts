/**
 * POST /api/v1/superuser/sql (quaylogs extension): a read-only SQL query against
 * the store, for superusers. It is how `quaylogs sql` reaches an embedded store
 * that a running `quaylogs up` holds. The engine decides what the statement is
 * (readOnlySql.ts); adhocSql.ts runs it under its limits.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { AdhocSqlError, DEFAULT_ADHOC_LIMITS, runAdhocSql, SQL_MAX_ROWS } from '../adhocSql.ts';
import { ApiError, forbidden, invalidRequest, unauthenticated } from '../httpErrors.ts';

export function registerSqlRoute(app: FastifyInstance, ctx: AppContext): void {
  const limits = { ...DEFAULT_ADHOC_LIMITS, timeoutS: ctx.config.QUAYLOGS_QUERY_TIMEOUT_S };
  ctx.registry.define(
    app,
    {
      method: 'POST',
      url: '/api/v1/superuser/sql',
      operationId: 'runReadOnlySql',
      tag: 'quaylogs',
      extension: true,
      description:
        `Runs one read-only SQL statement (SELECT, WITH … SELECT, DESCRIBE, SHOW TABLES) over the documented tables and returns ` +
        `at most ${SQL_MAX_ROWS} rows; \`truncated\` is true when the statement had more.`,
      scope: 'super:user',
      body: {
        type: 'object',
        required: ['query'],
        additionalProperties: false,
        properties: { query: { type: 'string', minLength: 1, maxLength: 100_000, description: 'The SQL statement' } },
      },
      bodyName: 'ReadOnlySql',
    },
    async (req) => {
      const p = await ctx.auth.principal(req);
      if (!p) throw unauthenticated();
      if (!p.superuser) throw forbidden();
      const { query } = req.body;
      try {
        return await runAdhocSql(ctx.store, query, limits);
      } catch (err) {
        if (!(err instanceof AdhocSqlError)) throw err;
        if (err.status === 429) throw new ApiError(429, 'invalid_request', err.message);
        throw invalidRequest(err.message);
      }
    },
  );
}
