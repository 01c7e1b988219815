/**
 * The whole export path in one test process: a real embedded ClickHouse, the real
 * Fastify app with the exports plugin listening on loopback, the exporter's BullMQ
 * workers on a real Redis database (this file's, from @quaylogs/testing), a loader storing
 * the API's audit entries from the ingest stream as in production, and a test logger.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { loadConfig } from '@quaylogs/config';
import type { Resolver } from '@quaylogs/delivery';
import { quitRedis, type Redis, redisForProducers, redisForWorkers } from '@quaylogs/queue';
import { buildApp, ensureBootstrapAdmin, exportsPlugin, streamAuditWriter } from '@quaylogs/api';
import { type Loader, startLoader } from '@quaylogs/ingest';
import { ADMIN_TOKEN, type ApiTarget, openTestStore, resetStore, testRedisUrl } from '@quaylogs/testing';
import { type Exporter, type ExporterLog, type ExporterTuning, startExporter } from '../../src/index.ts';

export { ADMIN_TOKEN };
export const SECRET = 'test-secret-for-page-tokens-0123456789';
export const CALLBACK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export interface LogLine {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

export function testLogger(lines: LogLine[], echo = false): ExporterLog {
  const make = (bindings: Record<string, unknown>): ExporterLog => {
    const at = (level: string) => (obj: object, msg = '') => {
      const line = { level, msg, obj: { ...bindings, ...(obj as Record<string, unknown>) } };
      lines.push(line);
      if (echo) console.log(level, msg, JSON.stringify(line.obj));
    };
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => make({ ...bindings, ...b }) };
  };
  return make({});
}

export interface StackOptions {
  env?: Record<string, string>;
  tuning?: Partial<ExporterTuning>;
  resolve?: Resolver;
}

export interface Stack {
  store: ClickHouseStore;
  /** The API, for @quaylogs/testing's call and userWithToken. */
  api: ApiTarget;
  url: string;
  dataDir: string;
  logs: LogLine[];
  producer: Redis;
  /** Stops the exporter, empties the export tables, logs and the Redis database, starts it again. */
  reset(): Promise<void>;
  /** Resolves once every audit entry the API wrote so far is stored (they go through the ingest stream). */
  auditStored(): Promise<void>;
  /** Stops the exporter, empties the Redis database, starts it again (ClickHouse kept). */
  flushRedis(): Promise<void>;
  /** Stops the exporter and starts it again (state kept), optionally with other tuning. */
  restartExporter(tuning?: Partial<ExporterTuning>): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const { store, cleanup } = await openTestStore();
  const dataDir = mkdtempSync(join(tmpdir(), 'quaylogs-exports-'));
  const redisUrl = testRedisUrl('stack');
  const producer = redisForProducers(redisUrl);
  const workers = redisForWorkers(redisUrl);
  await producer.flushdb();
  const config = loadConfig({
    QUAYLOGS_BOOTSTRAP_TOKEN: ADMIN_TOKEN,
    QUAYLOGS_SECRET: SECRET,
    QUAYLOGS_DATA_DIR: dataDir,
    QUAYLOGS_CALLBACK_SECRET: CALLBACK_SECRET,
    ...opts.env,
  });
  const generateJobOptions = { backoff: { type: 'exponential' as const, delay: 50 } };
  const { app, ctx } = await buildApp({
    store,
    config,
    secret: SECRET,
    audit: streamAuditWriter(producer),
    plugins: [exportsPlugin({ redis: producer, generateJobOptions, ...(opts.resolve ? { resolve: opts.resolve } : {}) })],
  });
  await ensureBootstrapAdmin(ctx, ADMIN_TOKEN);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const logs: LogLine[] = [];
  const tuning: Partial<ExporterTuning> = {
    deliveryBackoffMs: 50,
    generateJobOptions,
    lockDurationMs: 5_000,
    stalledIntervalMs: 2_000,
    callbackTimeouts: { connectMs: 2_000, headersMs: 2_000, bodyMs: 2_000, totalMs: 10_000 },
    ...(opts.resolve ? { resolve: opts.resolve } : {}),
    ...opts.tuning,
  };
  const begin = (extra: Partial<ExporterTuning> = {}) =>
    startExporter({ redis: workers, store, config, log: testLogger(logs), baseUrl: url, tuning: { ...tuning, ...extra } });
  let exporter: Exporter = await begin();
  const load = () => startLoader({ redis: workers, store, consumer: 'stack', batchMs: 20 });
  let loader: Loader = load();
  /** Stops the exporter and the loader (what is in the stream stored first), runs `between`, starts both again. */
  // Every restart here happens with no export running, so the exporter is stopped with force:
  // BullMQ's graceful Worker.close() (5.63) was seen never to resolve for the idle deliveries
  // worker right after start, with 2–4 of these stacks running at once (its connections were
  // already gone; close(true) never hung in the same runs). Graceful stop is quaylogs up's, where
  // QUAYLOGS_SHUTDOWN_TIMEOUT_MS bounds it; the hang is recorded in docs/exports.md.
  const restartAround = async (between: () => Promise<void>) => {
    await exporter.stop(true);
    await loader.drain();
    await loader.stop();
    await between();
    loader = load();
    exporter = await begin();
  };
  const api: ApiTarget = { url };
  return {
    store,
    api,
    url,
    dataDir,
    logs,
    producer,
    async reset() {
      await restartAround(async () => {
        await producer.flushdb();
        await resetStore(store);
        ctx.auth.invalidate();
        await ensureBootstrapAdmin(ctx, ADMIN_TOKEN);
        logs.length = 0;
      });
    },
    auditStored: () => loader.drain(),
    async flushRedis() {
      await restartAround(async () => {
        await producer.flushdb();
      });
    },
    async restartExporter(extra) {
      await exporter.stop();
      exporter = await begin(extra);
    },
    async close() {
      await exporter.stop(true);
      await loader.stop();
      await app.close();
      await quitRedis(producer);
      await quitRedis(workers);
      await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
