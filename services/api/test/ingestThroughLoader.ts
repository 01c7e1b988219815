/**
 * Test helper: stores rows the way production does, through the ingest stream and the real
 * loader, which also replaces the namespaces' log generations (what the page caches watch).
 */
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import type { UsageLogRow } from '@quaylogs/core';
import { appendIngestBatch, type Redis } from '@quaylogs/queue';
import { startLoader } from '../../ingest/src/index.ts';

export async function ingestThroughLoader(redis: Redis, store: ClickHouseStore, rows: UsageLogRow[], consumer: string): Promise<void> {
  await appendIngestBatch(redis, { v: 1, origin: 'api', source: 'test', rows });
  const loader = startLoader({ redis, store, consumer, batchMs: 10 });
  try {
    await loader.drain();
  } finally {
    await loader.stop();
  }
}

