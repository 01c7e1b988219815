/**
 * POST /api/v1/superuser/sql (quaylogs extension): a read-only SQL query against
 * the store, for superusers. It is how `quaylogs sql` reaches an embedded store
 * that a running `quaylogs up` holds.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { forbidden, invalidRequest, unauthenticated } from '../httpErrors.ts';
import { checkReadOnlySql, SQL_MAX_ROWS } from '../readOnlySql.ts';

export function registerSqlRoute(app: FastifyInstance, ctx: AppContext): void {
  ctx.registry.define(
    app,
    {
      method: 'POST',
      url: '/api/v1/superuser/sql',
      operationId: 'runReadOnlySql',
      tag: 'quaylogs',
      extension: true,
      description: `Runs one read-only SQL statement (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN) and returns at most ${SQL_MAX_ROWS} rows.`,
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
      const { query } = req.body as { query: string };
      const checked = checkReadOnlySql(query);
      if (!checked.ok) throw invalidRequest(checked.reason);
      try {
        const rows = await ctx.store.query({ name: 'sql.adhoc', sql: checked.sql, settings: checked.settings });
        return { rows, row_count: rows.length, truncated: rows.length >= SQL_MAX_ROWS };
      } catch (err) {
        // The engine rejected the statement (syntax, unknown table, readonly…): the caller's error, not ours.
        throw invalidRequest(String((err as Error).message).split('\n')[0]!.slice(0, 2000));
      }
    },
  );
}
