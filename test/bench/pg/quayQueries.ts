/**
 * The SQL Quay's `database` logs model sends to PostgreSQL, statement for
 * statement (peewee's rendering, parameters bound):
 * - lookups: data/model/user.py `get_user_or_org` / `get_user`,
 *   data/model/_basequery.py `get_existing_repository`;
 * - aggregates: data/model/log.py `get_aggregated_logs` over `_logs_query`,
 *   issued by data/logs_model/table_logs_model.py `get_aggregated_log_counts`;
 * - pages: `get_logs_query` + data/model/modelutil.py `paginate`
 *   (ORDER BY datetime DESC, `datetime <= start_index`, OFFSET, LIMIT 21),
 *   issued by `lookup_logs`;
 * - export: `yield_logs_for_export`'s walk (windows from 1 s, doubling while a
 *   window returns fewer than 1,000 rows, at most 31 days).
 *
 * One deliberate difference: Quay groups aggregates by `EXTRACT(day FROM datetime)`
 * (the day-of-month number, then re-dated in Python); here the group is the true
 * date (`CAST(datetime AS date)`), so counts can be compared day by day over any
 * range. Both group by one computed value per row; the cost is the same.
 */
import type pg from 'pg';

const USER_COLUMNS = [
  'id', 'uuid', 'username', 'password_hash', 'email', 'verified', 'stripe_id', 'organization', 'robot',
  'invoice_email', 'invalid_login_attempts', 'last_invalid_login', 'removed_tag_expiration_s', 'enabled',
  'invoice_email_address', 'company', 'family_name', 'given_name', 'location', 'maximum_queued_builds_count',
  'creation_date', 'last_accessed',
];
const REPO_COLUMNS = ['id', 'namespace_user_id', 'name', 'visibility_id', 'description', 'badge_token', 'kind_id', 'trust_enabled', 'state'];
const LOG_COLUMNS = ['id', 'kind_id', 'account_id', 'performer_id', 'repository_id', 'datetime', 'ip', 'metadata_json'];

const cols = (alias: string, names: readonly string[], prefix = '') =>
  names.map((c) => `"${alias}"."${c}"${prefix ? ` AS "${prefix}${c}"` : ''}`).join(', ');

/** Repository.state MARKED_FOR_DELETION */
const MARKED_FOR_DELETION = 3;

export interface QuayLogFilter {
  /** Naive UTC `YYYY-MM-DD HH:MM:SS.mmm`. */
  start: string;
  end: string;
  namespace?: string;
  repository?: { namespace: string; name: string };
  performer?: string;
}

/** `get_user_or_org`: the namespace account, robots excluded. */
export async function getUserOrOrg(client: pg.Client, username: string): Promise<{ id: number } | null> {
  const r = await client.query<{ id: number }>(
    `SELECT ${cols('t1', USER_COLUMNS)} FROM "user" AS "t1" WHERE (("t1"."username" = $1) AND ("t1"."robot" = $2)) LIMIT 1`,
    [username, false],
  );
  return r.rows[0] ?? null;
}

/** `get_user`: a user (or robot) account, organizations excluded. */
export async function getUser(client: pg.Client, username: string): Promise<{ id: number } | null> {
  const r = await client.query<{ id: number }>(
    `SELECT ${cols('t1', USER_COLUMNS)} FROM "user" AS "t1" WHERE (("t1"."username" = $1) AND ("t1"."organization" = $2)) LIMIT 1`,
    [username, false],
  );
  return r.rows[0] ?? null;
}

/** `get_existing_repository`: repository joined to its namespace. */
export async function getRepository(client: pg.Client, namespace: string, name: string): Promise<{ id: number } | null> {
  const r = await client.query<{ id: number }>(
    `SELECT ${cols('t1', REPO_COLUMNS)}, ${cols('t2', USER_COLUMNS, 'ns_')} FROM "repository" AS "t1"
     INNER JOIN "user" AS "t2" ON ("t1"."namespace_user_id" = "t2"."id")
     WHERE ((("t2"."username" = $1) AND ("t1"."name" = $2)) AND ("t1"."state" != $3)) LIMIT 1`,
    [namespace, name, MARKED_FOR_DELETION],
  );
  return r.rows[0] ?? null;
}

