/**
 * Ingestion status (GET /api/v1/superuser/ingest, `quaylogs status`): per source the
 * newest entry, its lag and the entries of the last hour, from ClickHouse; the ingest
 * streams' backlog, the entries loaders are inserting, and the dead letters, from Redis.
 *
 * Every ClickHouse read is bounded: the newest day per source comes from the small daily
 * rollup, and `usage_logs` is only read from that day on (partition and key pruning).
 */
import { toChDateTime } from '@quaylogs/core';
import { type ClickHouseStore, type RetentionPolicy, retentionFor } from '@quaylogs/clickhouse';
import { DEADLETTER_STREAM, ingestBacklog, ingestStreamKeys, ownerOf, type Redis } from '@quaylogs/queue';
import { INSERT_INTENTS_KEY, parseIntent } from './loader/insertIntents.ts';
import { leaseKeyOf } from './loader/shardOwnership.ts';

export interface SourceStatus {
  source: string;
  /** Time of the newest entry (ISO-8601, UTC). */
  last_entry_time: string;
  /** When quaylogs stored the newest entry (ISO-8601, UTC). */
  last_received_at: string;
  /** Age of the newest entry, in seconds (how far behind the registry this source's data is). */
  lag_seconds: number;
  /** Entries whose time falls within the last hour. */
  entries_last_hour: number;
  /** Days this source's entries are kept (null = forever); absent when the caller knows no policy. */
  retention_days?: number | null;
}

export interface IngestStatus {
  generated_at: string;
  sources: SourceStatus[];
  stream: {
    /** Entries not yet stored, over every shard (stored entries are deleted from the streams). */
    length: number;
    /** Entries in an insert a loader has started and not yet acknowledged. */
    pending: number;
    /** Entries no loader has started inserting. */
    undelivered: number | null;
    /** Age of the oldest entry not yet stored, in milliseconds (0 when none). */
    oldest_pending_ms: number;
    /** Running loaders: the shards each owns and the entries of its insert in flight (idle_ms is always 0). */
    consumers: { name: string; pending: number; idle_ms: number; shards?: number }[];
  };
  dead_letters: number;
}

const iso = (chTime: string) => `${chTime.replace(' ', 'T')}Z`;

async function sourceStatus(store: ClickHouseStore, now: Date): Promise<SourceStatus[]> {
  const days = await store.query<{ source: string; last_day: string }>({
    name: 'ingestStatus.lastDays',
    sql: 'SELECT source, toString(max(day)) AS last_day FROM usage_daily_kind GROUP BY source ORDER BY source',
  });
  const out: SourceStatus[] = [];
  for (const { source, last_day } of days) {
    const [r] = await store.query<{ last: string; received: string; hour: string }>({
      name: 'ingestStatus.source',
      sql: `SELECT toString(max(datetime)) AS last, toString(max(received_at)) AS received,
                   countIf(datetime >= {hourAgo:DateTime64(3, 'UTC')} AND datetime <= {now:DateTime64(3, 'UTC')}) AS hour
            FROM usage_logs
            WHERE source = {source:String} AND datetime >= least({lastDay:Date}, toDate({hourAgo:DateTime64(3, 'UTC')}))`,
      params: {
        source,
        lastDay: last_day,
        hourAgo: toChDateTime(new Date(now.getTime() - 3_600_000)),
        now: toChDateTime(now),
      },
    });
    if (!r || r.last.startsWith('1970-01-01')) continue;
    const last = iso(r.last);
    out.push({
      source,
      last_entry_time: last,
      last_received_at: iso(r.received),
      lag_seconds: Math.max(0, Math.round((now.getTime() - Date.parse(last)) / 1000)),
      entries_last_hour: Number(r.hour),
    });
  }
  return out;
}

async function streamStatus(redis: Redis): Promise<IngestStatus['stream'] & { dead_letters: number }> {
  const keys = ingestStreamKeys();
  const tx = redis.pipeline();
  for (const key of keys) tx.xrange(key, '-', '+', 'COUNT', 1);
  for (const key of keys) tx.get(leaseKeyOf(key));
  const [length, deadLetters, intents, replies] = await Promise.all([
    ingestBacklog(redis),
    redis.xlen(DEADLETTER_STREAM),
    redis.hgetall(INSERT_INTENTS_KEY),
    tx.exec(),
  ]);
  const res = (replies ?? []).map(([err, v]) => (err ? null : v));
  const firsts = res.slice(0, keys.length) as ([string, string[]][] | null)[];
  const oldestMs = Math.min(...firsts.map((f) => (f?.[0] ? Number(f[0][0].split('-')[0]) : Infinity)));
  const owners = new Map<string, { name: string; pending: number; idle_ms: number; shards: number }>();
  for (const value of res.slice(keys.length) as (string | null)[]) {
    if (!value) continue;
    const name = ownerOf(value);
    const o = owners.get(name) ?? { name, pending: 0, idle_ms: 0, shards: 0 };
    o.shards++;
    owners.set(name, o);
  }
  let pending = 0;
  for (const [name, raw] of Object.entries(intents)) {
    const n = parseIntent(raw)?.entries.length ?? 0;
    pending += n;
    const o = owners.get(name) ?? { name, pending: 0, idle_ms: 0, shards: 0 };
    o.pending += n;
    owners.set(name, o);
  }
  return {
    length,
    pending,
    undelivered: Math.max(0, length - pending),
    oldest_pending_ms: Number.isFinite(oldestMs) ? Math.max(0, Date.now() - oldestMs) : 0,
    consumers: [...owners.values()],
    dead_letters: deadLetters,
  };
}

/** Entries in inserts loaders have started and not yet acknowledged. */
export async function pendingEntries(redis: Redis): Promise<number> {
  const intents = await redis.hgetall(INSERT_INTENTS_KEY);
  return Object.values(intents).reduce((n, raw) => n + (parseIntent(raw)?.entries.length ?? 0), 0);
}

export async function ingestStatus(store: ClickHouseStore, redis: Redis, now: Date = new Date(), retention?: RetentionPolicy): Promise<IngestStatus> {
  const [stored, stream] = await Promise.all([sourceStatus(store, now), streamStatus(redis)]);
  const sources = retention ? stored.map((s) => ({ ...s, retention_days: retentionFor(retention, s.source) })) : stored;
  const { dead_letters, ...streamOnly } = stream;
  return { generated_at: now.toISOString(), sources, stream: streamOnly, dead_letters };
}
