/**
 * Group commit for the ingest stream: concurrent producers' batches (e.g. many HEC
 * requests arriving together) go to Redis as one transaction — one write, one round
 * trip — instead of one round trip each. Each batch is split by shard as
 * `appendIngestBatch` splits it; parts of the same origin, source and shard (and no
 * accounts) are merged into one stream entry, up to MERGE_ROWS rows and MERGE_BYTES of
 * rows, so the loader handles one entry per group and shard instead of one per request
 * (each row keeps its own key). The group is one MULTI: every batch of it is in Redis, or
 * none is (a request is never half-accepted across shards).
 *
 * While one group is in flight the next one collects; it is sent the moment the
 * first is answered (no timer, no added latency for a lone request). A group that
 * Redis does not answer within `timeoutMs` fails, so a caller never hangs on a
 * stuck Redis; a full Redis (maxmemory, OOM) fails each XADD at once with its error.
 */
import { type IngestBatch, ingestShardKey, splitByShard } from './ingestStream.ts';
import type { Redis } from './redis.ts';

export interface GroupAppender {
  /** Appends one batch; resolves with its stream entry id once Redis has it. */
  append(batch: IngestBatch): Promise<string>;
  /** Groups sent, batches appended and stream entries written since start (for logs and tests). */
  readonly stats: { groups: number; batches: number; entries: number };
}

interface Waiting {
  batch: IngestBatch;
  resolve: (id: string) => void;
  reject: (err: Error) => void;
}

/** Most rows, and most bytes of JSON rows, merged into one stream entry. */
export const MERGE_ROWS = 2_000;
export const MERGE_BYTES = 1 << 20;

/** The group's batches as stream entries: split by shard, same-origin, same-source, same-shard parts merged within bounds. */
function mergeGroup(group: Waiting[]): { stream: string; payload: string; waiters: Waiting[] }[] {
  const out: { stream: string; payload: string; waiters: Waiting[] }[] = [];
  const open = new Map<string, { stream: string; head: IngestBatch; rows: string[]; count: number; bytes: number; waiters: Waiting[] }>();
  const close = (key: string) => {
    const m = open.get(key);
    if (!m) return;
    open.delete(key);
    const { rows: _rows, ...head } = m.head;
    // `{…head,"rows":[]}` with the rows spliced in: each row was serialised once, on arrival.
    const prefix = JSON.stringify({ ...head, rows: [] }).slice(0, -3);
    out.push({ stream: m.stream, payload: `${prefix}[${m.rows.join(',')}]}`, waiters: m.waiters });
  };
  for (const w of group) {
    for (const [shard, b] of splitByShard(w.batch)) {
      const stream = ingestShardKey(shard);
      if (b.accounts !== undefined) {
        out.push({ stream, payload: JSON.stringify(b), waiters: [w] });
        continue;
      }
      const key = `${b.origin}\u0000${b.source}\u0000${shard}`;
      const rows = b.rows.map((r) => JSON.stringify(r));
      const bytes = rows.reduce((n, r) => n + r.length, 0);
      const m = open.get(key);
      if (m && (m.count + rows.length > MERGE_ROWS || m.bytes + bytes > MERGE_BYTES)) close(key);
      const cur = open.get(key);
      if (cur) {
        cur.rows.push(...rows);
        cur.count += rows.length;
        cur.bytes += bytes;
        if (cur.waiters[cur.waiters.length - 1] !== w) cur.waiters.push(w);
      } else {
        open.set(key, { stream, head: b, rows, count: rows.length, bytes, waiters: [w] });
      }
    }
  }
  for (const key of [...open.keys()]) close(key);
  return out;
}

export class IngestTimeoutError extends Error {}

export function groupAppender(redis: Redis, opts: { timeoutMs?: number; maxGroup?: number } = {}): GroupAppender {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const maxGroup = opts.maxGroup ?? 1_000;
  let waiting: Waiting[] = [];
  let inFlight = false;
  let scheduled = false;
  const stats = { groups: 0, batches: 0, entries: 0 };

  const sendGroup = async (group: Waiting[]): Promise<void> => {
    const entries = mergeGroup(group);
    const tx = redis.multi();
    for (const e of entries) tx.xadd(e.stream, '*', 'b', e.payload);
    let timer: NodeJS.Timeout | undefined;
    // A timer that fires after a long stall of this event loop (a starved CPU) runs before the
    // poll phase reads replies that may be waiting: give that phase one turn before giving up.
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => setImmediate(() => r('timeout')), timeoutMs)));
    try {
      const results = await Promise.race([tx.exec(), timedOut]);
      if (results === 'timeout') {
        const err = new IngestTimeoutError(`Redis did not answer XADD within ${timeoutMs} ms`);
        for (const w of group) w.reject(err);
        return;
      }
      // All or none: a failed XADD inside the transaction fails every batch of the group.
      const failed = results?.find(([err]) => err);
      if (!results || failed) {
        const err = (failed?.[0] as Error | undefined) ?? new Error('XADD transaction was discarded');
        for (const w of group) w.reject(err);
        return;
      }
      stats.groups++;
      const idOf = new Map<Waiting, string>();
      entries.forEach((e, i) => {
        const id = results[i]?.[1];
        for (const w of e.waiters) if (!idOf.has(w)) idOf.set(w, `${e.stream}/${String(id)}`);
      });
      for (const w of group) {
        stats.batches++;
        w.resolve(idOf.get(w) ?? '');
      }
      stats.entries += entries.length;
    } catch (err) {
      for (const w of group) w.reject(err as Error);
    } finally {
      clearTimeout(timer);
    }
  };

  const flush = (): void => {
    scheduled = false;
    if (inFlight || waiting.length === 0) return;
    const group = waiting.length <= maxGroup ? waiting : waiting.slice(0, maxGroup);
    waiting = waiting.length <= maxGroup ? [] : waiting.slice(maxGroup);
    inFlight = true;
    void sendGroup(group).finally(() => {
      inFlight = false;
      flush();
    });
  };

  return {
    stats,
    append(batch) {
      return new Promise<string>((resolve, reject) => {
        waiting.push({ batch, resolve, reject });
        // Requests parsed in the same turn of the event loop join one group.
        if (!inFlight && !scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
