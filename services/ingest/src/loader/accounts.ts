/** Account upserts: the accounts (e-mails, kinds) a batch's entries carried, per source, once each. */
import { type ClickHouseStore, upsertAccounts } from '@quaylogs/clickhouse';
import type { AccountInfo } from '@quaylogs/core';
import type { StreamEntry } from './streamEntries.ts';

export async function upsertAccountsOf(store: ClickHouseStore, entries: readonly StreamEntry[]): Promise<void> {
  const accounts = new Map<string, Map<string, AccountInfo>>();
  for (const e of entries) {
    for (const a of e.batch!.accounts ?? []) {
      let bySource = accounts.get(e.batch!.source);
      if (!bySource) accounts.set(e.batch!.source, (bySource = new Map()));
      bySource.set(a.name, a);
    }
  }
  for (const [source, list] of accounts) await upsertAccounts(store, source, [...list.values()]);
}
