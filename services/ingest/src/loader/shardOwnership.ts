/**
 * Which ingest streams this loader owns: one owner per shard at a time, through a Redis
 * lease per stream (see @quaylogs/queue lease.ts). Loaders register in a members set
 * (scored by Redis' own clock, pruned after one lease time), each aims at its fair share
 * ceil(shards / live loaders), takes free shards up to it and gives back the excess
 * between batches. A dead loader's leases expire and the others take its shards over.
 */
import { ingestShardKey, INGEST_SHARDS, INGEST_STREAM, type Redis, releaseLease, renewLease, tryAcquireLease } from '@quaylogs/queue';

export const LOADER_MEMBERS_KEY = 'quaylogs:loader:members';
export const leaseKeyOf = (stream: string): string => `quaylogs:loader:lease:${stream}`;

const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])`;

export class ShardOwnership {
  /** stream key → lease value held for it. */
  readonly owned = new Map<string, string>();
  /** Streams of the batch in hand: never given back until it is acknowledged. */
  inHand = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private readonly shards: string[];

  constructor(
    private readonly redis: Redis,
    private readonly name: string,
    private readonly leaseMs: number,
    private readonly log: (obj: object, msg: string) => void,
  ) {
    // Each loader tries the shards in its own order, so several starting together spread out.
    const all = Array.from({ length: INGEST_SHARDS }, (_, s) => ingestShardKey(s));
    let h = 0;
    for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    const offset = h % all.length;
    this.shards = [...all.slice(offset), ...all.slice(0, offset)];
  }

  /** The lease value this loader holds for a stream, or undefined. */
  valueOf(stream: string): string | undefined {
    return this.owned.get(stream);
  }

  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.leaseMs / 3)));
  }

  /** One round: renew what is held (dropping what was lost), then move toward the fair share. */
  tick(): Promise<void> {
    this.ticking ??= this.round()
      .catch((err) => this.log({ err: String((err as Error).message ?? err) }, 'loader: shard lease round failed'))
      .finally(() => {
        this.ticking = null;
      });
    return this.ticking;
  }

  private async round(): Promise<void> {
    for (const [stream, value] of [...this.owned]) {
      if (!(await renewLease(this.redis, leaseKeyOf(stream), value, this.leaseMs))) {
        this.owned.delete(stream);
        this.log({ stream }, 'loader: shard lease lost');
      }
    }
    const members = Number(await this.redis.eval(HEARTBEAT, 1, LOADER_MEMBERS_KEY, this.name, this.leaseMs));
    const target = Math.ceil(INGEST_SHARDS / Math.max(1, members));
    const shardsHeld = () => [...this.owned.keys()].filter((s) => s !== INGEST_STREAM).length;
    for (const stream of this.shards) {
      if (shardsHeld() >= target) break;
      if (this.owned.has(stream)) continue;
      const value = await tryAcquireLease(this.redis, leaseKeyOf(stream), this.name, this.leaseMs);
      if (value) {
        this.owned.set(stream, value);
        this.log({ stream, fence: value.slice(value.lastIndexOf('#') + 1) }, 'loader: shard taken');
      }
    }
    for (const stream of [...this.owned.keys()].reverse()) {
      if (shardsHeld() <= target) break;
      if (stream === INGEST_STREAM || this.inHand.has(stream)) continue;
      await this.giveBack(stream);
    }
    // The unsharded intake of earlier versions: whoever holds it moves its entries into the shards.
    if (!this.owned.has(INGEST_STREAM)) {
      const value = await tryAcquireLease(this.redis, leaseKeyOf(INGEST_STREAM), this.name, this.leaseMs);
      if (value) this.owned.set(INGEST_STREAM, value);
    }
  }

  private async giveBack(stream: string, quiet = false): Promise<void> {
    const value = this.owned.get(stream);
    this.owned.delete(stream);
    if (value) await releaseLease(this.redis, leaseKeyOf(stream), value);
    if (!quiet) this.log({ stream }, 'loader: shard given back');
  }

  /** Gives every lease back and leaves the members set (others take over at once). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    const held = [...this.owned.keys()];
    for (const stream of held) await this.giveBack(stream, true).catch(() => undefined);
    if (held.length) this.log({ streams: held.length }, 'loader: shards given back');
    await this.redis.zrem(LOADER_MEMBERS_KEY, this.name).catch(() => undefined);
  }
}
