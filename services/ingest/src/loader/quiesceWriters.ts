/**
 * Pausing every loader for a migration that backfills from usage_logs (e.g. a new rollup:
 * its materialized view counts new inserts, the backfill counts what was stored before; a
 * row must fall in exactly one of the two). While the key WRITERS_QUIESCED_KEY exists no
 * loader records a new insert intent, so no new insert starts; the migration waits until
 * every intent is resolved (acknowledged by its owner, or — when its owner lost its shard
 * leases, e.g. died — replayed here), and then no insert is in flight.
 */
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { leaseHeld, type Redis, releaseLease, renewLease, tryAcquireLease } from '@quaylogs/queue';
import { INSERT_INTENTS_KEY, parseIntent, replayIntent, WRITERS_QUIESCED_KEY } from './insertIntents.ts';

export async function quiesceWriters(
  redis: Redis,
  store: ClickHouseStore,
  opts: { owner: string; log?: (line: string) => void; timeoutMs?: number; ttlMs?: number },
): Promise<() => Promise<void>> {
  const ttlMs = opts.ttlMs ?? 30_000;
  let value: string | null = null;
  while (!(value = await tryAcquireLease(redis, WRITERS_QUIESCED_KEY, opts.owner, ttlMs))) await new Promise((r) => setTimeout(r, 250));
  const held = value;
  const timer = setInterval(() => void renewLease(redis, WRITERS_QUIESCED_KEY, held, ttlMs).catch(() => undefined), Math.floor(ttlMs / 3));
  const resume = async () => {
    clearInterval(timer);
    await releaseLease(redis, WRITERS_QUIESCED_KEY, held);
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let noticed = 0;
  try {
    for (;;) {
      const intents = await redis.hgetall(INSERT_INTENTS_KEY);
      const owners = Object.keys(intents);
      if (owners.length === 0) return resume;
      for (const [owner, raw] of Object.entries(intents)) {
        const intent = parseIntent(raw);
        const leases = intent?.leases ?? [];
        let ownerHolds = false;
        for (const [key, value] of leases) if (await leaseHeld(redis, key, value)) ownerHolds = true;
        if (ownerHolds) continue; // its owner still holds its shards: it finishes it
        await replayIntent(redis, store, owner, raw);
        opts.log?.(`finished the unfinished insert of loader ${owner}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `loaders ${owners.join(', ')} did not finish their inserts in time; the migration needs every loader between batches (retry \`quaylogs migrate\`)`,
        );
      }
      if (Date.now() - noticed > 5_000) {
        noticed = Date.now();
        opts.log?.(`waiting for loaders ${owners.join(', ')} to finish their batch in hand`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await resume();
    throw err;
  }
}