/** Resolved ids of a filter, looked up the way Quay does before it queries logentry3. */
export interface ResolvedFilter {
  start: string;
  end: string;
  accountId?: number;
  repositoryId?: number;
  performerId?: number;
}

async function resolveFilter(client: pg.Client, f: QuayLogFilter): Promise<ResolvedFilter> {
  const out: ResolvedFilter = { start: f.start, end: f.end };
  if (f.repository) {
    const repo = await getRepository(client, f.repository.namespace, f.repository.name);
    if (!repo) throw new Error(`unknown repository ${f.repository.namespace}/${f.repository.name}`);
    out.repositoryId = repo.id;
  }
  if (f.performer) {
    const user = await getUser(client, f.performer);
    if (!user) throw new Error(`unknown performer ${f.performer}`);
    out.performerId = user.id;
  }
  if (f.namespace && !f.repository) {
    const ns = await getUserOrOrg(client, f.namespace);
    if (!ns) throw new Error(`Invalid namespace requested: ${f.namespace}`);
    out.accountId = ns.id;
  }
  return out;
}

/** `_logs_query`'s WHERE clause, conditions in Quay's order. */
function logsWhere(f: ResolvedFilter, params: unknown[]): string {
  params.push(f.start, f.end);
  let where = `(("t1"."datetime" >= $${params.length - 1}) AND ("t1"."datetime" < $${params.length}))`;
  if (f.repositoryId !== undefined) {
    params.push(f.repositoryId);
    where = `(${where} AND ("t1"."repository_id" = $${params.length}))`;
  }
  if (f.performerId !== undefined) {
    params.push(f.performerId);
    where = `(${where} AND ("t1"."performer_id" = $${params.length}))`;
  }
  if (f.accountId !== undefined && f.repositoryId === undefined) {
    params.push(f.accountId);
    where = `(${where} AND ("t1"."account_id" = $${params.length}))`;
  }
  return where;
}

export interface PgAggregateRow {
  kind_id: number;
  /** `YYYY-MM-DD` */
  day: string;
  count: number;
}

export function aggregateSql(f: ResolvedFilter): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where = logsWhere(f, params);
  return {
    sql: `SELECT "t1"."kind_id", CAST("t1"."datetime" AS date) AS "day", COUNT("t1"."id") AS "count"
          FROM "logentry3" AS "t1" WHERE ${where}
          GROUP BY CAST("t1"."datetime" AS date), "t1"."kind_id"`,
    params,
  };
}

/** `get_aggregated_log_counts` against logentry3 (lookups included). */
export async function quayAggregate(client: pg.Client, f: QuayLogFilter): Promise<PgAggregateRow[]> {
  const q = aggregateSql(await resolveFilter(client, f));
  return (await client.query<PgAggregateRow>(q.sql, q.params)).rows;
}

export interface PgLogRow {
  id: number;
  kind_id: number;
  account_id: number;
  performer_id: number | null;
  repository_id: number | null;
  /** Naive UTC as PostgreSQL prints it (fraction trimmed). */
  datetime: string;
  ip: string | null;
  metadata_json: string;
  p_username: string | null;
}

/** Quay's page token for the `database` model (modelutil.paginate). */
export interface QuayPageToken {
  start_index: string;
  offset_val: number;
  page_number: number;
}

