/**
 * Runs the roles a process was asked for (QUAYLOGS_ROLES, or `quaylogs api` /
 * `quaylogs worker --roles …`): the API (Quay's routes, the HEC receiver, exports
 * and ingest status), the loader, the poller and the exporter. All-in-one (`up`)
 * runs them all in one process against the embedded store.
 *
 * Shutdown, on SIGTERM, in order and under one deadline: readiness fails, the
 * HTTP server stops accepting and drains, the poller and exporter finish their
 * active jobs, the loader stores and acknowledges the batch in hand, then Redis
 * and the store close.
 */
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { buildApp, createMetrics, ensureBootstrapAdmin, exportsPlugin, hecPlugin, ingestStatusPlugin, LogPageCache, parseHecTokens } from '@quaylogs/api';
import type { AppContext, AuditWriter } from '@quaylogs/api';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import type { QuaylogsConfig } from '@quaylogs/config';
import { randomEventKey } from '@quaylogs/core';
import { startExporter } from '@quaylogs/exporter';
import { ingestStatus, loadSourcesConfig, pendingEntries, startLoader, startPoller } from '@quaylogs/ingest';
import { Queue } from 'bullmq';
import {
  appendIngestBatch,
  DEADLETTER_STREAM,
  ingestBacklog,
  closeBullmq,
  QUEUES,
  quitRedis,
  type Redis,
  redisForProducers,
  redisForWorkers,
} from '@quaylogs/queue';
import { type LocalRedis, startLocalRedis } from './localRedis.ts';

export const ROLES = ['api', 'loader', 'poller', 'exporter'] as const;
export type Role = (typeof ROLES)[number];

export function parseRoles(spec: string): Role[] {
  const roles = spec
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  for (const r of roles) {
    if (!(ROLES as readonly string[]).includes(r)) throw new Error(`unknown role "${r}" (roles: ${ROLES.join(', ')})`);
  }
  if (roles.length === 0) throw new Error(`no roles given (roles: ${ROLES.join(', ')})`);
  return [...new Set(roles)] as Role[];
}

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface Running {
  app: FastifyInstance | null;
  ctx: AppContext | null;
  backend: string;
  port: number | null;
  stop(): Promise<void>;
  /** Readiness fails from now on. */
  beginShutdown(): void;
}

/** quaylogs' own audit entries go through the ingest stream, like every other entry. */
function streamAuditWriter(redis: Redis): AuditWriter {
  return {
    async write(entries) {
      if (entries.length === 0) return;
      await appendIngestBatch(redis, {
        v: 1,
        origin: 'api',
        source: entries[0]!.source,
        rows: entries.map((e) => ({ ...e, event_key: randomEventKey() })),
      });
    },
  };
}

