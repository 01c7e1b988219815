/**
 * Accounts behind /logs entries (kind and e-mail, for avatars), per API process: a page's
 * performers and namespaces are looked up in the store only when not seen within `maxAgeMs`
 * (absent accounts are remembered too), so a page costs one statement, not two. Accounts
 * change rarely (the loader records what a source tells it; a new app-token user is recorded
 * through this process, which forgets that name at once); another change shows within
 * `maxAgeMs`, as entries written around the loader do in the page cache.
 */
import { type ClickHouseStore, findAccounts } from '@quaylogs/clickhouse';
import type { AccountInfo } from '@quaylogs/core';

export interface AccountCacheOptions {
  /** Names kept (least recently looked up dropped first; default 50,000). */
  maxEntries?: number;
  /** Longest an account is used without a fresh lookup (default 60 s). */
  maxAgeMs?: number;
  now?: () => number;
}

export class AccountCache {
  private readonly entries = new Map<string, { at: number; info: AccountInfo | null }>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(opts: AccountCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 50_000;
    this.maxAgeMs = opts.maxAgeMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** The known accounts among `names` (as findAccounts answers), querying only for names not fresh here. */
  async find(store: ClickHouseStore, names: Iterable<string>): Promise<Map<string, AccountInfo>> {
    const out = new Map<string, AccountInfo>();
    const missing: string[] = [];
    const now = this.now();
    for (const name of new Set(names)) {
      if (name === '') continue;
      const hit = this.entries.get(name);
      if (hit && now - hit.at < this.maxAgeMs) {
        if (hit.info) out.set(name, hit.info);
      } else {
        missing.push(name);
      }
    }
    if (missing.length === 0) return out;
    const found = await findAccounts(store, missing);
    for (const name of missing) {
      const info = found.get(name) ?? null;
      this.entries.delete(name);
      this.entries.set(name, { at: now, info });
      if (info) out.set(name, info);
    }
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return out;
  }

  /** Forgets a name (its account was just recorded through this process). */
  forget(name: string): void {
    this.entries.delete(name);
  }

  /** Forgets every name (the store was emptied under this process). */
  clear(): void {
    this.entries.clear();
  }
}
