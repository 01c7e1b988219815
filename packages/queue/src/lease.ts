/**
 * Leases in Redis that expire if their holder dies, each with a fencing token.
 *
 * A lease is a key whose value is `<owner>#<fence>`, set with `SET NX PX`; the fence is a
 * number from one Redis counter, so a later holder of the same key always carries a
 * larger fence than an earlier one, and `<key>:fence` keeps the fence of the latest
 * acquisition (without expiry). The holder renews the lease well before it expires.
 *
 * A lease is held while nobody acquired the key after its holder: the key holds the
 * holder's exact value, or it expired and `<key>:fence` still names the holder's fence.
 * (A holder whose event loop was blocked past the expiry — a long embedded insert — keeps
 * its lease if nobody took it meanwhile; one that somebody replaced finds another fence.)
 * Every write that must only happen under the lease checks this atomically in Redis
 * (LEASE_HELD_LUA inside the write's own script), so a stalled holder's write is refused.
 *
 * Time is Redis' alone: expiry is Redis' `PX`, never a comparison of process clocks.
 */
import type { Redis } from './redis.ts';

/** The counter every fence comes from. */
export const FENCE_COUNTER_KEY = 'quaylogs:fence';

/**
 * Lua: `lease_held(key, value)` — true while nobody acquired `key` after the holder of `value`.
 * Prepend it to any script whose writes must happen only under a lease.
 */
export const LEASE_HELD_LUA = `
local function lease_held(key, value)
  local cur = redis.call('GET', key)
  if cur then return cur == value end
  return redis.call('GET', key .. ':fence') == string.match(value, '#(%d+)$')
end
`;

const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local fence = redis.call('INCR', KEYS[2])
local value = ARGV[1] .. '#' .. fence
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
redis.call('SET', KEYS[3], fence)
return value`;

const RENEW = `${LEASE_HELD_LUA}
if not lease_held(KEYS[1], ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const HELD = `${LEASE_HELD_LUA}
return lease_held(KEYS[1], ARGV[1]) and 1 or 0`;

/** Takes the lease if nobody holds it; returns its value (`owner#fence`) or null. */
export async function tryAcquireLease(redis: Redis, key: string, owner: string, ttlMs: number): Promise<string | null> {
  const value = (await redis.eval(ACQUIRE, 3, key, FENCE_COUNTER_KEY, `${key}:fence`, owner, ttlMs)) as string | null;
  return value ?? null;
}

/** Extends the lease (re-setting it if it expired untaken); false means somebody else acquired it. */
export async function renewLease(redis: Redis, key: string, value: string, ttlMs: number): Promise<boolean> {
  return Number(await redis.eval(RENEW, 1, key, value, ttlMs)) === 1;
}

/** Whether `value` still holds the lease (see the module comment). */
export async function leaseHeld(redis: Redis, key: string, value: string): Promise<boolean> {
  return Number(await redis.eval(HELD, 1, key, value)) === 1;
}

/** Gives the lease up if `value` still holds it. */
export async function releaseLease(redis: Redis, key: string, value: string): Promise<void> {
  await redis.eval(RELEASE, 1, key, value);
}

/** The fence of a lease value (`owner#fence`). */
export function fenceOf(value: string): number {
  return Number(value.slice(value.lastIndexOf('#') + 1));
}

/** The owner part of a lease value. */
export function ownerOf(value: string): string {
  return value.slice(0, value.lastIndexOf('#'));
}

export interface HeldLease {
  readonly key: string;
  readonly value: string;
  /** True once a renewal found the lease gone or held by someone else. */
  readonly lost: boolean;
  /** Throws LeaseLostError unless Redis still holds this lease's exact value. */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/**
 * Waits until it holds the lease, then keeps renewing it every ttl/3 until released.
 * `onWait` is told who holds it while waiting (at most every `noticeMs`).
 */
export async function holdLease(
  redis: Redis,
  key: string,
  owner: string,
  opts: { ttlMs?: number; pollMs?: number; noticeMs?: number; onWait?: (holder: string) => void; signal?: AbortSignal } = {},
): Promise<HeldLease> {
  const ttlMs = opts.ttlMs ?? 30_000;
  const pollMs = opts.pollMs ?? 250;
  let lastNotice = 0;
  let value: string | null = null;
  for (;;) {
    opts.signal?.throwIfAborted();
    value = await tryAcquireLease(redis, key, owner, ttlMs);
    if (value) break;
    if (opts.onWait && Date.now() - lastNotice >= (opts.noticeMs ?? 5_000)) {
      lastNotice = Date.now();
      opts.onWait((await redis.get(key)) ?? 'nobody');
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const held = value;
  let lost = false;
  const timer = setInterval(() => {
    renewLease(redis, key, held, ttlMs)
      .then((ok) => {
        if (!ok) lost = true;
      })
      .catch(() => undefined);
  }, Math.max(50, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    key,
    value: held,
    get lost() {
      return lost;
    },
    async assertHeld() {
      if (lost || !(await leaseHeld(redis, key, held))) {
        lost = true;
        throw new LeaseLostError(`lost the lease ${key} (held as ${held})`);
      }
    },
    async release() {
      clearInterval(timer);
      await releaseLease(redis, key, held).catch(() => undefined);
    },
  };
}
