/**
 * `quaylogs import quay-db <postgres-url>`: copies Quay's usage logs out of its database
 * (`logentry`, `logentry2`, `logentry3`, oldest first) into the ingest stream.
 *
 * - Reads each table by id (keyset, `batchRows` at a time, up to the highest id seen at
 *   the start), never the whole table at once. Three batches overlap: the next one is
 *   fetched while this one is turned into rows and keyed (the hashing in worker threads,
 *   contentKeys.ts) and the previous one is handed off; hand-offs stay in id order.
 * - Names come from `logentrykind`, `"user"` and `repository` (see quayRows.ts).
 * - Event keys: content hash + ordinal among identical entries of the same second, the
 *   ordinal counted in (table, id) order over the whole database. For each batch the
 *   importer also reads the earlier rows (lower ids, older tables) of the seconds the batch
 *   touches, through Quay's `datetime` index, so no second is ever split by a batch edge
 *   or by a resume. Only seconds that earlier rows can reach are read: the importer knows
 *   the latest second of every row before the batch (the older tables' and the resumed
 *   table's maxima, asked once; then every batch it read), and a batch second after it has
 *   no earlier rows. Quay's ids follow time, so that is the first seconds of a batch.
 * - Resumable: after each hand-off the last id whose rows are all in the stream is stored
 *   in ClickHouse (`import_checkpoints`, per source, database and table; written at most
 *   every `checkpointEveryMs` and whenever the run stops). A run after a crash re-sends at
 *   most the batches after the last checkpoint; their keys make that harmless.
 */
import { type AccountInfo, toChDateTime } from '@quaylogs/core';
import { type ClickHouseStore, getImportCheckpoint, putImportCheckpoint } from '@quaylogs/clickhouse';
import type { Redis } from '@quaylogs/queue';
import type pg from 'pg';
import { ContentKeyPool, defaultKeyThreads } from './contentKeys.ts';
import { keyAfter, type UnkeyedRow } from './eventKeys.ts';
import { type HandOff, type ImportProgress, importerHandOff, ProgressMeter } from './handOff.ts';
import {
  connectQuayDb, databaseIdentity, describePgUrl, ImportError, LOG_TABLES, type LogTable, QuayNames, quayTables,
} from './quayDb.ts';
import { type QuayLogRecord, rowFromRecord } from './quayRows.ts';

export interface ImportQuayDbOptions {
  /** Quay's PostgreSQL database, e.g. `postgres://quay:secret@db:5432/quay` (read-only access suffices). */
  pgUrl: string;
  redis: Redis;
  /** Where checkpoints are kept. */
  store: ClickHouseStore;
  /** `source` of every imported row (the registry's name in quaylogs). Default `quay`. */
  source?: string;
  /** Rows read per batch (default 20,000: a quarter of the round trips of 5,000 — each batch costs a
   *  range read, a look-up of earlier rows in its seconds and a checkpoint — at ~20 MB per batch in hand). */
  batchRows?: number;
  onProgress?: (p: ImportProgress) => void;
  /** Stops the import after the batch in hand; the result then says `completed: false`. */
  signal?: AbortSignal;
  /** Ignore stored checkpoints and read every table from its first row (keys keep this idempotent). */
  restart?: boolean;
  /** See HandOffOptions.maxBacklog (default 20 of its own hand-offs not yet stored). */
  maxBacklog?: number;
  /** Minimum time between checkpoint writes (default 2000 ms). */
  checkpointEveryMs?: number;
  /** Worker threads computing event keys (default: one per core beyond the first, at most 4; 0 = none). */
  keyThreads?: number;
}

export interface ImportTableResult {
  table: LogTable;
  /** The checkpoint the run started after (0 = the start of the table). */
  fromId: number;
  /** The last id handed off (or fromId when nothing was). */
  lastId: number;
  /** Rows handed off from this table in this run. */
  rows: number;
}

export interface ImportResult {
  /** Entries handed to the ingest stream in this run. */
  rows: number;
  /** Entries that could not be stored (e.g. a datetime outside 1900–2299), and a few examples why. */
  skipped: number;
  skippedExamples: string[];
  /** false when `signal` stopped the run early. */
  completed: boolean;
}

export interface ImportQuayDbResult extends ImportResult {
  /** The database, as the checkpoints name it (`<system identifier>/<database>`). */
  target: string;
  tables: ImportTableResult[];
}

