/**
 * A cache of first pages of /logs (the page a UI shows and refreshes). An entry is the
 * page's rows, kept with the namespace's log generation read *before* the query (see
 * @quaylogs/queue logGenerations): it is served while that generation is unchanged and
 * it is younger than `maxAgeMs`. The loader changes a namespace's generation in the same
 * transaction that acknowledges a stored batch, so a page never hides an entry stored
 * before the request. Writes that bypass the loader (retention dropping old entries,
 * `quaylogs demo` into a running server) show up within `maxAgeMs`.
 *
 * Only cursor-less pages are cached: deeper pages are walked once, and caching them would
 * spend memory on answers nobody asks for twice. A window that moves with the clock (Quay's
 * default, without dates) is part of the key, so such requests simply never hit. Avatars
 * are not cached (rendered per request).
 */
import { listUsageLogs, type LogFilter } from '@quaylogs/clickhouse';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import type { UsageLogRow } from '@quaylogs/core';
import { ALL_NAMESPACES, readLogGeneration, type Redis } from '@quaylogs/queue';

export interface LogPageCacheOptions {
  redis: Redis;
  /** Pages kept (least recently used dropped first; default 1,000). */
  maxEntries?: number;
  /** Longest a page is served without a fresh query (default 60 s). */
  maxAgeMs?: number;
  now?: () => number;
}

interface Entry {
  generation: string;
  at: number;
  rows: UsageLogRow[];
  hasMore: boolean;
}

export interface LogPage {
  rows: UsageLogRow[];
  hasMore: boolean;
  /** Served from the cache. */
  cached: boolean;
}

export class LogPageCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  hits = 0;
  misses = 0;

  constructor(private readonly opts: LogPageCacheOptions) {
    this.maxEntries = opts.maxEntries ?? 1_000;
    this.maxAgeMs = opts.maxAgeMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** The first page for `filter`, from the cache when still valid, else from the store. */
  async firstPage(store: ClickHouseStore, filter: LogFilter, limit: number, clock: { now?: Date } = {}): Promise<LogPage> {
    const key = JSON.stringify([
      filter.source ?? null, filter.namespace ?? null, filter.repository ?? null, filter.performer ?? null,
      filter.kinds ?? null, filter.excludeKinds ?? null, filter.start.getTime(), filter.end.getTime(), limit,
    ]);
    const generation = await readLogGeneration(this.opts.redis, filter.namespace ?? ALL_NAMESPACES);
    const hit = this.entries.get(key);
    if (hit && generation !== null && hit.generation === generation && this.now() - hit.at < this.maxAgeMs) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.hits++;
      return { rows: hit.rows, hasMore: hit.hasMore, cached: true };
    }
    this.misses++;
    const at = this.now();
    const page = await listUsageLogs(store, filter, null, limit, clock);
    this.entries.delete(key);
    if (generation !== null) {
      this.entries.set(key, { generation, at, rows: page.rows, hasMore: page.hasMore });
      while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    return { ...page, cached: false };
  }
}
