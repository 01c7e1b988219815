/**
 * How importers hand rows over: appended to the ingest stream (the only way rows reach
 * ClickHouse), in entries of bounded size, with the accounts first seen in them, and
 * never faster than the loaders store them (bounded backlog), so a multi-GB import
 * cannot fill Redis. Also the progress arithmetic (rate, ETA) every importer reports.
 *
 * The backlog that bounds an importer is its own: the hand-offs it appended that are still
 * in the stream (the loader deletes what it has stored). Counting every entry of the stream
 * instead let live traffic starve an import: at 2,000 single-event HEC posts/s the stream
 * always holds more than a few dozen entries, and the import handed over nothing.
 */
import type { AccountInfo, UsageLogRow } from '@quaylogs/core';
import { appendIngestBatch, type Redis } from '@quaylogs/queue';

export interface ImportProgress {
  /** Entries handed to the ingest stream so far in this run. */
  rows: number;
  /** Entries this run expects to hand off in all (an estimate for very large tables; 0 when unknown). */
  total: number;
  ratePerS: number;
  /** Seconds left at the current rate; null when unknown. */
  etaS: number | null;
  /** true while the importer waits for the loaders to drain the stream. */
  waiting?: boolean;
}

export interface HandOffOptions {
  redis: Redis;
  source: string;
  /** Most rows per stream entry (default 5000). */
  entryRows?: number;
  /**
   * Most of this importer's hand-offs (one append of at most `entryRows` rows: one entry per
   * shard its rows fall in) not yet stored before it pauses (default 20; 0 = never wait).
   * Entries of other origins do not count: live traffic never holds an import back.
   */
  maxBacklog?: number;
  signal?: AbortSignal;
  onWait?: () => void;
}

/** What every importer's options share for handing rows over. */
export interface ImporterHandOffOptions {
  redis: Redis;
  maxBacklog?: number;
  signal?: AbortSignal;
}

/** An importer's hand-off for `source`, reporting "waiting" on its progress meter while paused. */
export function importerHandOff(opts: ImporterHandOffOptions, source: string, meter: ProgressMeter): HandOff {
  return new HandOff({
    redis: opts.redis,
    source,
    ...(opts.maxBacklog !== undefined ? { maxBacklog: opts.maxBacklog } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onWait: () => meter.report(true, true),
  });
}

export class HandOff {
  private readonly sentAccounts = new Map<string, string>();
  private readonly entryRows: number;
  private readonly maxBacklog: number;
  /** Entry refs (`<stream>/<id>`) of every hand-off not yet seen stored, oldest first. */
  private unstored: string[][] = [];
  entries = 0;

  constructor(private readonly opts: HandOffOptions) {
    this.entryRows = opts.entryRows ?? 5000;
    this.maxBacklog = opts.maxBacklog ?? 20;
  }

  /** Accounts not yet sent in this run (or changed since). */
  newAccounts(accounts: Iterable<AccountInfo>): AccountInfo[] {
    const out: AccountInfo[] = [];
    for (const a of accounts) {
      const sig = `${a.kind}\u0000${a.email ?? ''}`;
      if (this.sentAccounts.get(a.name) === sig) continue;
      this.sentAccounts.set(a.name, sig);
      out.push(a);
    }
    return out;
  }

  /** Appends the rows (and accounts) and resolves once Redis holds them all. */
  async send(rows: readonly UsageLogRow[], accounts: readonly AccountInfo[] = []): Promise<void> {
    let pendingAccounts = accounts.length > 0 ? [...accounts] : undefined;
    if (rows.length === 0 && pendingAccounts === undefined) return;
    for (let i = 0; i < rows.length || pendingAccounts !== undefined; i += this.entryRows) {
      await this.waitForRoom();
      const refs = await appendIngestBatch(this.opts.redis, {
        v: 1,
        origin: 'import',
        source: this.opts.source,
        rows: rows.slice(i, i + this.entryRows),
        ...(pendingAccounts ? { accounts: pendingAccounts } : {}),
      });
      pendingAccounts = undefined;
      this.entries++;
      if (this.maxBacklog > 0) this.unstored.push(refs);
    }
  }

  /** This importer's hand-offs still in the stream (asks Redis only once the local count reaches the bound). */
  async backlog(): Promise<number> {
    if (this.unstored.length >= this.maxBacklog) this.unstored = await stillInStream(this.opts.redis, this.unstored);
    return this.unstored.length;
  }

  private async waitForRoom(): Promise<void> {
    if (this.maxBacklog <= 0) return;
    let announced = false;
    while ((await this.backlog()) >= this.maxBacklog) {
      this.opts.signal?.throwIfAborted();
      if (!announced) {
        announced = true;
        this.opts.onWait?.();
      }
      // At the bound the loaders hold maxBacklog × entryRows rows (100,000 by default), a
      // second or more of their work: a quarter second between looks loses little.
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

// The position (1-based) of the first of these entries (KEYS[i], ARGV[i]) still in its
// stream, #KEYS + 1 when none is. It stops there: every entry it looks at is copied into the
// script, and looking at all of them (20 hand-offs of 5,000 rows: tens of MB) at every poll
// would hold Redis, and every client appending meanwhile, that long.
const FIRST_PRESENT = `for i = 1, #KEYS do
  if #redis.call('XRANGE', KEYS[i], ARGV[i], ARGV[i]) > 0 then return i end
end
return #KEYS + 1`;

/**
 * The hand-offs from the oldest one still (partly) in the stream on. The loaders store
 * entries in about the order they were appended, so the newer ones are rarely gone before it;
 * when they are, they count a little longer, which only makes the importer wait sooner.
 */
async function stillInStream(redis: Redis, handOffs: readonly string[][]): Promise<string[][]> {
  const streams: string[] = [];
  const ids: string[] = [];
  const handOffOf: number[] = [];
  handOffs.forEach((refs, h) => {
    for (const ref of refs) {
      const slash = ref.lastIndexOf('/');
      streams.push(ref.slice(0, slash));
      ids.push(ref.slice(slash + 1));
      handOffOf.push(h);
    }
  });
  if (streams.length === 0) return [];
  const first = Number(await redis.eval(FIRST_PRESENT, streams.length, ...streams, ...ids));
  return first > streams.length ? [] : handOffs.slice(handOffOf[first - 1]!);
}

export class ProgressMeter {
  private readonly started = Date.now();
  private lastReport = 0;
  rows = 0;

  constructor(
    public total: number,
    private readonly onProgress?: (p: ImportProgress) => void,
    private readonly everyMs = 250,
  ) {}

  add(n: number, force = false): void {
    this.rows += n;
    this.report(force);
  }

  report(force = false, waiting = false): void {
    if (!this.onProgress) return;
    const now = Date.now();
    if (!force && !waiting && now - this.lastReport < this.everyMs) return;
    this.lastReport = now;
    const elapsedS = Math.max(0.001, (now - this.started) / 1000);
    const ratePerS = this.rows / elapsedS;
    const total = Math.max(this.total, this.rows);
    const etaS = ratePerS > 0 && this.total > 0 ? Math.max(0, (total - this.rows) / ratePerS) : null;
    this.onProgress({ rows: this.rows, total, ratePerS: Math.round(ratePerS), etaS: etaS === null ? null : Math.round(etaS), ...(waiting ? { waiting } : {}) });
  }
}
