import type { FastifyRequest } from 'fastify';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import type { QuaylogsConfig } from '@quaylogs/config';
import type { UsageLogRow } from '@quaylogs/core';
import type { AccountCache } from './accountCache.ts';
import type { Authenticator } from './auth.ts';
import type { LogPageCache } from './logPageCache.ts';
import type { RouteRegistry } from './routeRegistry.ts';

/** Writes quaylogs' own audit entries (Quay's kinds) for actions taken through its API. */
export interface AuditWriter {
  write(entries: Omit<UsageLogRow, 'event_key'>[]): Promise<void>;
}

export interface AppContext {
  store: ClickHouseStore;
  config: QuaylogsConfig;
  /** Keys next_page tokens and seals stored token codes. */
  secret: string;
  registry: RouteRegistry;
  auth: Authenticator;
  audit: AuditWriter;
  /** True once shutdown began: /readyz fails. */
  shuttingDown: boolean;
  /** Dependencies /readyz checks besides the store. */
  readiness: Record<string, () => Promise<boolean>>;
  /** The clock logs pages plan their reads by (see listUsageLogs). */
  now: () => Date;
  /** Pages of /logs, kept while their namespace is unchanged (absent: no caching). */
  logPageCache?: LogPageCache;
  /** Accounts behind /logs entries (avatars), looked up at most once a minute per name. */
  accounts: AccountCache;
}

/** `scheme://host` as clients see this server (for error `type` URLs and discovery). */
export function baseUrl(ctx: AppContext, req: FastifyRequest): string {
  const host = ctx.config.QUAYLOGS_SERVER_HOSTNAME ?? req.headers.host ?? `localhost:${ctx.config.QUAYLOGS_PORT}`;
  return `${ctx.config.QUAYLOGS_PREFERRED_URL_SCHEME}://${host}`;
}
