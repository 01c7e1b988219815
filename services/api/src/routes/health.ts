import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';

/** /healthz: the process is alive. /readyz: the store and every other dependency answer, and shutdown has not begun. */
export function registerHealthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (ctx.shuttingDown) return reply.code(503).send({ status: 'shutting down' });
    const checks: Record<string, () => Promise<boolean>> = { clickhouse: () => ctx.store.ping(), ...ctx.readiness };
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        const ok = await Promise.race([
          check().catch(() => false),
          new Promise<boolean>((r) => setTimeout(() => r(false), 2_000).unref()),
        ]);
        return [name, ok] as const;
      }),
    );
    const down = results.filter(([, ok]) => !ok).map(([name]) => name);
    return down.length === 0 ? { status: 'ready' } : reply.code(503).send({ status: `${down.join(', ')} unreachable` });
  });
}