export function pageSql(f: ResolvedFilter, token: QuayPageToken | null, limit = 20): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  let where = logsWhere(f, params);
  if (token) {
    params.push(token.start_index);
    where = `(${where} AND ("t1"."datetime" <= $${params.length}))`;
  }
  let tail = '';
  if (token && token.offset_val > 0) {
    params.push(token.offset_val);
    tail += ` OFFSET $${params.length}`;
  }
  params.push(limit + 1);
  tail = ` LIMIT $${params.length}${tail}`;
  return {
    sql: `SELECT ${cols('t1', LOG_COLUMNS)}, ${cols('t2', USER_COLUMNS, 'p_')}
          FROM "logentry3" AS "t1" LEFT OUTER JOIN "user" AS "t2" ON ("t1"."performer_id" = "t2"."id")
          WHERE ${where} ORDER BY "t1"."datetime" DESC${tail}`,
    params,
  };
}

export interface QuayPage {
  rows: PgLogRow[];
  next: QuayPageToken | null;
}

/**
 * `lookup_logs` for one page: lookups, then the paginated query. Returns the 20
 * entries and the next token.
 *
 * The next token follows Quay's intent: `start_index` is the 21st row's datetime
 * and `offset_val` skips the rows of that datetime already served. Quay's own
 * bookkeeping adds 20 whenever rows 20 and 21 share a datetime and never resets
 * it (a walk then skips rows); copying that would make the two
 * sides page through different entries, so the bench counts the already-served
 * rows instead. The statement (shape, index use, LIMIT 21 and OFFSET) is Quay's.
 */
export async function quayPage(client: pg.Client, f: QuayLogFilter, token: QuayPageToken | null): Promise<QuayPage> {
  const resolved = await resolveFilter(client, f);
  const q = pageSql(resolved, token);
  const rows = (await client.query<PgLogRow>(q.sql, q.params)).rows;
  return { rows: rows.slice(0, 20), next: nextToken(rows, token) };
}

function nextToken(rows: PgLogRow[], token: QuayPageToken | null): QuayPageToken | null {
  if (rows.length <= 20) return null;
  const startIndex = rows[20]!.datetime;
  let offset = 0;
  for (let i = 19; i >= 0 && rows[i]!.datetime === startIndex; i--) offset++;
  // Rows of this datetime served on earlier pages too (a long run of equal datetimes).
  if (offset === 20 && token && token.start_index === startIndex) offset += token.offset_val;
  return { start_index: startIndex, offset_val: offset, page_number: (token?.page_number ?? 0) + 1 };
}

const MINIMUM_RANGE_MS = 1000;
const MAXIMUM_RANGE_MS = 31 * 86_400_000;
const EXPECTED_ITERATION_LOG_COUNT = 1000;

function naive(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * `yield_logs_for_export` for a namespace: consecutive windows, each one query
 * (`get_logs_query(namespace_id=…)`: logentry3 LEFT JOIN performer, no ORDER BY),
 * yielding each window's rows. `stats.queries` counts the statements issued.
 */
export async function* quayExportBatches(
  client: pg.Client,
  namespaceId: number,
  startMs: number,
  endMs: number,
  stats: { queries: number } = { queries: 0 },
): AsyncGenerator<PgLogRow[]> {
  let cur = startMs;
  let size = MINIMUM_RANGE_MS;
  while (cur < endMs) {
    const next = Math.min(cur + size, endMs);
    const params: unknown[] = [];
    const where = logsWhere({ start: naive(cur), end: naive(next), accountId: namespaceId }, params);
    const r = await client.query<PgLogRow>(
      `SELECT ${cols('t1', LOG_COLUMNS)}, ${cols('t2', USER_COLUMNS, 'p_')}
       FROM "logentry3" AS "t1" LEFT OUTER JOIN "user" AS "t2" ON ("t1"."performer_id" = "t2"."id")
       WHERE ${where}`,
      params,
    );
    stats.queries++;
    yield r.rows;
    cur = next;
    if (r.rows.length < EXPECTED_ITERATION_LOG_COUNT) size = Math.min(MAXIMUM_RANGE_MS, size * 2);
  }
}
