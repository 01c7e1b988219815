/**
 * A cache of /logs pages, kept with the namespace's log generation read *before* the query
 * that produced them (see @quaylogs/queue logGenerations): a page is served while that
 * generation is unchanged and it is younger than `maxAgeMs`. The loader changes a
 * namespace's generation in the same transaction that acknowledges a stored batch (a purge
 * does too), so a page never hides an entry stored, or shows one erased, before the request.
 * Writes that bypass the loader (retention dropping old entries, `quaylogs demo` into a
 * running server) show up within `maxAgeMs`.
 *
 * - **First pages** (no cursor: the page a UI shows and refreshes) are read alone, 20 rows,
 *   as fast as the store answers them, and cached.
 * - **Deeper pages are read ahead:** a page after a cursor is read together with the
 *   `readAheadPages - 1` pages after it, in one statement, and those are kept under the
 *   cursor of the page before each, which is what its `next_page` token carries. A walk
 *   therefore costs one query per `readAheadPages` pages. The keyset (datetime, event_key)
 *   order is total, so a page taken from a read-ahead holds exactly the rows a query after
 *   its cursor would return. Tokens are unchanged: a token whose page is not (or no longer)
 *   cached is answered by the store.
 *
 * A window that moves with the clock (Quay's default, without dates) is part of the key, so
 * such first pages simply never hit; a continued walk keeps its window in the token. Avatars
 * are not cached (rendered per request).
 */
import { type ClickHouseStore, type LogCursor, type LogFilter, listLogPage, type LogPageRow } from '@quaylogs/clickhouse';
import { ALL_NAMESPACES, readLogGeneration, type Redis } from '@quaylogs/queue';

export interface LogPageCacheOptions {
  redis: Redis;
  /** Pages kept (least recently used dropped first; default 1,000). */
  maxEntries?: number;
  /** Longest a page is served without a fresh query (default 60 s). */
  maxAgeMs?: number;
  /** Pages one query reads from a cursor on, the asked one included (default 10; 1 turns read-ahead off). */
  readAheadPages?: number;
  now?: () => number;
}

interface Entry {
  generation: string;
  at: number;
  rows: LogPageRow[];
  hasMore: boolean;
}

export interface LogPage {
  rows: LogPageRow[];
  hasMore: boolean;
  /** Served from the cache. */
  cached: boolean;
}

export class LogPageCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly readAheadPages: number;
  private readonly now: () => number;
  hits = 0;
  misses = 0;

  constructor(private readonly opts: LogPageCacheOptions) {
    this.maxEntries = opts.maxEntries ?? 1_000;
    this.maxAgeMs = opts.maxAgeMs ?? 60_000;
    this.readAheadPages = Math.max(1, Math.floor(opts.readAheadPages ?? 10));
    this.now = opts.now ?? Date.now;
  }

  /** The first page for `filter`, from the cache when still valid, else from the store. */
  async firstPage(store: ClickHouseStore, filter: LogFilter, limit: number, clock: { now?: Date } = {}): Promise<LogPage> {
    return this.page(store, filter, null, limit, clock);
  }

  /**
   * The page after `cursor` (null: the first page), from the cache when still valid, else from
   * the store; a page after a cursor is read with the pages after it (see above).
   */
  async page(store: ClickHouseStore, filter: LogFilter, cursor: LogCursor | null, limit: number, clock: { now?: Date } = {}): Promise<LogPage> {
    const key = pageKey(filter, cursor, limit);
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
    const pages = cursor === null ? 1 : this.readAheadPages;
    const read = await listLogPage(store, filter, cursor, limit * pages, clock);
    const first = { rows: read.rows.slice(0, limit), hasMore: read.rows.length > limit || read.hasMore };
    if (generation !== null) {
      this.keep(key, { generation, at, ...first });
      // The pages after the asked one, each under the cursor its next_page token will carry.
      for (let from = limit; from < read.rows.length; from += limit) {
        const last = read.rows[from - 1]!;
        const rows = read.rows.slice(from, from + limit);
        const hasMore = from + limit < read.rows.length || read.hasMore;
        this.keep(pageKey(filter, { datetime: last.datetime, eventKey: last.event_key }, limit), { generation, at, rows, hasMore });
      }
    }
    return { ...first, cached: false };
  }

  private keep(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}

function pageKey(filter: LogFilter, cursor: LogCursor | null, limit: number): string {
  return JSON.stringify([
    filter.source ?? null, filter.namespace ?? null, filter.repository ?? null, filter.performer ?? null,
    filter.kinds ?? null, filter.excludeKinds ?? null, filter.start.getTime(), filter.end.getTime(), limit,
    cursor?.datetime ?? null, cursor?.eventKey ?? null,
  ]);
}
