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
