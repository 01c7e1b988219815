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
import {
  buildApp,
  createMetrics,
  ensureBootstrapAdmin,
  exportsPlugin,
  hecPlugin,
  ingestStatusPlugin,
  LogPageCache,
  parseHecTokens,
  pipelinePlugin,
  purgePlugin,
  serverLoadsPlugin,
  startIsolatedReceiver,
  streamAuditWriter,
} from '@quaylogs/api';
import type { IsolatedReceiver } from '@quaylogs/api';
import { consolePlugin } from '@quaylogs/console';
import { startClickHouseHttp } from './clickhouseHttp.ts';
import type { AppContext } from '@quaylogs/api';
import type { ClickHouseStore, RetentionPolicy } from '@quaylogs/clickhouse';
import type { QuaylogsConfig } from '@quaylogs/config';
import { startExporter } from '@quaylogs/exporter';
import {
  countDeadLetters,
  ImportError,
  importFile,
  importQuayDb,
  ingestStatus,
  listDeadLetters,
  loadSourcesConfig,
  pendingEntries,
  PurgeError,
  purgeEntries,
  resumePurge,
  unfinishedPurges,
  replayDeadLetters,
  startLoader,
  startPoller,
} from '@quaylogs/ingest';
import {
  bumpLogGenerations,
  DEADLETTER_STREAM,
  ingestBacklog,
  closeBullmq,
  QUEUES,
  quitRedis,
  type Redis,
  redisForProducers,
  redisForWorkers,
} from '@quaylogs/queue';
import type { Logger } from 'pino';
import { loadDemo, storeIsEmpty } from './demoLoad.ts';
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

export type { Logger } from 'pino';

export interface Running {
  app: FastifyInstance | null;
  ctx: AppContext | null;
  backend: string;
  port: number | null;
  stop(): Promise<void>;
  /** Readiness fails from now on. */
  beginShutdown(): void;
}

