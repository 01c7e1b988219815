/**
 * Bearer-token authentication against quaylogs' own app tokens. Tokens are looked
 * up by their SHA-256 (token, user and grants in one statement); a short cache keeps
 * the store off the hot path, and every change made through this process clears it at
 * once (other replicas see a revocation within CACHE_MS).
 */
import type { FastifyRequest } from 'fastify';
import { type ClickHouseStore, findTokenPrincipal, type TokenPrincipalRecord, touchAppToken } from '@quaylogs/clickhouse';
import { parseChDateTime } from '@quaylogs/core';
import type { Principal } from './principal.ts';
import { hashToken } from './tokenCodes.ts';

const CACHE_MS = 5_000;
/** last_accessed is written at most this often per token. */
const TOUCH_MS = 60_000;

export class Authenticator {
  private cache = new Map<string, { at: number; principal: Principal | null; token: TokenPrincipalRecord | null }>();
  private touched = new Map<string, number>();

  constructor(private readonly store: ClickHouseStore) {}

  invalidate(): void {
    this.cache.clear();
  }

  /** The caller, or null when the request carries no valid bearer token. */
  async principal(req: FastifyRequest): Promise<Principal | null> {
    const header = req.headers.authorization;
    if (typeof header !== 'string') return null;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return null;
    const hash = hashToken(m[1]!);
    const now = Date.now();
    let hit = this.cache.get(hash);
    if (!hit || now - hit.at > CACHE_MS) {
      hit = { at: now, ...(await this.load(hash)) };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, hit);
    }
    if (!hit.principal || !hit.token) return null;
    if (hit.token.expiration && parseChDateTime(hit.token.expiration).getTime() <= now) return null;
    this.touch(hit.token, now);
    return hit.principal;
  }

  private async load(hash: string): Promise<{ principal: Principal | null; token: TokenPrincipalRecord | null }> {
    const token = await findTokenPrincipal(this.store, hash);
    if (!token) return { principal: null, token: null };
    return {
      token,
      principal: {
        username: token.user.username,
        email: token.user.email,
        superuser: token.user.superuser,
        organizations: new Set(token.grants.organizations),
        repositories: new Set(token.grants.repositories),
        tokenUuid: token.uuid,
      },
    };
  }

  /** Records last_accessed, at most once a minute per token, off the request path. */
  private touch(token: TokenPrincipalRecord, now: number): void {
    const last = this.touched.get(token.uuid) ?? 0;
    if (now - last < TOUCH_MS) return;
    this.touched.set(token.uuid, now);
    void touchAppToken(this.store, token.uuid, new Date(now)).catch(() => undefined);
  }
}
