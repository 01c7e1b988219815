import { join } from 'node:path';
import type { QuaylogsConfig } from '@quaylogs/config';
import { openEmbeddedStore } from './embedded.ts';
import { openServerStore } from './server.ts';
import type { ClickHouseStore } from './store.ts';

/** The data directory the embedded engine uses under QUAYLOGS_DATA_DIR. */
export function embeddedPath(dataDir: string): string {
  return join(dataDir, 'clickhouse');
}

/** Opens the store the configuration asks for: a server when CLICKHOUSE_URL is set, else the embedded engine. */
export async function openStore(
  config: Pick<QuaylogsConfig, 'CLICKHOUSE_URL' | 'CLICKHOUSE_DATABASE' | 'QUAYLOGS_DATA_DIR' | 'QUAYLOGS_QUERY_TIMEOUT_S'>,
): Promise<ClickHouseStore> {
  if (config.CLICKHOUSE_URL) {
    return openServerStore({
      url: config.CLICKHOUSE_URL,
      database: config.CLICKHOUSE_DATABASE,
      queryTimeoutS: config.QUAYLOGS_QUERY_TIMEOUT_S,
    });
  }
  return openEmbeddedStore({
    path: embeddedPath(config.QUAYLOGS_DATA_DIR),
    database: config.CLICKHOUSE_DATABASE,
    queryTimeoutS: config.QUAYLOGS_QUERY_TIMEOUT_S,
  });
}
