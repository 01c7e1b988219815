/**
 * Control-plane tables for quaylogs' own identity: users, their admin grants and
 * their app tokens. Rows are versioned (ReplacingMergeTree) and read with FINAL.
 */
import type { ClickHouseStore } from '../store.ts';
import { chTime } from './usageLogs.ts';
import { nextRowVersion, transitionVersion } from './versions.ts';

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
        version: await nextRowVersion(store, 'users', 'username = {username:String}', { username: user.username }),
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
    rows: [
      {
        username,
        organizations: grants.organizations,
        repositories: grants.repositories,
        version: await nextRowVersion(store, 'grants', 'username = {username:String}', { username }),
        is_deleted: 0,
      },
    ],
  });
}

const TOKEN_SELECT = `SELECT t.uuid AS uuid, t.username AS username, t.title AS title, t.token_hash AS token_hash,
    t.code_sealed AS code_sealed, toString(t.created) AS created,
    if(isNull(t.expiration), NULL, toString(t.expiration)) AS expiration,
    if(isNull(a.last_accessed), NULL, toString(a.last_accessed)) AS last_accessed
  FROM app_tokens AS t FINAL
  LEFT JOIN (SELECT uuid, max(last_accessed) AS last_accessed FROM app_token_access GROUP BY uuid) AS a ON a.uuid = t.uuid`;
const TOKEN_SETTINGS = { join_use_nulls: 1 };

export async function findAppTokenByHash(store: ClickHouseStore, tokenHash: string): Promise<AppTokenRecord | null> {
  const rows = await store.query<AppTokenRecord>({
    name: 'identity.findTokenByHash',
    sql: `${TOKEN_SELECT} WHERE t.token_hash = {tokenHash:String}`,
    params: { tokenHash },
    settings: TOKEN_SETTINGS,
  });
  return rows[0] ?? null;
}

/** Who a token authenticates: the token's identity and expiry, its user and that user's grants. */
export interface TokenPrincipalRecord {
  uuid: string;
  expiration: string | null;
  user: UserRecord;
  grants: GrantsRecord;
}

/**
 * The live token with this hash, its (live) user and the user's grants, in ONE statement:
 * authentication on a cache miss costs one statement of the embedded engine, not three (the
 * token, then the user and the grants), and reads no access times (app_token_access).
 * Null when the hash names no live token or the token's user is gone.
 */
export async function findTokenPrincipal(store: ClickHouseStore, tokenHash: string): Promise<TokenPrincipalRecord | null> {
  const rows = await store.query<{
    uuid: string;
    expiration: string | null;
    username: string;
    email: string;
    superuser: number;
    created: string;
    organizations: string[];
    repositories: string[];
  }>({
    name: 'identity.findTokenPrincipal',
    sql: `SELECT t.uuid AS uuid, if(isNull(t.expiration), NULL, toString(t.expiration)) AS expiration,
            u.username AS username, u.email AS email, u.superuser AS superuser, toString(u.created) AS created,
            g.organizations AS organizations, g.repositories AS repositories
          FROM (SELECT uuid, username, expiration FROM app_tokens FINAL WHERE token_hash = {tokenHash:String}) AS t
          INNER JOIN (SELECT username, email, superuser, created FROM users FINAL) AS u ON u.username = t.username
          LEFT JOIN (SELECT username, organizations, repositories FROM grants FINAL) AS g ON g.username = t.username`,
    params: { tokenHash },
    // A user without grants joins empty arrays (the column defaults), not NULLs.
    settings: { join_use_nulls: 0 },
  });
  const r = rows[0];
  if (!r) return null;
  return {
    uuid: r.uuid,
    expiration: r.expiration,
    user: { username: r.username, email: r.email, superuser: Number(r.superuser) === 1, created: r.created },
    grants: { organizations: r.organizations, repositories: r.repositories },
  };
}

export async function getAppToken(store: ClickHouseStore, uuid: string): Promise<AppTokenRecord | null> {
  const rows = await store.query<AppTokenRecord>({
    name: 'identity.getToken',
    sql: `${TOKEN_SELECT} WHERE t.uuid = {uuid:String}`,
    params: { uuid },
    settings: TOKEN_SETTINGS,
  });
  return rows[0] ?? null;
}

export async function listAppTokens(store: ClickHouseStore, username: string): Promise<AppTokenRecord[]> {
  return store.query<AppTokenRecord>({
    name: 'identity.listTokens',
    sql: `${TOKEN_SELECT} WHERE t.username = {username:String} ORDER BY t.created, t.uuid`,
    params: { username },
    settings: TOKEN_SETTINGS,
  });
}

/** Writes a token row: create, then revoke (a token's two transitions; a revoked token stays revoked). */
export async function putAppToken(
  store: ClickHouseStore,
  token: Omit<AppTokenRecord, 'last_accessed'>,
  deleted = false,
): Promise<void> {
  const { uuid, username, title, token_hash, code_sealed, created, expiration } = token;
  await store.insert({
    table: 'app_tokens',
    rows: [{ uuid, username, title, token_hash, code_sealed, created, expiration, version: transitionVersion(deleted ? 2 : 1), is_deleted: deleted ? 1 : 0 }],
  });
}

/** Records that a token was used (kept apart from app_tokens; see migration 0003). */
export async function touchAppToken(store: ClickHouseStore, uuid: string, at: Date): Promise<void> {
  await store.insert({ table: 'app_token_access', rows: [{ uuid, last_accessed: chTime(at) }] });
}