const COLUMNS = `l.id::text AS id, l.kind_id, l.account_id, l.performer_id, l.repository_id,
  l.datetime::text AS datetime, l.ip, l.metadata_json`;

interface DbRecord {
  id: string;
  kind_id: number;
  account_id: number;
  performer_id: number | null;
  repository_id: number | null;
  datetime: string;
  ip: string | null;
  metadata_json: string | null;
}

const record = (r: DbRecord): QuayLogRecord => ({
  kind_id: r.kind_id,
  account_id: r.account_id,
  performer_id: r.performer_id,
  repository_id: r.repository_id,
  datetime: r.datetime,
  ip: r.ip,
  metadata: r.metadata_json ?? '',
});

function toId(text: string | null | undefined): number {
  const n = Number(text ?? 0);
  if (!Number.isSafeInteger(n)) throw new ImportError(`log row id ${text} is beyond what quaylogs can track`);
  return n;
}

/** Epoch second of a row's datetime ('YYYY-MM-DD HH:MM:SS…', UTC). */
const secondOf = (datetime: string): number => Date.parse(`${datetime.slice(0, 19).replace(' ', 'T')}Z`) / 1000;

/** Time ranges covering the given seconds: runs of nearby seconds, each [first, last + 1 s). */
export function secondRuns(rows: readonly UnkeyedRow[], gapS = 60): { from: string[]; to: string[] } {
  const secs = [...new Set(rows.map((r) => secondOf(r.datetime)))].sort((a, b) => a - b);
  const from: string[] = [];
  const to: string[] = [];
  const text = (s: number) => toChDateTime(new Date(s * 1000)).slice(0, 19);
  if (secs.length === 0) return { from, to };
  let start = secs[0]!;
  let end = start;
  for (const s of secs.slice(1)) {
    if (s - end <= gapS) {
      end = s;
      continue;
    }
    from.push(text(start));
    to.push(text(end + 1));
    start = s;
    end = s;
  }
  from.push(text(start));
  to.push(text(end + 1));
  return { from, to };
}

/**
 * The latest second of any row that comes before `table`'s rows after `fromId` in (table, id)
 * order: the older tables' rows and this table's up to `fromId`. -Infinity when there are none.
 * Unparseable maxima (outside what the store holds) count as +Infinity: every second is then looked up.
 */
async function latestEarlierSecond(client: pg.Client, table: LogTable, fromId: number, earlierTables: readonly LogTable[]): Promise<number> {
  let latest = -Infinity;
  const consider = (text: string | null | undefined) => {
    if (text === null || text === undefined) return;
    const s = secondOf(text);
    latest = Math.max(latest, Number.isFinite(s) ? s : Infinity);
  };
  for (const t of earlierTables) consider((await client.query<{ m: string | null }>(`SELECT max(datetime)::text AS m FROM ${t}`)).rows[0]?.m);
  if (fromId > 0) {
    consider((await client.query<{ m: string | null }>(`SELECT max(datetime)::text AS m FROM ${table} WHERE id <= $1`, [fromId])).rows[0]?.m);
  }
  return latest;
}

