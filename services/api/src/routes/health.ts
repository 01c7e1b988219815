import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';

/** /healthz: the process is alive. /readyz: the store answers and shutdown has not begun. */
export function registerHealthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (ctx.shuttingDown) return reply.code(503).send({ status: 'shutting down' });
    const ok = await ctx.store.ping().catch(() => false);
    return ok ? { status: 'ready' } : reply.code(503).send({ status: 'clickhouse unreachable' });
  });
}
