/**
 * Control-plane rows are ordered by what they carry, not by the writer's clock: a write
 * from a host whose clock runs a day behind still replaces the state it follows, a revoked
 * token stays revoked, and rows written by earlier versions (clock-based versions) are
 * replaced by the next write.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type ClickHouseStore,
  getAppToken,
  getExport,
  getGrants,
  getPollCheckpoint,
  putAppToken,
  putExport,
  putGrants,
  putPollCheckpoint,
  queuedExport,
} from '../src/index.ts';
import { openTestStore, resetStore } from '@quaylogs/testing';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterAll(async () => cleanup());
afterEach(async () => {
  vi.restoreAllMocks();
  await resetStore(store);
});

const DAY = 86_400_000;
/** Runs `write` as a host whose clock is `skewMs` off. */
async function skewed<T>(skewMs: number, write: () => Promise<T>): Promise<T> {
  const real = Date.now.bind(Date);
  const spy = vi.spyOn(Date, 'now').mockImplementation(() => real() + skewMs);
  try {
    return await write();
  } finally {
    spy.mockRestore();
  }
}

describe('control-plane versions come from the rows, not from clocks', () => {
  it('a later write from a host whose clock runs a day behind replaces the earlier one (grants, exports, checkpoints)', async () => {
    await skewed(+DAY, () => putGrants(store, 'alice', { organizations: ['acme'], repositories: [] }));
    await skewed(-DAY, () => putGrants(store, 'alice', { organizations: ['other'], repositories: ['x/y'] }));
    expect(await getGrants(store, 'alice')).toEqual({ organizations: ['other'], repositories: ['x/y'] });

    const queued = queuedExport({
      export_id: 'exp-1', namespace: 'acme', repository: '', requested_by: 'alice', schedule_id: '',
      window_start: new Date('2026-01-01T00:00:00Z'), window_end: new Date('2026-01-02T00:00:00Z'), kinds: [], exclude_kinds: [],
      performer: '', format: 'json', compress: '', callback_url: 'https://example.com/cb', callback_email: '',
    });
    await skewed(+DAY, () => putExport(store, queued));
    await skewed(-DAY, () => putExport(store, { ...queued, status: 'running', attempts: 1 }));
    await skewed(0, () => putExport(store, { ...queued, status: 'generated', outcome: 'success', attempts: 1, rows: 5 }));
    expect(await getExport(store, 'exp-1')).toMatchObject({ status: 'generated', outcome: 'success', attempts: 1, rows: 5 });

    const cp = { source: 's', namespace: 'acme', lastPollAt: null, lastEntryAt: null, entriesRead: 0, lastError: '', lastErrorAt: null };
    await skewed(+DAY, () => putPollCheckpoint(store, { ...cp, nextDay: '2026-01-01' }));
    await skewed(-DAY, () => putPollCheckpoint(store, { ...cp, nextDay: '2026-01-02', entriesRead: 10 }));
    expect(await getPollCheckpoint(store, 's', 'acme')).toMatchObject({ nextDay: '2026-01-02', entriesRead: 10 });
  });

  it('a revoked token stays revoked when its creation is written again afterwards', async () => {
    const token = {
      uuid: 'tok-1', username: 'alice', title: 't', token_hash: 'h'.repeat(64), code_sealed: '',
      created: '2026-01-01 00:00:00.000', expiration: null,
    };
    await skewed(-DAY, () => putAppToken(store, token));
    await skewed(-DAY, () => putAppToken(store, token, true));
    expect(await getAppToken(store, 'tok-1')).toBeNull();
    await skewed(+DAY, () => putAppToken(store, token)); // a late duplicate of the creation
    expect(await getAppToken(store, 'tok-1')).toBeNull();
  });

  it('rows versioned by an earlier quaylogs (microseconds since 1970) are replaced by the next write', async () => {
    const legacy = Date.now() * 1000;
    await store.insert({ table: 'grants', rows: [{ username: 'bob', organizations: ['old'], repositories: [], version: legacy, is_deleted: 0 }] });
    await putGrants(store, 'bob', { organizations: ['new'], repositories: [] });
    expect(await getGrants(store, 'bob')).toEqual({ organizations: ['new'], repositories: [] });
    const token = { uuid: 'tok-2', username: 'bob', title: 't', token_hash: 'g'.repeat(64), code_sealed: '', created: '2026-01-01 00:00:00.000', expiration: null };
    await store.insert({ table: 'app_tokens', rows: [{ ...token, version: legacy, is_deleted: 0 }] });
    expect(await getAppToken(store, 'tok-2')).not.toBeNull();
    await putAppToken(store, token, true);
    expect(await getAppToken(store, 'tok-2')).toBeNull();
  });
});
