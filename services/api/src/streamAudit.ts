/**
 * quaylogs' own audit entries through the ingest stream, like every other entry: the loader
 * stores them (deduplicated, rolled up) as it stores Quay's. What `up` and `api` use; tests
 * use it too, so they see audit entries on the path production takes.
 */
import { randomEventKey } from '@quaylogs/core';
import { appendIngestBatch, type Redis } from '@quaylogs/queue';
import type { AuditWriter } from './context.ts';

export function streamAuditWriter(redis: Redis): AuditWriter {
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
