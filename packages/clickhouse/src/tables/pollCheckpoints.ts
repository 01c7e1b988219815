/**
 * `poll_checkpoints`: where the poller resumes. One row per (source, namespace); namespace
 * '' stands for a superuser source (every namespace in one listing).
 * - `nextDay` (`YYYY-MM-DD`, UTC): the first day the next poll reads (Quay's windows are
 *   whole days; the poll re-reads from there to today).
 * - `lastPollAt`: when the last complete walk started; `lastEntryAt`: newest entry seen
 *   (`YYYY-MM-DD HH:MM:SS.mmm`); `entriesRead`: entries read by the last complete walk.
 * - `lastError`/`lastErrorAt`: the last failure ('' / null once a walk succeeds again).
 * Rows are versioned and read with FINAL; every write carries the whole row.
 */
import type { ClickHouseStore } from '../store.ts';
import { nextRowVersion } from './versions.ts';

export interface PollCheckpoint {
  source: string;
  namespace: string;
  nextDay: string;
  lastPollAt: string | null;
  lastEntryAt: string | null;
  entriesRead: number;
  lastError: string;
  lastErrorAt: string | null;
}

interface CheckpointRow {
  source: string;
  namespace: string;
  next_day: string;
  last_poll_at: string | null;
  last_entry_at: string | null;
  entries_read: string | number;
  last_error: string;
  last_error_at: string | null;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;

function fromRow(r: CheckpointRow): PollCheckpoint {
  const entries = Number(r.entries_read);
  if (!DAY.test(r.next_day) || !Number.isSafeInteger(entries) || entries < 0) {
    throw new Error(`poll_checkpoints: invalid row for ${r.source}/${r.namespace}: ${JSON.stringify(r)}`);
  }
  return {
    source: String(r.source),
    namespace: String(r.namespace),
    nextDay: r.next_day,
    lastPollAt: r.last_poll_at,
    lastEntryAt: r.last_entry_at,
    entriesRead: entries,
    lastError: String(r.last_error),
    lastErrorAt: r.last_error_at,
  };
}

const SELECT = `SELECT source, namespace, toString(next_day) AS next_day,
    if(isNull(last_poll_at), NULL, toString(last_poll_at)) AS last_poll_at,
    if(isNull(last_entry_at), NULL, toString(last_entry_at)) AS last_entry_at,
    entries_read, last_error,
    if(isNull(last_error_at), NULL, toString(last_error_at)) AS last_error_at
  FROM poll_checkpoints FINAL`;

export async function getPollCheckpoint(store: ClickHouseStore, source: string, namespace: string): Promise<PollCheckpoint | null> {
  const rows = await store.query<CheckpointRow>({
    name: 'pollCheckpoints.get',
    sql: `${SELECT} WHERE source = {source:String} AND namespace = {namespace:String}`,
    params: { source, namespace },
  });
  const r = rows[0];
  return r ? fromRow(r) : null;
}

/** Every checkpoint, or those of one source, ordered by source and namespace. */
export async function listPollCheckpoints(store: ClickHouseStore, source?: string): Promise<PollCheckpoint[]> {
  const rows = await store.query<CheckpointRow>({
    name: 'pollCheckpoints.list',
    sql: `${SELECT}${source === undefined ? '' : ' WHERE source = {source:String}'} ORDER BY source, namespace`,
    params: source === undefined ? {} : { source },
  });
  return rows.map(fromRow);
}

/** Writes the whole checkpoint (a newer version replaces the older one). */
export async function putPollCheckpoint(store: ClickHouseStore, cp: PollCheckpoint): Promise<void> {
  if (!DAY.test(cp.nextDay)) throw new Error(`poll checkpoint nextDay must be YYYY-MM-DD, got ${JSON.stringify(cp.nextDay)}`);
  for (const [what, v] of [['lastPollAt', cp.lastPollAt], ['lastEntryAt', cp.lastEntryAt], ['lastErrorAt', cp.lastErrorAt]] as const) {
    if (v !== null && !TIME.test(v)) throw new Error(`poll checkpoint ${what} must be YYYY-MM-DD HH:MM:SS.mmm, got ${JSON.stringify(v)}`);
  }
  await store.insert({
    table: 'poll_checkpoints',
    rows: [
      {
        source: cp.source,
        namespace: cp.namespace,
        next_day: cp.nextDay,
        last_poll_at: cp.lastPollAt,
        last_entry_at: cp.lastEntryAt,
        entries_read: cp.entriesRead,
        last_error: cp.lastError,
        last_error_at: cp.lastErrorAt,
        version: await nextRowVersion(store, 'poll_checkpoints', 'source = {source:String} AND namespace = {namespace:String}', {
          source: cp.source,
          namespace: cp.namespace,
        }),
        is_deleted: 0,
      },
    ],
  });
}
