/**
 * Erasure on request (GDPR): every entry of a performer, or of a namespace, optionally only
 * before a date — deleted from `usage_logs`, with the daily rollups corrected for exactly
 * the deleted entries, audited in `data_purges`, and safe while loaders keep inserting.
 *
 * One round:
 *  1. copy the matching rows' identity and rollup keys into `purge_rows` in ONE read —
 *     this fixes the set S the round erases;
 *  2. `ALTER TABLE usage_logs DELETE WHERE (source, namespace, event_key) IN S`
 *     (mutations_sync = 2: the statement returns once the rows are gone);
 *  3. for each rollup, insert S's counts negated (UInt64 two's complement: rollups are
 *     only ever added up modulo 2^64 — by sum() in SQL, or by aggregateUsageLogs over the
 *     stored rows — so the total is `stored − |S|`),
 *     each insert under a deterministic deduplication token, so a retry adds nothing.
 * Why concurrent ingestion cannot break the counts: a rollup is the sum of one contribution
 * per stored row. A loader insert adds a row and its contribution; the purge removes the
 * rows of S and exactly their contributions (S is a fixed set of event keys, unique in
 * usage_logs). Additions and removals of disjoint rows commute, so whatever the interleaving,
 * every rollup equals a recount of `usage_logs` afterwards. Rows of the performer a loader
 * stores after step 1 are not in S; further rounds (up to `maxRounds`) take them.
 * A crash between steps leaves the round in `purge_rows` and the audit at `running`;
 * `resumePurge` re-runs steps 2–3, which are idempotent (the delete finds nothing twice,
 * the inserts are deduplicated by token).
 */
import { createHash, randomUUID } from 'node:crypto';
import { chTime, type ClickHouseStore } from '@quaylogs/clickhouse';

export interface PurgeSpec {
  /** Erase this performer's entries (in every namespace unless `namespace` is given). */
  performer?: string;
  /** Erase this namespace's entries (only the performer's when `performer` is given). */
  namespace?: string;
  /** Only this source (registry); every source when absent. */
  source?: string;
  /** Only entries strictly before this instant. */
  before?: Date;
  /** Who asked (the superuser's name, or `cli`). */
  requestedBy: string;
}

export interface PurgeResult {
  purge_id: string;
  rows_deleted: number;
  rounds: number;
  /** Days whose rollups were corrected, as `YYYY-MM-DD`, ascending. */
  days: string[];
  /** Namespaces that lost entries (cached /logs pages of these must be dropped). */
  namespaces: string[];
}

export class PurgeError extends Error {
  override name = 'PurgeError';
}

/** Every rollup fed from usage_logs, with the columns its rows are keyed by. */
export const ROLLUPS: Record<string, readonly string[]> = {
  usage_daily_repo: ['source', 'namespace', 'day', 'kind', 'repository'],
  usage_daily_performer: ['source', 'namespace', 'day', 'kind', 'performer'],
  usage_daily_kind: ['source', 'day', 'kind'],
  usage_daily_namespace: ['source', 'namespace', 'day', 'kind'],
};

const PURGE_ID = /^[0-9a-f-]{36}$/;

function where(spec: PurgeSpec): { sql: string; params: Record<string, unknown> } {
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  if (spec.source !== undefined) {
    parts.push('source = {source:String}');
    params.source = spec.source;
  }
  if (spec.namespace !== undefined) {
    parts.push('namespace = {namespace:String}');
    params.namespace = spec.namespace;
  }
  if (spec.performer !== undefined) {
    parts.push('performer = {performer:String}');
    params.performer = spec.performer;
  }
  if (spec.before !== undefined) {
    parts.push("datetime < {before:DateTime64(3, 'UTC')}");
    params.before = chTime(spec.before);
  }
  return { sql: parts.join(' AND '), params };
}

/** Refuses when a summing rollup exists that this module does not correct (counts would drift). */
async function checkRollupsKnown(store: ClickHouseStore): Promise<void> {
  const tables = await store.query<{ name: string }>({
    name: 'purge.rollupTables',
    sql: "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine IN ('SummingMergeTree', 'AggregatingMergeTree', 'ReplicatedSummingMergeTree', 'ReplicatedAggregatingMergeTree')",
  });
  const unknown = tables.map((t) => t.name).filter((n) => !(n in ROLLUPS));
  if (unknown.length > 0) {
    throw new PurgeError(`refusing to purge: rollup table(s) ${unknown.join(', ')} would not be corrected (add them to ROLLUPS in services/ingest/src/purge.ts)`);
  }
}

/** The audit row of a purge that starts (version 1, `running`); `finish` writes version 2. */
async function auditStart(store: ClickHouseStore, id: string, spec: PurgeSpec, requestedAt: Date): Promise<void> {
  await store.insert({
    table: 'data_purges',
    rows: [
      {
        purge_id: id,
        version: 1,
        requested_by: spec.requestedBy,
        requested_at: chTime(requestedAt),
        source: spec.source ?? '',
        namespace: spec.namespace ?? '',
        performer_sha256: spec.performer === undefined ? '' : createHash('sha256').update(spec.performer).digest('hex'),
        before: spec.before ? chTime(spec.before) : null,
        status: 'running',
        rows_deleted: 0,
        finished_at: null,
      },
    ],
  });
}