export async function importQuayDb(opts: ImportQuayDbOptions): Promise<ImportQuayDbResult> {
  const source = opts.source ?? 'quay';
  if (source.trim() === '') throw new ImportError('source must not be empty');
  const batchRows = opts.batchRows ?? 20_000;
  if (!Number.isSafeInteger(batchRows) || batchRows < 1 || batchRows > 100_000) {
    throw new ImportError(`batchRows must be an integer from 1 to 100000, got ${batchRows}`);
  }
  const reader = await connectQuayDb(opts.pgUrl);
  let lookup: pg.Client | undefined;
  const keys = new ContentKeyPool(opts.keyThreads ?? defaultKeyThreads());
  try {
    lookup = await connectQuayDb(opts.pgUrl);
    const present = await quayTables(reader);
    for (const t of ['logentrykind', 'user'] as const) {
      if (!present.has(t)) {
        throw new ImportError(`${describePgUrl(opts.pgUrl)} has no "${t}" table: is this Quay's database (and the right schema)?`);
      }
    }
    const tables = LOG_TABLES.filter((t) => present.has(t));
    if (tables.length === 0) {
      throw new ImportError(`${describePgUrl(opts.pgUrl)} has none of Quay's log tables (${LOG_TABLES.join(', ')})`);
    }
    const names = await QuayNames.load(lookup);
    const target = await databaseIdentity(reader);

    const plans: { table: LogTable; rank: number; fromId: number; maxId: number; priorRows: number }[] = [];
    let total = 0;
    for (const table of tables) {
      const cp = opts.restart ? null : await getImportCheckpoint(opts.store, { source, target, table });
      const fromId = cp?.lastId ?? 0;
      const maxId = toId((await reader.query<{ m: string | null }>(`SELECT max(id)::text AS m FROM ${table}`)).rows[0]?.m);
      plans.push({ table, rank: LOG_TABLES.indexOf(table), fromId, maxId, priorRows: cp?.rows ?? 0 });
      total += await remainingRows(reader, table, fromId, maxId);
    }

    const meter = new ProgressMeter(total, opts.onProgress);
    const handOff = importerHandOff(opts, source, meter);
    const result: ImportQuayDbResult = { target, tables: [], rows: 0, skipped: 0, skippedExamples: [], completed: true };
    const ctx = { opts, source, target, batchRows, reader, lookup, names, meter, handOff, keys, result };
    for (const plan of plans) {
      const earlier = plans.filter((p) => p.rank < plan.rank).map((p) => p.table);
      const done = await importTable(ctx, plan, earlier);
      if (!done) {
        result.completed = false;
        break;
      }
    }
    meter.report(true);
    return result;
  } finally {
    await reader.end().catch(() => undefined);
    await lookup?.end().catch(() => undefined);
    await keys.close();
  }
}