export async function startRoles(opts: {
  cfg: QuaylogsConfig;
  store: ClickHouseStore;
  secret: string;
  roles: Role[];
  log: Logger;
  bootstrapToken: string;
}): Promise<Running> {
  const { cfg, store, secret, roles, log } = opts;
  let local: LocalRedis | null = null;
  const redisUrl = cfg.REDIS_URL ?? (local = await startLocalRedis(cfg.QUAYLOGS_DATA_DIR)).url;
  const connections: Redis[] = [];
  const producer = redisForProducers(redisUrl);
  const worker = () => {
    const r = redisForWorkers(redisUrl);
    connections.push(r);
    return r;
  };
  connections.push(producer);
  const consumer = `${hostname()}-${process.pid}`;
  const stops: { name: string; stop: () => Promise<void> }[] = [];

  const listenHost = cfg.QUAYLOGS_HOST === '0.0.0.0' ? '127.0.0.1' : cfg.QUAYLOGS_HOST;
  const publicBase = cfg.QUAYLOGS_SERVER_HOSTNAME
    ? `${cfg.QUAYLOGS_PREFERRED_URL_SCHEME}://${cfg.QUAYLOGS_SERVER_HOSTNAME}`
    : `${cfg.QUAYLOGS_PREFERRED_URL_SCHEME}://${listenHost}:${cfg.QUAYLOGS_PORT}`;

  const metrics = createMetrics();
  metrics.gaugeFromScrape('quaylogs_ingest_stream_entries', 'Ingest stream entries not yet stored', [], async () => [
    { value: await ingestBacklog(producer) },
  ]);
  metrics.gaugeFromScrape('quaylogs_ingest_pending_entries', 'Ingest stream entries in an insert a loader started, not yet acknowledged', [], async () => [
    { value: await pendingEntries(producer) },
  ]);
  metrics.gaugeFromScrape('quaylogs_ingest_dead_letters', 'Entries the loader could not store', [], async () => [
    { value: await producer.xlen(DEADLETTER_STREAM) },
  ]);
  const queues = [QUEUES.poll.name, QUEUES.exportlogs.name, QUEUES.exportDeliveries.name].map((name) => new Queue(name, { connection: producer }));
  metrics.gaugeFromScrape('quaylogs_queue_jobs', 'BullMQ jobs by queue and state (failed = the bounded dead-letter set)', ['queue', 'state'], async () => {
    const out: { labels: Record<string, string>; value: number }[] = [];
    for (const q of queues) {
      const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      for (const [state, value] of Object.entries(counts)) out.push({ labels: { queue: q.name, state }, value });
    }
    return out;
  });
  stops.push({ name: 'metrics queues', stop: async () => void (await Promise.all(queues.map((q) => closeBullmq(q)))) });

  // Workers first (they hold no port), then the API, so requests are served only once
  // everything behind them runs. They stop in the reverse order.
  if (roles.includes('loader')) {
    const loader = startLoader({
      redis: worker(),
      store,
      consumer,
      batchRows: cfg.QUAYLOGS_LOADER_BATCH_ROWS,
      batchMs: cfg.QUAYLOGS_LOADER_BATCH_MS,
      log: (obj, msg) => log.info({ role: 'loader', ...obj }, msg),
      onBatch: (b) => {
        metrics.loaderRows.inc({ outcome: 'inserted' }, b.inserted);
        metrics.loaderRows.inc({ outcome: 'duplicate' }, b.duplicates);
        metrics.loaderBatchSeconds.observe(b.ms / 1000);
      },
    });
    stops.push({ name: 'loader', stop: () => loader.stop() });
  }
  if (roles.includes('exporter')) {
    const exporter = await startExporter({ redis: worker(), store, config: cfg, log: log as never, baseUrl: publicBase, secret });
    stops.push({ name: 'exporter', stop: () => exporter.stop() });
  }
  if (roles.includes('poller')) {
    if (cfg.QUAYLOGS_CONFIG) {
      const sources = await loadSourcesConfig(cfg.QUAYLOGS_CONFIG);
      const poller = await startPoller({ redis: worker(), store, sources, log });
      stops.push({ name: 'poller', stop: () => poller.close() });
      log.info({ sources: sources.map((s) => s.name) }, 'poller started');
    } else {
      log.info({}, 'poller: no QUAYLOGS_CONFIG, no Quay source to poll');
    }
  }

  let app: FastifyInstance | null = null;
  let ctx: AppContext | null = null;
  let port: number | null = null;
  if (roles.includes('api')) {
    const plugins = [
      exportsPlugin({ redis: producer }),
      ingestStatusPlugin({ status: () => ingestStatus(store, producer) }),
    ];
    const tokens = parseHecTokens(cfg.QUAYLOGS_HEC_TOKENS);
    if (tokens.size > 0) plugins.push(hecPlugin({ redis: producer, tokens, maxBodyBytes: cfg.QUAYLOGS_HEC_MAX_BODY_BYTES }));
    const logPageCache = cfg.QUAYLOGS_LOGS_PAGE_CACHE > 0 ? new LogPageCache({ redis: producer, maxEntries: cfg.QUAYLOGS_LOGS_PAGE_CACHE }) : undefined;
    if (logPageCache) {
      metrics.gaugeFromScrape('quaylogs_logs_page_cache_requests', 'First /logs pages served from the page cache (hit) or the store (miss) since start', ['result'], async () => [
        { labels: { result: 'hit' }, value: logPageCache.hits },
        { labels: { result: 'miss' }, value: logPageCache.misses },
      ]);
    }
    const built = await buildApp({
      store,
      config: cfg,
      secret,
      ...(logPageCache ? { logPageCache } : {}),
      audit: streamAuditWriter(producer),
      metrics,
      readiness: { redis: async () => (await producer.ping()) === 'PONG' },
      logger: { level: cfg.QUAYLOGS_LOG_LEVEL, redact: ['req.headers.authorization', 'req.headers["x-splunk-request-channel"]'] },
      plugins,
    });
    app = built.app;
    ctx = built.ctx;
    await ensureBootstrapAdmin(ctx, opts.bootstrapToken);
    await app.listen({ host: cfg.QUAYLOGS_HOST, port: cfg.QUAYLOGS_PORT });
    const addr = app.server.address();
    port = typeof addr === 'object' && addr ? addr.port : cfg.QUAYLOGS_PORT;
  }

  return {
    app,
    ctx,
    backend: store.backend,
    port,
    beginShutdown() {
      if (ctx) ctx.shuttingDown = true;
    },
    async stop() {
      if (ctx) ctx.shuttingDown = true;
      if (app) await app.close();
      for (const s of stops.reverse()) {
        await s.stop().catch((err) => log.error({ err, role: s.name }, 'stop failed'));
      }
      await Promise.all(connections.map((c) => quitRedis(c)));
      if (local) await local.stop();
    },
  };
}
