/**
 * The Fastify application: Quay-compatible /api/v1 routes, health, and Quay's
 * error bodies for every 4xx. No input produces a 500: validation runs before
 * handlers, and handlers raise typed errors.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { insertUsageLogs } from '@quaylogs/clickhouse';
import type { QuaylogsConfig } from '@quaylogs/config';
import { MSG_BAD_REQUEST_GENERIC, quayApiError, randomEventKey } from '@quaylogs/core';
import { Authenticator } from './auth.ts';
import { AccountCache } from './accountCache.ts';
import type { LogPageCache } from './logPageCache.ts';
import { type AppContext, type AuditWriter, baseUrl } from './context.ts';
import { installEdgeChecks } from './edgeChecks.ts';
import { ApiError, MessageError } from './httpErrors.ts';
import { type Metrics, registerMetrics } from './metrics.ts';
import { RouteRegistry } from './routeRegistry.ts';
import { registerAppTokenRoutes } from './routes/appTokens.ts';
import { registerConsoleRoutes } from './routes/console.ts';
import { registerDiscoveryRoutes } from './routes/discovery.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerLogRoutes } from './routes/logs.ts';
import { registerSplunkSearch } from './routes/splunkSearch.ts';
import { registerSqlRoute } from './routes/sql.ts';

export interface BuildAppOptions {
  store: ClickHouseStore;
  config: QuaylogsConfig;
  secret: string;
  /** Where quaylogs' own audit entries go (default: straight into usage_logs). */
  audit?: AuditWriter;
  /** Fastify's logger options, or a pino logger to use as is (the CLI's: pretty on a terminal, JSON otherwise). */
  logger?: boolean | object | FastifyBaseLogger;
  /**
   * More routes, registered after the built-in ones and before the app is ready
   * (HEC receiver, exports, ingest status…). Each gets the shared context.
   */
  plugins?: ((app: FastifyInstance, ctx: AppContext) => void | Promise<void>)[];
  /** Prometheus metrics served at /metrics (none when absent). */
  metrics?: Metrics;
  /** More dependencies /readyz checks besides the store (e.g. `redis`). */
  readiness?: Record<string, () => Promise<boolean>>;
  /** The clock logs pages plan their reads by (default: the system clock); it changes no answer. */
  now?: () => Date;
  /** Cache of /logs pages, first and read ahead (needs the loader's log generations in Redis); none when absent. */
  logPageCache?: LogPageCache;
}

export const JSON_BODY_LIMIT = 1024 * 1024;

/** Audit entries inserted directly into the store, without a loader (buildApp's default; `up` and `api` use streamAuditWriter). */
export function directAuditWriter(store: ClickHouseStore): AuditWriter {
  return {
    async write(entries) {
      await insertUsageLogs(
        store,
        entries.map((e) => ({ ...e, event_key: randomEventKey() })),
      );
    },
  };
}

function isLogger(l: unknown): l is FastifyBaseLogger {
  return typeof l === 'object' && l !== null && typeof (l as { child?: unknown }).child === 'function';
}

export async function buildApp(opts: BuildAppOptions): Promise<{ app: FastifyInstance; ctx: AppContext }> {
  const app = Fastify({
    ...(isLogger(opts.logger) ? { loggerInstance: opts.logger } : { logger: opts.logger ?? false }),
    bodyLimit: JSON_BODY_LIMIT,
    trustProxy: opts.config.QUAYLOGS_TRUST_PROXY,
    // Quay ignores unknown query parameters; keep strings as strings.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // Fastify's own two lines per request are replaced by the one access line below.
    disableRequestLogging: true,
    genReqId: () => crypto.randomUUID(),
  }) as unknown as FastifyInstance;
  const ctx: AppContext = {
    store: opts.store,
    config: opts.config,
    secret: opts.secret,
    registry: new RouteRegistry(),
    auth: new Authenticator(opts.store),
    audit: opts.audit ?? directAuditWriter(opts.store),
    shuttingDown: false,
    readiness: opts.readiness ?? {},
    now: opts.now ?? (() => new Date()),
    ...(opts.logPageCache ? { logPageCache: opts.logPageCache } : {}),
    accounts: new AccountCache(),
  };

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const base = baseUrl(ctx, req);
    if (err instanceof ApiError) {
      return reply.code(err.status).send({ ...err.extra, ...quayApiError(err.errorType, err.message, base, err.status) });
    }
    if (err instanceof MessageError) return reply.code(err.status).send({ message: err.message });
    if (err.validation) {
      const detail = `${err.validationContext ?? 'request'} ${err.validation[0]?.instancePath ?? ''} ${err.validation[0]?.message ?? 'is invalid'}`
        .replace(/\s+/g, ' ')
        .trim();
      return reply.code(400).send(quayApiError('invalid_request', detail, base, 400));
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({
        message: "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.",
      });
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ message: `Request body is larger than ${JSON_BODY_LIMIT} bytes` });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Malformed JSON, empty JSON body, bad Content-Length…: Flask's generic 400.
      return reply.code(status).send({ message: status === 400 ? MSG_BAD_REQUEST_GENERIC : err.message });
    }
    req.log.error({ err }, 'request failed');
    if (ctx.shuttingDown) return reply.code(503).send({ message: 'quaylogs is shutting down' });
    return reply.code(500).send({ message: 'Internal Server Error' });
  });

  installEdgeChecks(app);
  // One access line per request, once the response is sent; the path without its query
  // string, which can carry signed download links.
  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      { method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request',
    );
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(quayApiError('not_found', 'Not Found', baseUrl(ctx, req), 404));
  });

  if (opts.metrics) registerMetrics(app, opts.metrics);
  registerHealthRoutes(app, ctx);
  registerLogRoutes(app, ctx);
  registerAppTokenRoutes(app, ctx);
  registerSqlRoute(app, ctx);
  registerConsoleRoutes(app, ctx);
  registerSplunkSearch(app, ctx);
  for (const plugin of opts.plugins ?? []) await plugin(app, ctx);
  registerDiscoveryRoutes(app, ctx);
  await app.ready();
  return { app, ctx };
}