/** Rows left to read: counted exactly on small tables, else estimated from the planner's row count and the id span. */
async function remainingRows(client: pg.Client, table: LogTable, fromId: number, maxId: number): Promise<number> {
  if (maxId <= fromId) return 0;
  const est = await client.query<{ n: number }>('SELECT reltuples::float8 AS n FROM pg_class WHERE oid = $1::regclass', [table]);
  const tuples = Number(est.rows[0]?.n ?? -1); // -1: never analyzed
  if (tuples < 5_000_000 && maxId - fromId < 20_000_000) {
    const res = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table} WHERE id > $1 AND id <= $2`, [fromId, maxId]);
    return Number(res.rows[0]?.n ?? 0);
  }
  if (tuples < 0) return maxId - fromId;
  const bounds = await client.query<{ lo: string | null }>(`SELECT min(id)::text AS lo FROM ${table}`);
  const minId = toId(bounds.rows[0]?.lo);
  const span = Math.max(1, maxId - minId + 1);
  return Math.round((tuples * (maxId - Math.max(fromId, minId - 1))) / span);
}

interface Ctx {
  opts: ImportQuayDbOptions;
  source: string;
  target: string;
  batchRows: number;
  reader: pg.Client;
  lookup: pg.Client;
  names: QuayNames;
  meter: ProgressMeter;
  handOff: HandOff;
  keys: ContentKeyPool;
  result: ImportQuayDbResult;
}

/** Imports one table from its checkpoint to `maxId`. Returns false when stopped by the signal. */
async function importTable(
  ctx: Ctx,
  plan: { table: LogTable; fromId: number; maxId: number; priorRows: number },
  earlierTables: LogTable[],
): Promise<boolean> {
  const { table, maxId } = plan;
  const { opts, source, target, names } = ctx;
  const tableResult: ImportTableResult = { table, fromId: plan.fromId, lastId: plan.fromId, rows: 0 };
  ctx.result.tables.push(tableResult);
  const fetchBatch = (after: number): Promise<DbRecord[]> => {
    if (after >= maxId) return Promise.resolve([]);
    const p = ctx.reader
      .query<DbRecord>(`SELECT ${COLUMNS} FROM ${table} l WHERE l.id > $1 AND l.id <= $2 ORDER BY l.id LIMIT $3`, [after, maxId, ctx.batchRows])
      .then((r) => r.rows);
    p.catch(() => undefined); // awaited later; never an unhandled rejection meanwhile
    return p;
  };

  let saved = plan.fromId;
  let lastSave = Date.now();
  const everyMs = opts.checkpointEveryMs ?? 2000;
  const save = async () => {
    if (tableResult.lastId === saved) return;
    await putImportCheckpoint(opts.store, { source, target, table, lastId: tableResult.lastId, rows: plan.priorRows + tableResult.rows });
    saved = tableResult.lastId;
    lastSave = Date.now();
  };

  let cursor = plan.fromId;
  let next = fetchBatch(cursor);
  // The latest second of every row before the batch in hand (see the header).
  let latestBefore = await latestEarlierSecond(ctx.lookup, table, plan.fromId, earlierTables);
  // The previous batch's hand-off, still running while this batch is read and keyed.
  let handing: Promise<void> = Promise.resolve();
  let failed = false;
  try {
    for (;;) {
      if (opts.signal?.aborted) {
        await handing;
        return false;
      }
      const records = await next;
      if (records.length === 0) {
        await handing;
        return true;
      }
      const lo = cursor;
      const hi = toId(records[records.length - 1]!.id);
      cursor = hi;
      next = fetchBatch(hi);

      await names.prefetch(
        records.flatMap((r) => [r.account_id, r.performer_id]),
        records.map((r) => r.repository_id),
      );
      const accounts = new Map<string, AccountInfo>();
      const batch: UnkeyedRow[] = [];
      for (const r of records) {
        const row = rowFromRecord(record(r), names, source, accounts);
        if (typeof row === 'string') {
          ctx.result.skipped++;
          if (ctx.result.skippedExamples.length < 5) ctx.result.skippedExamples.push(`${table} id ${r.id}: ${row}`);
        } else {
          batch.push(row);
        }
      }
      // Only rows that get keys count: a skipped row is never looked back at either.
      const seconds = batch.map((r) => secondOf(r.datetime));
      const reachable = batch.filter((_, i) => seconds[i]! <= latestBefore);
      const before = reachable.length > 0 ? await earlierRowsOfSameSeconds(ctx, reachable, table, lo, earlierTables) : [];
      const keying = keyAfter(ctx.keys, before, batch);
      keying.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
      for (const s of seconds) if (s > latestBefore) latestBefore = s;
      const newAccounts = ctx.handOff.newAccounts(accounts.values());

      // Hand-offs stay in id order, one at a time; the checkpoint follows each one.
      await handing;
      const keyed = await keying;
      handing = (async () => {
        await ctx.handOff.send(keyed, newAccounts);
        tableResult.lastId = hi;
        tableResult.rows += keyed.length;
        ctx.result.rows += keyed.length;
        if (Date.now() - lastSave >= everyMs) await save();
        ctx.meter.add(keyed.length, true);
      })();
      handing.catch(() => undefined); // awaited on the next turn
    }
  } catch (err) {
    failed = true;
    await handing.catch(() => undefined);
    if (opts.signal?.aborted) {
      await save();
      return false;
    }
    try {
      await save();
    } catch {
      // the original error matters more; the next run re-sends from the previous checkpoint
    }
    throw err;
  } finally {
    if (!failed) await save();
  }
}

/**
 * The rows that come before this batch in (table, id) order and fall in the seconds the
 * batch touches: same table with id ≤ lo, and every row of the older tables.
 */
async function earlierRowsOfSameSeconds(
  ctx: Ctx,
  batch: readonly UnkeyedRow[],
  table: LogTable,
  lo: number,
  earlierTables: readonly LogTable[],
): Promise<UnkeyedRow[]> {
  const runs = secondRuns(batch);
  const found: DbRecord[] = [];
  const join = `JOIN unnest($1::timestamp[], $2::timestamp[]) AS r(a, b) ON l.datetime >= r.a AND l.datetime < r.b`;
  for (const t of earlierTables) {
    const res = await ctx.lookup.query<DbRecord>(`SELECT ${COLUMNS} FROM ${t} l ${join}`, [runs.from, runs.to]);
    found.push(...res.rows);
  }
  if (lo > 0) {
    const res = await ctx.lookup.query<DbRecord>(`SELECT ${COLUMNS} FROM ${table} l ${join} WHERE l.id <= $3`, [runs.from, runs.to, lo]);
    found.push(...res.rows);
  }
  if (found.length === 0) return [];
  await ctx.names.prefetch(
    found.flatMap((r) => [r.account_id, r.performer_id]),
    found.map((r) => r.repository_id),
  );
  const out: UnkeyedRow[] = [];
  for (const r of found) {
    const row = rowFromRecord(record(r), ctx.names, ctx.source);
    if (typeof row !== 'string') out.push(row);
  }
  return out;
}