export async function startRoles(opts: {
  cfg: QuaylogsConfig;
  store: ClickHouseStore;
  secret: string;
  roles: Role[];
  log: Logger;
  bootstrapToken: string;
  /** Shown per source by the ingest status route. */
  retention?: RetentionPolicy;
}): Promise<Running> {
  const { cfg, store, secret, roles, log } = opts;
  let local: LocalRedis | null = null;
  const redisUrl = cfg.REDIS_URL ?? (local = await startLocalRedis(cfg.QUAYLOGS_DATA_DIR)).url;
  const connections: Redis[] = [];
  // Every connection reports its errors through the log (once per distinct error), never
  // as ioredis' "Unhandled error event"; they reconnect on their own.
  let lastRedisError = '';
  const watch = (r: Redis): Redis => {
    r.on('error', (err: Error) => {
      if (err.message === lastRedisError) return;
      lastRedisError = err.message;
      log.warn({ err: err.message }, 'redis: connection error, reconnecting');
    });
    r.on('ready', () => (lastRedisError = ''));
    return r;
  };
  const producer = watch(redisForProducers(redisUrl));
  const worker = () => {
    const r = watch(redisForWorkers(redisUrl));
    connections.push(r);
    return r;
  };
  connections.push(producer);
  const consumer = `${hostname()}-${process.pid}`;
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  /** Stops what started, in reverse order, then closes Redis (and the redis-server quaylogs started). */
  const delay = <T>(ms: number, value: T) => new Promise<T>((r) => setTimeout(r, ms, value).unref());
  const pingWithin = (r: Redis, ms: number) => Promise.race([r.ping().then((p) => p === 'PONG', () => false), delay(ms, false)]);
  const stopAll = async () => {
    // With Redis unreachable, workers and queues cannot finish their Redis work (BullMQ waits
    // for a connection that is not coming): give each a moment, then go on. Unacknowledged
    // entries stay pending in Redis and are stored exactly once after the next start.
    const redisUp = producer.status === 'ready' && (await pingWithin(producer, 1_000));
    for (const st of stops.reverse()) {
      const stopped = st.stop().catch((err) => log.error({ err, role: st.name }, 'stop failed'));
      if (redisUp) await stopped;
      else if ((await Promise.race([stopped.then(() => 'done'), delay(1_000, 'late')])) === 'late') {
        log.warn({ role: st.name }, 'Redis is unreachable: not waiting for this role to stop');
      }
    }
    await Promise.all(connections.map((c) => quitRedis(c)));
    if (local) await local.stop();
  };
  try {
    return await startInOrder();
  } catch (err) {
    // A start that fails half-way (the port in use, a bad QUAYLOGS_CONFIG…) leaves nothing
    // running behind it: no worker, no connection, no redis-server of ours.
    await stopAll().catch(() => undefined);
    throw err;
  }

  async function startInOrder(): Promise<Running> {
    // A purge a crash interrupted is finished here when nothing else can be running it: the
    // embedded store belongs to this process alone. Against a server, another process may be
    // mid-purge, so it is only reported (finish it with `quaylogs purge --resume <id>`).
    for (const id of await unfinishedPurges(store)) {
      if (store.backend === 'embedded') {
        const res = await resumePurge(store, id);
        log.info({ purge: id, entries: res.rows_deleted, days: res.days.length }, 'purge: an interrupted purge was finished');
      } else {
        log.warn({ purge: id }, 'purge: a purge is unfinished (interrupted, or running in another process); `quaylogs purge --resume <id>` finishes it');
      }
    }
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
    const queues = [QUEUES.poll, QUEUES.exportlogs, QUEUES.exportDeliveries].map((q) => q.open(producer));
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
        ingestStatusPlugin({ status: () => ingestStatus(store, producer, new Date(), opts.retention) }),
        purgePlugin({
          refusal: PurgeError,
          purge: async (spec) => {
            const res = await purgeEntries(store, spec);
            // Cached first pages of the touched namespaces must not show erased entries.
            if (res.namespaces.length > 0) await bumpLogGenerations(producer.multi(), res.namespaces).exec();
            return res;
          },
        }),
        pipelinePlugin({
          listDeadLetters: (o) => listDeadLetters(producer, o),
          countDeadLetters: () => countDeadLetters(producer),
          replayDeadLetters: (o) => replayDeadLetters(producer, o),
        }),
        consolePlugin(),
        // `quaylogs import file` and `quaylogs demo` while this process holds the store.
        serverLoadsPlugin({
          refusal: ImportError,
          maxUploadBytes: 64 * 1024 ** 3,
          importFile: (path, o) => importFile({ path, redis: producer, store, ...o }),
          importQuayDb: async (o) => {
            const res = await importQuayDb({ ...o, redis: producer, store });
            return { rows: res.rows, completed: res.completed };
          },
          demo: async (o) => {
            if (!o.force && !(await storeIsEmpty(store))) return { refused: 'The store already holds logs; send force: true to add demo rows anyway' };
            return loadDemo(store, { rows: o.rows, seed: o.seed });
          },
        }),
      ];
      const tokens = parseHecTokens(cfg.QUAYLOGS_HEC_TOKENS);
      if (tokens.size > 0) {
        plugins.push(
          hecPlugin({
            redis: producer,
            tokens,
            maxBodyBytes: cfg.QUAYLOGS_HEC_MAX_BODY_BYTES,
            onReject: (source, code) => metrics.hecRejected.inc({ source, code: String(code) }),
          }),
        );
      }
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
        logger: log,
        plugins,
      });
      app = built.app;
      ctx = built.ctx;
      const api = app;
      stops.push({ name: 'api', stop: () => api.close() });
      await ensureBootstrapAdmin(ctx, opts.bootstrapToken);
      if (tokens.size > 0) {
        // The HEC receiver runs in a process of its own that owns the public port: Quay's
        // posts never wait on this event loop (queries, exports, imports, the loader). It
        // hands every other connection to this server, which listens on loopback only for
        // the rare non-HEC request on a connection that began with HEC.
        await app.listen({ host: '127.0.0.1', port: 0 });
        const receiver: IsolatedReceiver = await startIsolatedReceiver({
          host: cfg.QUAYLOGS_HOST,
          port: cfg.QUAYLOGS_PORT,
          redisUrl,
          tokens,
          maxBodyBytes: cfg.QUAYLOGS_HEC_MAX_BODY_BYTES,
          api: app.server,
          logLevel: cfg.QUAYLOGS_LOG_LEVEL,
          // The receiver wins the CPU over this process's queries, inserts, merges and imports.
          nice: { receiver: cfg.QUAYLOGS_RECEIVER_NICE, api: cfg.QUAYLOGS_API_NICE },
          log,
          onReject: (source, code) => metrics.hecRejected.inc({ source, code: String(code) }),
        });
        // Stops run in reverse: the receiver before the API, so posts in flight finish first.
        stops.push({ name: 'hec receiver', stop: () => receiver.stop() });
        port = receiver.port;
      } else {
        await app.listen({ host: cfg.QUAYLOGS_HOST, port: cfg.QUAYLOGS_PORT });
        const addr = app.server.address();
        port = typeof addr === 'object' && addr ? addr.port : cfg.QUAYLOGS_PORT;
      }
    }
    // ClickHouse's HTTP interface for BI tools: after the API (it shares its identity tables),
    // stopped before the workers (stops run in reverse order).
    const clickhouseHttp = await startClickHouseHttp({ cfg, store, log });
    if (clickhouseHttp) stops.push({ name: 'clickhouse http', stop: () => clickhouseHttp.close() });

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
        await stopAll(); // the API first (drains requests), then the workers, then Redis
      },
    };
  }
}