/** Steps 2 and 3 of one round; idempotent. Returns the days it corrected and the namespaces it touched. */
async function eraseRound(store: ClickHouseStore, id: string, round: number): Promise<{ days: string[]; namespaces: string[] }> {
  const params = { id, round };
  await store.command({
    name: 'purge.deleteRows',
    sql: `ALTER TABLE usage_logs DELETE WHERE (source, namespace, event_key) IN
            (SELECT source, namespace, event_key FROM purge_rows WHERE purge_id = {id:String} AND round = {round:UInt32})`,
    params,
    settings: { mutations_sync: 2 },
  });
  for (const [table, keys] of Object.entries(ROLLUPS)) {
    const cols = keys.join(', ');
    await store.command({
      name: `purge.correct.${table}`,
      sql: `INSERT INTO ${table} (${cols}, count)
            SELECT ${cols}, toUInt64(-count()) FROM purge_rows
            WHERE purge_id = {id:String} AND round = {round:UInt32}
            GROUP BY ${cols}`,
      params,
      settings: { insert_deduplication_token: `purge-${id}-${round}-${table}`, insert_deduplicate: 1 },
    });
  }
  const [touched] = await store.query<{ days: string[]; namespaces: string[] }>({
    name: 'purge.touched',
    sql: `SELECT arraySort(groupUniqArray(toString(day))) AS days, arraySort(groupUniqArray(namespace)) AS namespaces
          FROM purge_rows WHERE purge_id = {id:String} AND round = {round:UInt32}`,
    params,
  });
  return { days: touched?.days ?? [], namespaces: touched?.namespaces ?? [] };
}

export async function purgeEntries(store: ClickHouseStore, spec: PurgeSpec, opts: { maxRounds?: number } = {}): Promise<PurgeResult> {
  if (spec.performer === undefined && spec.namespace === undefined) {
    throw new PurgeError('give a performer, a namespace, or both');
  }
  if (spec.performer === '' || spec.namespace === '') throw new PurgeError('performer and namespace must not be empty');
  await checkRollupsKnown(store);
  const id = randomUUID();
  await auditStart(store, id, spec, new Date());
  const cond = where(spec);
  let total = 0;
  let rounds = 0;
  const days = new Set<string>();
  const namespaces = new Set<string>();
  for (let round = 1; round <= (opts.maxRounds ?? 3); round++) {
    await store.command({
      name: 'purge.selectRows',
      sql: `INSERT INTO purge_rows (purge_id, round, source, namespace, day, kind, repository, performer, event_key)
            SELECT {id:String}, {round:UInt32}, source, namespace, toDate(datetime), kind, repository, performer, event_key
            FROM usage_logs WHERE ${cond.sql}`,
      params: { ...cond.params, id, round },
    });
    const [c] = await store.query<{ n: string }>({
      name: 'purge.roundSize',
      sql: 'SELECT count() AS n FROM purge_rows WHERE purge_id = {id:String} AND round = {round:UInt32}',
      params: { id, round },
    });
    const n = Number(c?.n ?? 0);
    if (n === 0) break;
    const touched = await eraseRound(store, id, round);
    for (const d of touched.days) days.add(d);
    for (const ns of touched.namespaces) namespaces.add(ns);
    total += n;
    rounds = round;
  }
  await finish(store, id, total);
  return { purge_id: id, rows_deleted: total, rounds, days: [...days].sort(), namespaces: [...namespaces].sort() };
}

/** Drops the copied rows (they name the performer) and records the purge as done. */
async function finish(store: ClickHouseStore, id: string, total: number): Promise<void> {
  await store.command({
    name: 'purge.dropRows',
    sql: 'ALTER TABLE purge_rows DELETE WHERE purge_id = {id:String}',
    params: { id },
    settings: { mutations_sync: 2 },
  });
  await store.command({
    name: 'purge.auditDone',
    sql: `INSERT INTO data_purges
          SELECT purge_id, 2, requested_by, requested_at, source, namespace, performer_sha256, before, 'done', {total:UInt64}, now64(3)
          FROM data_purges FINAL WHERE purge_id = {id:String}`,
    params: { id, total },
  });
}

/** Ids of the purges whose audit still says `running` (interrupted, or running in another process). */
export async function unfinishedPurges(store: ClickHouseStore): Promise<string[]> {
  const rows = await store.query<{ purge_id: string }>({
    name: 'purge.unfinished',
    sql: "SELECT purge_id FROM data_purges FINAL WHERE status = 'running' ORDER BY requested_at",
  });
  return rows.map((r) => r.purge_id);
}

/** Completes a purge a crash interrupted: its rounds are still in purge_rows, its audit `running`. */
export async function resumePurge(store: ClickHouseStore, id: string): Promise<PurgeResult> {
  if (!PURGE_ID.test(id)) throw new PurgeError(`not a purge id: ${id}`);
  const [row] = await store.query<{ status: string }>({
    name: 'purge.audit',
    sql: 'SELECT status FROM data_purges FINAL WHERE purge_id = {id:String}',
    params: { id },
  });
  if (!row) throw new PurgeError(`no purge ${id}`);
  if (row.status === 'done') throw new PurgeError(`purge ${id} is already done`);
  await checkRollupsKnown(store);
  const rounds = await store.query<{ round: number; n: string }>({
    name: 'purge.rounds',
    sql: 'SELECT round, count() AS n FROM purge_rows WHERE purge_id = {id:String} GROUP BY round ORDER BY round',
    params: { id },
  });
  const days = new Set<string>();
  const namespaces = new Set<string>();
  let total = 0;
  for (const r of rounds) {
    const touched = await eraseRound(store, id, Number(r.round));
    for (const d of touched.days) days.add(d);
    for (const ns of touched.namespaces) namespaces.add(ns);
    total += Number(r.n);
  }
  await finish(store, id, total);
  return { purge_id: id, rows_deleted: total, rounds: rounds.length, days: [...days].sort(), namespaces: [...namespaces].sort() };
}
