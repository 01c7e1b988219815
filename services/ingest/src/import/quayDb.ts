/**
 * Read-only access to Quay's PostgreSQL database: the log tables, and the names behind
 * the numeric ids they hold (`logentrykind`, `"user"`, `repository`; quay/quay
 * data/database.py). Sessions are read-only, in UTC, with ISO date output: Quay stores
 * naive UTC timestamps, and we read them as text so no local zone ever applies.
 */
import pg from 'pg';
import type { AccountInfo } from '@quaylogs/core';

/** Quay's log tables, oldest first. Quay reads all three and writes only `logentry3`. */
export const LOG_TABLES = ['logentry', 'logentry2', 'logentry3'] as const;
export type LogTable = (typeof LOG_TABLES)[number];

export class ImportError extends Error {
  override name = 'ImportError';
}

export interface QuayUser {
  username: string;
  email: string;
  organization: boolean;
  robot: boolean;
}

/** A Quay user row as quaylogs' account info (orgs, robots, users with their e-mail). */
export function accountOf(u: QuayUser): AccountInfo {
  return {
    name: u.username,
    kind: u.organization ? 'org' : u.robot ? 'robot' : 'user',
    email: u.email === '' ? null : u.email,
  };
}

/** `postgres://user@host:port/db` without the password, for messages. */
export function describePgUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return '(unparseable PostgreSQL URL)';
  }
}

export async function connectQuayDb(url: string, label = 'quaylogs-import'): Promise<pg.Client> {
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url, application_name: label, connectionTimeoutMillis: 10_000 });
  } catch (err) {
    throw new ImportError(`invalid PostgreSQL URL ${describePgUrl(url)}: ${(err as Error).message}`);
  }
  try {
    await client.connect();
    await client.query(
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET default_transaction_read_only = on",
    );
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new ImportError(`cannot connect to Quay's database ${describePgUrl(url)}: ${(err as Error).message}`);
  }
  return client;
}

/** Which of Quay's tables exist (in the session's schemas). */
export async function quayTables(client: pg.Client): Promise<Set<string>> {
  const res = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (current_schemas(false))
        AND c.relname = ANY ($1::text[])`,
    [[...LOG_TABLES, 'logentrykind', 'user', 'repository']],
  );
  return new Set(res.rows.map((r) => r.relname));
}

/** Identifies the database across runs (and across a primary and its replicas). */
export async function databaseIdentity(client: pg.Client): Promise<string> {
  const db = await client.query<{ db: string }>('SELECT current_database() AS db');
  const name = db.rows[0]?.db ?? '';
  try {
    const sys = await client.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()');
    const id = sys.rows[0]?.id;
    if (id) return `${id}/${name}`;
  } catch {
    // pg_control_system() may be revoked; fall back to the server address.
  }
  const addr = await client.query<{ a: string | null; p: number | null }>(
    'SELECT inet_server_addr()::text AS a, inet_server_port() AS p',
  );
  return `${addr.rows[0]?.a ?? 'local'}:${addr.rows[0]?.p ?? ''}/${name}`;
}

const CACHE_LIMIT = 500_000;

/**
 * Names behind Quay's numeric ids, cached. Users and repositories are fetched in bulk
 * for each batch (`prefetch`), then looked up synchronously; an id that does not exist
 * any more (deleted user or repository) resolves to null.
 */
export class QuayNames {
  private readonly kinds = new Map<number, string>();
  private readonly users = new Map<number, QuayUser | null>();
  private readonly repos = new Map<number, string | null>();
  private readonly usersByName = new Map<string, QuayUser | null>();

  private constructor(private readonly client: pg.Client) {}

  static async load(client: pg.Client): Promise<QuayNames> {
    const names = new QuayNames(client);
    const kinds = await client.query<{ id: number; name: string }>('SELECT id, name FROM logentrykind');
    for (const k of kinds.rows) names.kinds.set(Number(k.id), k.name);
    return names;
  }

  /** Quay renders a kind id it does not know as "unknown". */
  kind(id: number): string {
    return this.kinds.get(id) ?? 'unknown';
  }

  user(id: number | null): QuayUser | null {
    return id === null ? null : (this.users.get(id) ?? null);
  }

  repository(id: number | null): string | null {
    return id === null ? null : (this.repos.get(id) ?? null);
  }

  userByName(name: string): QuayUser | null {
    return this.usersByName.get(name) ?? null;
  }

  /** Fetches the users and repositories these ids name that are not cached yet. */
  async prefetch(userIds: Iterable<number | null>, repoIds: Iterable<number | null>): Promise<void> {
    const missingUsers = missing(userIds, this.users);
    const missingRepos = missing(repoIds, this.repos);
    if (this.users.size + missingUsers.length > CACHE_LIMIT) this.users.clear();
    if (this.repos.size + missingRepos.length > CACHE_LIMIT) this.repos.clear();
    if (missingUsers.length > 0) {
      const res = await this.client.query<QuayUser & { id: number }>(
        'SELECT id, username, email, organization, robot FROM "user" WHERE id = ANY ($1::int[])',
        [missingUsers],
      );
      for (const id of missingUsers) this.users.set(id, null);
      for (const u of res.rows) {
        this.users.set(Number(u.id), { username: u.username, email: u.email ?? '', organization: u.organization, robot: u.robot });
      }
    }
    if (missingRepos.length > 0) {
      const res = await this.client.query<{ id: number; name: string }>(
        'SELECT id, name FROM repository WHERE id = ANY ($1::int[])',
        [missingRepos],
      );
      for (const id of missingRepos) this.repos.set(id, null);
      for (const r of res.rows) this.repos.set(Number(r.id), r.name);
    }
  }

  /** Fetches users by name (for entries that carry names, not ids). */
  async prefetchByName(names: Iterable<string>): Promise<void> {
    const wanted = [...new Set(names)].filter((n) => n !== '' && !this.usersByName.has(n));
    if (wanted.length === 0) return;
    if (this.usersByName.size + wanted.length > CACHE_LIMIT) this.usersByName.clear();
    const res = await this.client.query<QuayUser>(
      'SELECT username, email, organization, robot FROM "user" WHERE username = ANY ($1::text[])',
      [wanted],
    );
    for (const n of wanted) this.usersByName.set(n, null);
    for (const u of res.rows) {
      this.usersByName.set(u.username, { username: u.username, email: u.email ?? '', organization: u.organization, robot: u.robot });
    }
  }
}

function missing<V>(ids: Iterable<number | null>, cache: Map<number, V>): number[] {
  const out = new Set<number>();
  for (const id of ids) if (id !== null && !cache.has(id)) out.add(id);
  return [...out];
}
