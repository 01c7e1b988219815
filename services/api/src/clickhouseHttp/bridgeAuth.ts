/**
 * Who may use the ClickHouse HTTP interface: a quaylogs superuser, as user name, with one
 * of their app tokens as password. Looked up by the token's SHA-256, like bearer tokens;
 * a short cache keeps BI dashboards (many small queries) off the identity tables.
 */
import { type ClickHouseStore, findAppTokenByHash, getUser } from '@quaylogs/clickhouse';
import { parseChDateTime } from '@quaylogs/core';
import { hashToken } from '../tokenCodes.ts';

export interface BridgeUser {
  username: string;
  superuser: boolean;
}

/** The user behind a user name and password, or null when they do not match. */
export type BridgeAuthenticate = (user: string, password: string) => Promise<BridgeUser | null>;

const CACHE_MS = 5_000;

export function tokenAuthenticator(store: ClickHouseStore): BridgeAuthenticate {
  const cache = new Map<string, { at: number; user: BridgeUser | null; expires: number | null }>();
  return async (username, password) => {
    if (!username || !password) return null;
    const hash = hashToken(password);
    const key = `${hash}:${username}`;
    const now = Date.now();
    let hit = cache.get(key);
    if (!hit || now - hit.at > CACHE_MS) {
      const token = await findAppTokenByHash(store, hash);
      const user = token && token.username === username ? await getUser(store, username) : null;
      hit = {
        at: now,
        user: user ? { username: user.username, superuser: user.superuser } : null,
        expires: token?.expiration ? parseChDateTime(token.expiration).getTime() : null,
      };
      if (cache.size > 10_000) cache.clear();
      cache.set(key, hit);
    }
    if (hit.expires !== null && hit.expires <= now) return null;
    return hit.user;
  };
}
