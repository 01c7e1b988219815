/**
 * Control-plane tables for quaylogs' own identity: users, their admin grants and
 * their app tokens. Rows are versioned (ReplacingMergeTree) and read with FINAL.
 */
import type { ClickHouseStore } from '../store.ts';
import { chTime } from './usageLogs.ts';

let lastVersion = 0;
/** A strictly increasing version per process (microseconds since the epoch). */
export function nextVersion(): number {
  lastVersion = Math.max(lastVersion + 1, Date.now() * 1000);
  return lastVersion;
}

export interface UserRecord {
  username: string;
  email: string;
  superuser: boolean;
  created: string;
}

export interface GrantsRecord {
  organizations: string[];
  repositories: string[];
}

export interface AppTokenRecord {
  uuid: string;
  username: string;
  title: string;
  token_hash: string;
  code_sealed: string;
  created: string;
  expiration: string | null;
  last_accessed: string | null;
}

export async function getUser(store: ClickHouseStore, username: string): Promise<UserRecord | null> {
  const rows = await store.query<{ username: string; email: string; superuser: number; created: string }>({
    name: 'identity.getUser',
    sql: 'SELECT username, email, superuser, toString(created) AS created FROM users FINAL WHERE username = {username:String}',
    params: { username },
  });
  const r = rows[0];
  return r ? { username: r.username, email: r.email, superuser: Number(r.superuser) === 1, created: r.created } : null;
}

export async function listUsers(store: ClickHouseStore): Promise<UserRecord[]> {
  const rows = await store.query<{ username: string; email: string; superuser: number; created: string }>({
    name: 'identity.listUsers',
    sql: 'SELECT username, email, superuser, toString(created) AS created FROM users FINAL ORDER BY username',
  });
  return rows.map((r) => ({ ...r, superuser: Number(r.superuser) === 1 }));
}

export async function putUser(
  store: ClickHouseStore,
  user: { username: string; email: string; superuser: boolean; created?: Date },
): Promise<void> {
  await store.insert({
    table: 'users',
    rows: [
      {
        username: user.username,
        email: user.email,
        superuser: user.superuser ? 1 : 0,
        created: chTime(user.created ?? new Date()),
        version: nextVersion(),
        is_deleted: 0,
      },
    ],
  });
}

export async function getGrants(store: ClickHouseStore, username: string): Promise<GrantsRecord> {
  const rows = await store.query<GrantsRecord>({
    name: 'identity.getGrants',
    sql: 'SELECT organizations, repositories FROM grants FINAL WHERE username = {username:String}',
    params: { username },
  });
  return rows[0] ?? { organizations: [], repositories: [] };
}

export async function putGrants(store: ClickHouseStore, username: string, grants: GrantsRecord): Promise<void> {
  await store.insert({
    table: 'grants',
    rows: [{ username, organizations: grants.organizations, repositories: grants.repositories, version: nextVersion(), is_deleted: 0 }],
  });
}

const TOKEN_COLUMNS = `uuid, username, title, token_hash, code_sealed, toString(created) AS created,
  if(isNull(expiration), NULL, toString(expiration)) AS expiration,
  if(isNull(last_accessed), NULL, toString(last_accessed)) AS last_accessed`;

export async function findAppTokenByHash(store: ClickHouseStore, tokenHash: string): Promise<AppTokenRecord | null> {
  const rows = await store.query<AppTokenRecord>({
    name: 'identity.findTokenByHash',
    sql: `SELECT ${TOKEN_COLUMNS} FROM app_tokens FINAL WHERE token_hash = {tokenHash:String}`,
    params: { tokenHash },
  });
  return rows[0] ?? null;
}

export async function getAppToken(store: ClickHouseStore, uuid: string): Promise<AppTokenRecord | null> {
  const rows = await store.query<AppTokenRecord>({
    name: 'identity.getToken',
    sql: `SELECT ${TOKEN_COLUMNS} FROM app_tokens FINAL WHERE uuid = {uuid:String}`,
    params: { uuid },
  });
  return rows[0] ?? null;
}

export async function listAppTokens(store: ClickHouseStore, username: string): Promise<AppTokenRecord[]> {
  return store.query<AppTokenRecord>({
    name: 'identity.listTokens',
    sql: `SELECT ${TOKEN_COLUMNS} FROM app_tokens FINAL WHERE username = {username:String} ORDER BY created, uuid`,
    params: { username },
  });
}

/** Writes a token row (create, touch or revoke: a newer version replaces the older). */
export async function putAppToken(store: ClickHouseStore, token: AppTokenRecord, deleted = false): Promise<void> {
  await store.insert({
    table: 'app_tokens',
    rows: [{ ...token, version: nextVersion(), is_deleted: deleted ? 1 : 0 }],
  });
}
