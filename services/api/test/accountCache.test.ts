/**
 * The API's account cache over the real embedded engine: a /logs page's performers and
 * namespaces are looked up once per maxAgeMs (absent ones too), a change shows once an entry
 * is older than that, and a name recorded through this process is looked up again at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseStore, type QuerySpec, upsertAccounts } from '@quaylogs/clickhouse';
import { AccountCache } from '../src/accountCache.ts';
import { openTestStore } from '@quaylogs/testing';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
let lookups = 0;
beforeAll(async () => {
  const t = await openTestStore();
  cleanup = t.cleanup;
  const query = t.store.query.bind(t.store);
  store = { ...t.store, query: (spec: QuerySpec) => (spec.name === 'accounts.find' && lookups++, query(spec)) } as ClickHouseStore;
});
afterAll(async () => cleanup());

describe('account cache', () => {
  it('looks a name up once per maxAgeMs, remembers absent accounts, and forgets a name on request', async () => {
    let clock = 0;
    const cache = new AccountCache({ maxAgeMs: 60_000, now: () => clock });
    await upsertAccounts(store, 'test', [{ name: 'acme', kind: 'org', email: null }]);
    expect([...(await cache.find(store, ['acme', 'ghost', '']))]).toEqual([['acme', { name: 'acme', kind: 'org', email: null }]]);
    expect(lookups).toBe(1);
    // Both names answered from memory, the absent one included.
    expect((await cache.find(store, ['ghost', 'acme'])).get('acme')?.kind).toBe('org');
    expect(lookups).toBe(1);
    // A new name costs one lookup of that name only.
    await upsertAccounts(store, 'test', [{ name: 'ghost', kind: 'user', email: 'g@example.com' }]);
    expect((await cache.find(store, ['acme', 'bob'])).has('bob')).toBe(false);
    expect(lookups).toBe(2);
    // The recorded account shows once the remembered absence is older than maxAgeMs.
    expect((await cache.find(store, ['ghost'])).has('ghost')).toBe(false);
    clock += 60_000;
    expect((await cache.find(store, ['ghost'])).get('ghost')).toEqual({ name: 'ghost', kind: 'user', email: 'g@example.com' });
    expect(lookups).toBe(3);
    // Recorded through this process: looked up again at once.
    await upsertAccounts(store, 'test', [{ name: 'acme', kind: 'org', email: 'ops@acme.example' }]);
    cache.forget('acme');
    expect((await cache.find(store, ['acme'])).get('acme')?.email).toBe('ops@acme.example');
    expect(lookups).toBe(4);
  });
});
