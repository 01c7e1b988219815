/**
 * Group commit for the ingest stream: concurrent producers' batches (e.g. many HEC
 * requests arriving together) go to Redis as one pipeline — one write, one round
 * trip — instead of one round trip each. Each batch stays its own stream entry, so
 * what the loader acknowledges is unchanged.
 *
 * While one group is in flight the next one collects; it is sent the moment the
 * first is answered (no timer, no added latency for a lone request). A group that
 * Redis does not answer within `timeoutMs` fails, so a caller never hangs on a
 * stuck Redis; a full Redis (maxmemory, OOM) fails each XADD at once with its error.
 */
import type { IngestBatch } from './ingestStream.ts';
import { INGEST_STREAM } from './ingestStream.ts';
import type { Redis } from './redis.ts';

export interface GroupAppender {
  /** Appends one batch; resolves with its stream entry id once Redis has it. */
  append(batch: IngestBatch): Promise<string>;
  /** Groups sent and batches appended since start (for logs and tests). */
  readonly stats: { groups: number; batches: number };
}

interface Waiting {
  payload: string;
  resolve: (id: string) => void;
  reject: (err: Error) => void;
}

export class IngestTimeoutError extends Error {}

export function groupAppender(redis: Redis, opts: { timeoutMs?: number; maxGroup?: number } = {}): GroupAppender {
  const timeoutMs = opts.timeoutMs ?? 2_000;
  const maxGroup = opts.maxGroup ?? 1_000;
  let waiting: Waiting[] = [];
  let inFlight = false;
  let scheduled = false;
  const stats = { groups: 0, batches: 0 };

  const sendGroup = async (group: Waiting[]): Promise<void> => {
    const pipeline = redis.pipeline();
    for (const w of group) pipeline.xadd(INGEST_STREAM, '*', 'b', w.payload);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    try {
      const results = await Promise.race([pipeline.exec(), timedOut]);
      if (results === 'timeout') {
        const err = new IngestTimeoutError(`Redis did not answer XADD within ${timeoutMs} ms`);
        for (const w of group) w.reject(err);
        return;
      }
      stats.groups++;
      group.forEach((w, i) => {
        const [err, id] = results?.[i] ?? [new Error('no reply'), null];
        if (err) w.reject(err);
        else if (typeof id !== 'string' || !id) w.reject(new Error('XADD returned no id'));
        else {
          stats.batches++;
          w.resolve(id);
        }
      });
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
        waiting.push({ payload: JSON.stringify(batch), resolve, reject });
        // Requests parsed in the same turn of the event loop join one group.
        if (!inFlight && !scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
