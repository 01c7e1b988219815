/**
 * Prometheus metrics at GET /metrics (prom-client): HTTP request durations per
 * route, what the loader stored, and — read from Redis at scrape time — the
 * ingest stream's length and pending entries, dead letters and queue depths.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  loaderRows: Counter<'outcome'>;
  loaderBatchSeconds: Histogram;
  /** HEC requests refused, by source (`-` when the token named none) and Splunk code. */
  hecRejected: Counter<'source' | 'code'>;
  /** A gauge set from a callback at every scrape (errors leave the previous value). */
  gaugeFromScrape(name: string, help: string, labelNames: string[], read: () => Promise<{ labels?: Record<string, string>; value: number }[]>): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'quaylogs_' });
  const httpDuration = new Histogram({
    name: 'quaylogs_http_request_duration_seconds',
    help: 'HTTP requests by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const loaderRows = new Counter({
    name: 'quaylogs_loader_rows_total',
    help: 'Rows the loader handled: inserted, or dropped as already stored',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const loaderBatchSeconds = new Histogram({
    name: 'quaylogs_loader_batch_seconds',
    help: 'Time to store and acknowledge one loader batch',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const hecRejected = new Counter({
    name: 'quaylogs_hec_rejected_total',
    help: 'HEC requests refused, by source and Splunk code (the reason is in the warn log line)',
    labelNames: ['source', 'code'] as const,
    registers: [registry],
  });
  return {
    registry,
    httpDuration,
    loaderRows,
    loaderBatchSeconds,
    hecRejected,
    gaugeFromScrape(name, help, labelNames, read) {
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          try {
            const values = await read();
            for (const v of values) {
              if (v.labels) this.set(v.labels, v.value);
              else this.set(v.value);
            }
          } catch {
            /* keep the previous value; the scrape itself must not fail */
          }
        },
      });
    },
  };
}

export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
