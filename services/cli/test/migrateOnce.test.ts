/**
 * Several processes bringing the schema up at the same moment (as a split deployment's
 * roles do when they start together), over one real engine lent by a store-host process
 * and one Redis (this file's database): each migration is applied exactly once, a process told to
 * wait (QUAYLOGS_MIGRATE=off) says what it waits for and starts once the schema is there,
 * and a schema newer than this quaylogs is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations } from '@quaylogs/clickhouse';
import { quitRedis, type Redis, redisForWorkers } from '@quaylogs/queue';
import { type JsonChild, killAllChildren, spawnJsonChild } from '@quaylogs/testing/children';
import { remoteStore } from '@quaylogs/testing/remoteStore';
import { startStoreHost } from '@quaylogs/testing/storeHost';
import { testRedisUrl } from '@quaylogs/testing';
import { SCHEMA_LOCK_KEY } from '../src/schema.ts';

const CHILD = fileURLToPath(new URL('./migrateChild.ts', import.meta.url));
const REDIS_URL = testRedisUrl();

let redis: Redis;
let dir: string;
let port: number;

beforeAll(async () => {
  redis = redisForWorkers(REDIS_URL);
  await redis.flushdb();
  dir = mkdtempSync(join(tmpdir(), 'quaylogs-migrate-'));
  ({ port } = await startStoreHost(dir, { migrate: false }));
});
afterAll(async () => {
  await killAllChildren();
  await redis.flushdb();
  await quitRedis(redis);
  rmSync(dir, { recursive: true, force: true });
});

const migrator = (mode: 'auto' | 'off'): JsonChild => spawnJsonChild(CHILD, [String(port), REDIS_URL, mode]);
const logLines = (c: JsonChild): string[] => c.lines.filter((l) => l.msg === 'log').map((l) => String(l.line));

describe('migrations started by several processes at once', () => {
  it('apply each migration exactly once; a waiting process starts once the schema is there', async () => {
    const waiter = migrator('off');
    const waiting = await waiter.waitFor((l) => l.msg === 'log');
    expect(waiting.line).toMatch(/^waiting for the schema: \d+ migration\(s\) not applied yet \(0001_create_usage_logs, .*run `quaylogs migrate`/);

    const migrators = Array.from({ length: 4 }, () => migrator('auto'));
    const codes = await Promise.all(migrators.map((m) => m.exited));
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(await waiter.exited).toBe(0);

    const applied = migrators.flatMap(logLines).filter((l) => l.startsWith('applied '));
    const names = loadMigrations().map((m) => m.name);
    expect(applied.sort()).toEqual(names.map((n) => `applied ${n}`).sort());
    // The others waited for the one holding the lock, then found nothing left to do.
    expect(migrators.flatMap(logLines).some((l) => l.startsWith('waiting for the migration lock, held by '))).toBe(true);
    const rows = await remoteStore(port).query<{ version: number; n: string }>({
      name: 'test.migrations',
      sql: 'SELECT version, count() AS n FROM schema_migrations GROUP BY version ORDER BY version',
    });
    expect(rows.map((r) => [Number(r.version), Number(r.n)])).toEqual(loadMigrations().map((m) => [m.version, 1]));
    expect(await redis.exists(SCHEMA_LOCK_KEY)).toBe(0);
  }, 300_000);

  it('refuses a schema newer than this quaylogs knows, and changes nothing', async () => {
    const store = remoteStore(port);
    await store.insert({ table: 'schema_migrations', rows: [{ version: 9999, name: '9999_from_the_future', checksum: 'x' }] });
    try {
      for (const mode of ['auto', 'off'] as const) {
        const c = migrator(mode);
        const failed = await c.waitFor((l) => l.msg === 'failed');
        expect(failed.err).toMatch(/newer than this quaylogs knows \(it has 9999_from_the_future; this version ends at \d{4}_\w+\)/);
        expect(await c.exited).toBe(1);
      }
    } finally {
      await store.command({ name: 'test.cleanup', sql: 'DELETE FROM schema_migrations WHERE version = 9999' });
    }
  }, 120_000);
});
