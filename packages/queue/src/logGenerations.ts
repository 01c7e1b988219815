/**
 * Log generations: a Redis hash that says, per namespace, "the stored entries changed".
 * The loader, the one writer of usage_logs, gives every namespace a batch touched (and
 * `ALL_NAMESPACES`) a fresh random token right after the batch is stored, in the same
 * transaction that acknowledges it. A reader that cached a page of a namespace together
 * with the token it read *before* querying may serve that page for as long as the token
 * is unchanged: whatever was stored since has changed it.
 *
 * Tokens are random, not counters, so a Redis that restarted empty can never hand back a
 * value a cache already holds for older contents (an absent token is never a match).
 */
import { randomBytes } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { Redis } from './redis.ts';

export const LOG_GENERATIONS_KEY = 'quaylogs:logs:generations';
/** The field that changes with every stored batch (pages over all namespaces). */
export const ALL_NAMESPACES = '*';

/** Queues the token change for the namespaces a stored batch touched onto a MULTI. */
export function bumpLogGenerations(tx: ChainableCommander, namespaces: Iterable<string>): ChainableCommander {
  const token = randomBytes(12).toString('base64url');
  const args: string[] = [ALL_NAMESPACES, token];
  for (const ns of new Set(namespaces)) if (ns !== ALL_NAMESPACES) args.push(ns, token);
  return tx.hset(LOG_GENERATIONS_KEY, ...args);
}

/**
 * The current token of one namespace (or `ALL_NAMESPACES`), created when there is none
 * (entries stored before the first batch, or a Redis that restarted empty: a fresh random
 * token matches nothing cached). Null when Redis cannot answer; callers then read from
 * the store without caching.
 */
export async function readLogGeneration(redis: Redis, namespace: string): Promise<string | null> {
  try {
    const res = await redis.multi().hsetnx(LOG_GENERATIONS_KEY, namespace, randomBytes(12).toString('base64url')).hget(LOG_GENERATIONS_KEY, namespace).exec();
    const got = res?.[1];
    return !got || got[0] || typeof got[1] !== 'string' ? null : got[1];
  } catch {
    return null;
  }
}
