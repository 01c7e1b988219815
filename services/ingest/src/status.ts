/**
 * Ingestion status (GET /api/v1/superuser/ingest, `quaylogs status`): per source the
 * newest entry, its lag and the entries of the last hour, from ClickHouse; the ingest
 * stream's backlog and pending entries and the dead letters, from Redis.
 *
 * Every ClickHouse read is bounded: the newest day per source comes from the small daily
 * rollup, and `usage_logs` is only read from that day on (partition and key pruning).
 */
import { type ClickHouseStore, type RetentionPolicy, retentionFor } from '@quaylogs/clickhouse';
import { DEADLETTER_STREAM, INGEST_GROUP, INGEST_STREAM, type Redis } from '@quaylogs/queue';

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
    /** Entries not yet stored (stored entries are deleted from the stream). */
    length: number;
    /** Entries delivered to a loader and not yet acknowledged. */
    pending: number;
    /** Entries not yet delivered to any loader (null when Redis does not report it). */
    undelivered: number | null;
    /** Age of the oldest pending entry in milliseconds (0 when none). */
    oldest_pending_ms: number;
    consumers: { name: string; pending: number; idle_ms: number }[];
  };
  dead_letters: number;
}

const iso = (chTime: string) => `${chTime.replace(' ', 'T')}Z`;

function pairs(reply: unknown): Map<string, unknown> {
  const m = new Map<string, unknown>();
  const list = reply as unknown[];
  for (let i = 0; i + 1 < list.length; i += 2) m.set(String(list[i]), list[i + 1]);
  return m;
}

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
        hourAgo: new Date(now.getTime() - 3_600_000).toISOString().replace('T', ' ').replace('Z', ''),
        now: now.toISOString().replace('T', ' ').replace('Z', ''),
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
  const [length, deadLetters] = await Promise.all([redis.xlen(INGEST_STREAM), redis.xlen(DEADLETTER_STREAM)]);
  let pending = 0;
  let undelivered: number | null = null;
  let oldest = 0;
  const consumers: IngestStatus['stream']['consumers'] = [];
  try {
    const groups = (await redis.xinfo('GROUPS', INGEST_STREAM)) as unknown[];
    const group = groups.map(pairs).find((g) => g.get('name') === INGEST_GROUP);
    if (group) {
      pending = Number(group.get('pending') ?? 0);
      const lag = group.get('lag');
      undelivered = lag === null || lag === undefined ? null : Number(lag);
      const summary = (await redis.xpending(INGEST_STREAM, INGEST_GROUP)) as [number, string | null, string | null, unknown];
      if (summary[1]) oldest = Math.max(0, Date.now() - Number(summary[1].split('-')[0]));
      const list = (await redis.xinfo('CONSUMERS', INGEST_STREAM, INGEST_GROUP)) as unknown[];
      for (const c of list.map(pairs)) {
        consumers.push({ name: String(c.get('name')), pending: Number(c.get('pending') ?? 0), idle_ms: Number(c.get('idle') ?? 0) });
      }
    }
  } catch (err) {
    // No stream or group yet: nothing delivered, nothing pending.
    if (!/no such key|ERR/i.test(String((err as Error).message))) throw err;
  }
  return { length, pending, undelivered, oldest_pending_ms: oldest, consumers, dead_letters: deadLetters };
}

export async function ingestStatus(store: ClickHouseStore, redis: Redis, now: Date = new Date(), retention?: RetentionPolicy): Promise<IngestStatus> {
  const [stored, stream] = await Promise.all([sourceStatus(store, now), streamStatus(redis)]);
  const sources = retention ? stored.map((s) => ({ ...s, retention_days: retentionFor(retention, s.source) })) : stored;
  const { dead_letters, ...streamOnly } = stream;
  return { generated_at: now.toISOString(), sources, stream: streamOnly, dead_letters };
}
