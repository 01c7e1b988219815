/**
 * Reads one UTC day of one listing from Quay (`starttime = endtime = that day`: Quay adds a
 * day to the end, so the window is exactly the day), following `next_page` to the end, and
 * hands the entries over in keyed batches.
 *
 * Event identity (docs/architecture.md): an entry's key is a content hash plus its ordinal among
 * identical entries of the same second, so a second must always be keyed whole. Quay's
 * pages come newest first and a day holds whole seconds, so once the walk has reached an
 * older second every newer second is complete: batches are cut only there, and the keys are
 * exactly those a whole-day (or whole-window) keying would give. Should a registry ever
 * answer out of order, the day is read again and keyed in one piece.
 *
 * Quay's database model ends a walk with a page that still carries `next_page` (it points at
 * its legacy tables) followed by an empty page without one; both are ordinary here. Empty
 * pages carrying a token are followed, within limits.
 */
import { assignContentKeys, formatMdy, type AccountInfo, type UsageLogRow } from '@quaylogs/core';
import { accountsFromEntry, quayEntryToRow, type LogsTarget, type PolledRow, type QuayClient } from '@quaylogs/quay-client';

export interface DayBatch {
  rows: UsageLogRow[];
  accounts: AccountInfo[];
}

export interface DayWalkOptions {
  client: QuayClient;
  source: string;
  target: LogsTarget;
  /** UTC midnight of the day. */
  day: Date;
  /** Cut batches at second boundaries once they hold at least this many rows. */
  batchRows: number;
  /** Receives each keyed batch (in order); the walk waits for it. */
  emit: (batch: DayBatch) => Promise<void>;
  /** Called after every page (e.g. to extend a lock); throwing stops the walk. */
  onPage?: (page: { entries: number; nextPage: boolean }) => Promise<void>;
  signal?: AbortSignal;
  /** Report accounts (superuser listings name the namespace's kind). */
  withAccounts: boolean;
  warn?: (obj: object, msg: string) => void;
}

export interface DayWalkResult {
  entries: number;
  pages: number;
  /** Newest entry time seen (`YYYY-MM-DD HH:MM:SS.000`), null for an empty day. */
  newest: string | null;
  /** Entries Quay returned outside the day asked for (dropped). */
  outside: number;
  /** true when the day had to be re-read and keyed whole (out-of-order answer). */
  reread: boolean;
}

/** A page past this is a registry that never ends its walk. 20 × 500,000 = 10 M entries a day. */
const MAX_PAGES = 500_000;
/** Consecutive empty pages carrying a token that are still followed. */
const MAX_EMPTY_WITH_TOKEN = 5;

class OutOfOrder extends Error {}

export class PagingError extends Error {
  override name = 'PagingError';
}

/** Rows of one whole second or more, newest seconds first; cut only between seconds. */
class SecondAlignedBuffer {
  private rows: PolledRow[] = [];
  private accounts = new Map<string, AccountInfo>();
  private lastSecond: string | null = null;

  constructor(
    private readonly batchRows: number,
    private readonly emit: (batch: DayBatch) => Promise<void>,
    private readonly ordered: boolean,
  ) {}

  async add(row: PolledRow, accounts: AccountInfo[]): Promise<void> {
    const second = row.datetime.slice(0, 19);
    if (this.ordered && this.lastSecond !== null && second !== this.lastSecond) {
      if (second > this.lastSecond) throw new OutOfOrder(`${second} after ${this.lastSecond}`);
      // Every second buffered so far is complete: a cut here keeps seconds whole.
      if (this.rows.length >= this.batchRows) await this.flush();
    }
    this.lastSecond = second;
    this.rows.push(row);
    for (const a of accounts) this.accounts.set(a.name, a);
  }

  async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    const rows = assignContentKeys(this.rows);
    const accounts = [...this.accounts.values()];
    this.rows = [];
    this.accounts = new Map();
    await this.emit({ rows, accounts });
  }
}

async function walk(o: DayWalkOptions, ordered: boolean): Promise<DayWalkResult> {
  const mdy = formatMdy(o.day);
  const dayPrefix = `${mdy.slice(6, 10)}-${mdy.slice(0, 2)}-${mdy.slice(3, 5)} `;
  // Unordered (re-read) mode keeps the whole day, then keys it in one piece.
  const buffer = new SecondAlignedBuffer(ordered ? o.batchRows : Number.MAX_SAFE_INTEGER, o.emit, ordered);
  const namespace = o.target.namespace;
  const result: DayWalkResult = { entries: 0, pages: 0, newest: null, outside: 0, reread: !ordered };
  let token: string | undefined;
  let emptyWithToken = 0;
  do {
    const page = await o.client.fetchLogsPage({
      ...o.target,
      starttime: mdy,
      endtime: mdy,
      nextPage: token,
      ...(o.signal ? { signal: o.signal } : {}),
    } as Parameters<QuayClient['fetchLogsPage']>[0]);
    result.pages += 1;
    for (const entry of page.logs) {
      const row = quayEntryToRow(entry, { source: o.source, namespace });
      if (!row.datetime.startsWith(dayPrefix)) {
        result.outside += 1;
        continue;
      }
      result.entries += 1;
      if (result.newest === null || row.datetime > result.newest) result.newest = row.datetime;
      await buffer.add(row, o.withAccounts ? accountsFromEntry(entry) : []);
    }
    const next = page.next_page;
    if (next !== undefined && next === token) throw new PagingError(`Quay returned the same next_page twice for ${mdy}`);
    emptyWithToken = page.logs.length === 0 && next !== undefined ? emptyWithToken + 1 : 0;
    if (emptyWithToken > MAX_EMPTY_WITH_TOKEN) {
      throw new PagingError(`Quay kept answering empty pages with a next_page for ${mdy} (${emptyWithToken} in a row)`);
    }
    if (result.pages >= MAX_PAGES && next !== undefined) throw new PagingError(`more than ${MAX_PAGES} pages for ${mdy}`);
    token = next;
    await o.onPage?.({ entries: page.logs.length, nextPage: token !== undefined });
  } while (token !== undefined);
  await buffer.flush();
  if (result.outside > 0) {
    o.warn?.({ day: mdy, outside: result.outside }, 'poller: Quay returned entries outside the day asked for; dropped');
  }
  return result;
}

/**
 * Walks the day; batches go to `emit` as they complete. A repeated walk of the same day
 * yields the same keys for the entries it shares with the earlier one.
 */
export async function walkDay(o: DayWalkOptions): Promise<DayWalkResult> {
  try {
    return await walk(o, true);
  } catch (err) {
    if (!(err instanceof OutOfOrder)) throw err;
    o.warn?.({ day: formatMdy(o.day), detail: err.message }, 'poller: Quay answered out of time order; re-reading the day whole');
    // Batches already emitted hold whole seconds as far as they went; identical entries get
    // ordinals by count, so the whole-day keys include every key emitted before.
    return walk(o, false);
  }
}
