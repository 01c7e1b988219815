/**
 * The `global_messages` table (migration 0009): Quay's global messages, banners a
 * superuser shows to everyone. Versioned rows read with FINAL; a delete is a tombstone.
 * A message is created, then deleted: its versions are those two transitions (no clock).
 */
import { parseChDateTime, toChDateTime } from '@quaylogs/core';
import type { ClickHouseStore } from '../store.ts';
import { transitionVersion } from './versions.ts';

export type MessageMediaType = 'text/plain' | 'text/markdown';
export type MessageSeverity = 'info' | 'warning' | 'error';

export interface GlobalMessageRecord {
  uuid: string;
  content: string;
  media_type: MessageMediaType;
  severity: MessageSeverity;
  created_by: string;
  created: Date;
}

export async function putGlobalMessage(store: ClickHouseStore, m: GlobalMessageRecord, deleted = false): Promise<void> {
  await store.insert({
    table: 'global_messages',
    rows: [{ ...m, created: toChDateTime(m.created), version: transitionVersion(deleted ? 2 : 1), is_deleted: deleted ? 1 : 0 }],
  });
}

type Raw = Omit<GlobalMessageRecord, 'created'> & { created: string };

/** Every live message, oldest first (Quay lists them in creation order). */
export async function listGlobalMessages(store: ClickHouseStore): Promise<GlobalMessageRecord[]> {
  const rows = await store.query<Raw>({
    name: 'globalMessages.list',
    sql: `SELECT uuid, content, media_type, severity, created_by, toString(created) AS created
          FROM global_messages FINAL ORDER BY global_messages.created, uuid`,
  });
  return rows.map((r) => ({ ...r, created: parseChDateTime(r.created) }));
}

export async function getGlobalMessage(store: ClickHouseStore, uuid: string): Promise<GlobalMessageRecord | null> {
  const rows = await store.query<Raw>({
    name: 'globalMessages.get',
    sql: `SELECT uuid, content, media_type, severity, created_by, toString(created) AS created
          FROM global_messages FINAL WHERE uuid = {uuid:String}`,
    params: { uuid },
  });
  return rows[0] ? { ...rows[0], created: parseChDateTime(rows[0].created) } : null;
}

export async function deleteGlobalMessage(store: ClickHouseStore, m: GlobalMessageRecord): Promise<void> {
  await putGlobalMessage(store, m, true);
}
