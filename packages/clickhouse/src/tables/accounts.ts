/**
 * What quaylogs knows about Quay accounts (kind and e-mail), for avatars and the
 * namespace objects of the superuser listing.
 */
import type { AccountInfo } from '@quaylogs/core';
import type { ClickHouseStore } from '../store.ts';
import { nextRowVersion } from './versions.ts';

export async function upsertAccounts(store: ClickHouseStore, source: string, accounts: readonly AccountInfo[]): Promise<void> {
  // One number of the source's own sequence for the whole batch: what was learned later wins.
  const version = await nextRowVersion(store, 'accounts', 'source = {source:String}', { source });
  for (let i = 0; i < accounts.length; i += 50_000) {
    await store.insert({
      table: 'accounts',
      rows: accounts.slice(i, i + 50_000).map((a) => ({ source, name: a.name, kind: a.kind, email: a.email ?? '', version })),
    });
  }
}

/** Looks up the accounts behind a page of entries (performers and namespaces). */
export async function findAccounts(store: ClickHouseStore, names: Iterable<string>): Promise<Map<string, AccountInfo>> {
  const list = [...new Set(names)].filter((n) => n !== '');
  const out = new Map<string, AccountInfo>();
  if (list.length === 0) return out;
  const rows = await store.query<{ name: string; kind: string; email: string }>({
    name: 'accounts.find',
    // A source that does not know an e-mail (HEC, polling) never hides one that another source
    // (import quay-db) recorded: the newest non-empty e-mail wins.
    sql: `SELECT name, argMax(kind, version) AS kind, argMaxIf(email, version, email != '') AS email
          FROM accounts WHERE name IN {names:Array(String)} GROUP BY name`,
    params: { names: list },
  });
  for (const r of rows) {
    const kind = r.kind === 'org' || r.kind === 'robot' ? r.kind : 'user';
    out.set(r.name, { name: r.name, kind, email: r.email === '' ? null : r.email });
  }
  return out;
}
