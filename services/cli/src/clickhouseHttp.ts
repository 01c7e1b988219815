/**
 * `quaylogs up` with QUAYLOGS_CLICKHOUSE_HTTP_PORT: ClickHouse's HTTP interface over the
 * embedded store, for BI tools. With a ClickHouse server (CLICKHOUSE_URL), BI tools
 * connect to that server instead, so nothing is started.
 */
import { BI_CATALOG_TABLES, createClickHouseHttpBridge, guardReadOnlySql, tokenAuthenticator } from '@quaylogs/api';
import { type ClickHouseStore, embeddedPath, openEngineSessions } from '@quaylogs/clickhouse';
import type { QuaylogsConfig } from '@quaylogs/config';
import type { Logger } from './runtime.ts';

export async function startClickHouseHttp(opts: {
  cfg: QuaylogsConfig;
  store: ClickHouseStore;
  log: Logger;
}): Promise<{ port: number; close: () => Promise<void> } | null> {
  const { cfg, store, log } = opts;
  if (cfg.QUAYLOGS_CLICKHOUSE_HTTP_PORT === undefined) return null;
  if (store.backend !== 'embedded') {
    log.warn({}, 'QUAYLOGS_CLICKHOUSE_HTTP_PORT is ignored with CLICKHOUSE_URL: point BI tools at the ClickHouse server itself');
    return null;
  }
  const engine = await openEngineSessions({ path: embeddedPath(cfg.QUAYLOGS_DATA_DIR), size: 4 });
  const bridge = createClickHouseHttpBridge({
    engine,
    database: store.database,
    authenticate: tokenAuthenticator(store),
    // The engine decides what a statement is (the SQL route's guard), plus the catalog
    // tables BI tools browse; readonly = 1 and the limits below stay underneath.
    guard: (sql, explainAst) => guardReadOnlySql(store, sql, { extraTables: BI_CATALOG_TABLES, explainAst }),
    limits: {
      timeoutS: cfg.QUAYLOGS_CLICKHOUSE_HTTP_TIMEOUT_S,
      maxResultRows: cfg.QUAYLOGS_CLICKHOUSE_HTTP_MAX_ROWS,
      maxResultBytes: 256 * 1024 * 1024,
    },
    log: { info: (o, m) => log.info({ role: 'clickhouse-http', ...o }, m), warn: (o, m) => log.warn({ role: 'clickhouse-http', ...o }, m) },
  });
  const port = await bridge.listen(cfg.QUAYLOGS_CLICKHOUSE_HTTP_PORT, cfg.QUAYLOGS_HOST);
  log.info({ port }, `ClickHouse HTTP interface on http://${cfg.QUAYLOGS_HOST}:${port} (read-only, superusers)`);
  return {
    port,
    async close() {
      await bridge.close();
      engine.close();
    },
  };
}
