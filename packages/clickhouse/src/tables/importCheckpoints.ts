/**
 * `import_checkpoints`: how far an importer got, so an interrupted import resumes.
 * One row per (source, target, table): `target` names the Quay database
 * (`<system identifier>/<database>`), `table` the log table (logentry3, logentry2,
 * logentry), `lastId` the highest row id whose entries are all in the ingest stream,
 * `rows` the entries handed off up to there over all runs.
 */
import type { ClickHouseStore } from '../store.ts';
import { nextRowVersion } from './versions.ts';
import { chTime } from './usageLogs.ts';

export interface ImportCheckpointKey {
  source: string;
  target: string;
  table: string;
}

export interface ImportCheckpoint extends ImportCheckpointKey {
  lastId: number;
  rows: number;
  updatedAt: string;
}

interface CheckpointRow {
  source: string;
  target: string;
  table_name: string;
  last_id: string | number;
  rows: string | number;
  updated_at: string;
}

function toSafeInt(value: string | number, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`import_checkpoints: invalid ${what} ${JSON.stringify(value)}`);
  return n;
}

function fromRow(r: CheckpointRow): ImportCheckpoint {
  return {
    source: String(r.source),
    target: String(r.target),
    table: String(r.table_name),
    lastId: toSafeInt(r.last_id, 'last_id'),
    rows: toSafeInt(r.rows, 'rows'),
    updatedAt: String(r.updated_at),
  };
}

const SELECT = `SELECT source, target, table_name, last_id, rows, toString(updated_at) AS updated_at
  FROM import_checkpoints FINAL`;

export async function getImportCheckpoint(store: ClickHouseStore, key: ImportCheckpointKey): Promise<ImportCheckpoint | null> {
  const rows = await store.query<CheckpointRow>({
    name: 'importCheckpoints.get',
    sql: `${SELECT} WHERE source = {source:String} AND target = {target:String} AND table_name = {table:String}`,
    params: { source: key.source, target: key.target, table: key.table },
  });
  const r = rows[0];
  return r ? fromRow(r) : null;
}

/** Every checkpoint, or those of one source (for `quaylogs status`). */
export async function listImportCheckpoints(store: ClickHouseStore, source?: string): Promise<ImportCheckpoint[]> {
  const rows = await store.query<CheckpointRow>({
    name: 'importCheckpoints.list',
    sql:
      source === undefined
        ? `${SELECT} ORDER BY source, target, table_name`
        : `${SELECT} WHERE source = {source:String} ORDER BY target, table_name`,
    params: source === undefined ? {} : { source },
  });
  return rows.map(fromRow);
}

/** Records progress; the newest write wins (a restart from scratch may move `lastId` back). */
export async function putImportCheckpoint(
  store: ClickHouseStore,
  cp: ImportCheckpointKey & { lastId: number; rows: number; at?: Date },
): Promise<void> {
  toSafeInt(cp.lastId, 'lastId');
  toSafeInt(cp.rows, 'rows');
  await store.insert({
    table: 'import_checkpoints',
    rows: [
      {
        source: cp.source,
        target: cp.target,
        table_name: cp.table,
        last_id: cp.lastId,
        rows: cp.rows,
        updated_at: chTime(cp.at ?? new Date()),
        version: await nextRowVersion(
          store,
          'import_checkpoints',
          'source = {source:String} AND target = {target:String} AND table_name = {table:String}',
          { source: cp.source, target: cp.target, table: cp.table },
        ),
      },
    ],
  });
}
