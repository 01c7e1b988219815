/**
 * Redis connections. BullMQ workers need `maxRetriesPerRequest: null` (they block
 * and must survive reconnects); producers on a request path fail fast instead.
 */
import { Redis, type RedisOptions } from 'ioredis';

export type { Redis };

export function redisForWorkers(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...opts });
}

export function redisForProducers(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 5_000, commandTimeout: 5_000, enableOfflineQueue: true, ...opts });
}

/** Something BullMQ-shaped that can be closed: a Worker, Queue or QueueEvents. */
interface Closable {
  waitUntilReady(): Promise<unknown>;
  close(force?: boolean): Promise<void>;
}

/**
 * Closes a BullMQ worker or queue without leaving an unhandled rejection behind.
 * Closed while its connections are still initialising, BullMQ disconnects them
 * instead of quitting, which rejects its own fire-and-forget setup commands
 * ("Connection is closed.") with nobody listening. Waiting for ready first makes
 * close take the orderly path; a connection that never becomes ready is closed anyway.
 */
export async function closeBullmq(target: Closable, force = false): Promise<void> {
  await target.waitUntilReady().catch(() => undefined);
  await target.close(force);
}

/**
 * Quits a connection after its pending replies (disconnect() would reject them with
 * nobody listening); disconnects if Redis does not answer within `graceMs`.
 */
export async function quitRedis(redis: Redis, graceMs = 2_000): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
  const outcome = await Promise.race([redis.quit().catch(() => 'failed' as const), timedOut]);
  clearTimeout(timer);
  if (outcome !== 'OK') redis.disconnect();
}
