/**
 * Redis fixtures. test/setup gives each vitest worker slot a private redis-server and puts
 * its URL in QUAYLOGS_TEST_REDIS; a test file runs alone in its process, so the file owns
 * that server while it runs. Database numbers are handed out here, per name, in order of
 * first use — nobody picks them by hand, and two names in one file never share one.
 */
import { type Redis, redisForWorkers, quitRedis } from '@quaylogs/queue';

/** The redis-server of this worker (`redis://host:port`, no database). */
export function testRedisBase(): string {
  const base = process.env.QUAYLOGS_TEST_REDIS;
  if (!base) throw new Error('QUAYLOGS_TEST_REDIS is not set: run the tests through vitest (test/setup starts the redis-servers)');
  return base.replace(/\/\d*$/, '');
}

/** Databases 1–15 (0 is left to anything that connects without one). */
const FIRST_DB = 1;
const LAST_DB = 15;
const assigned = new Map<string, number>();

/** This file's database for `name` (the same number for the same name). */
export function testRedisDb(name = 'default'): number {
  let db = assigned.get(name);
  if (db === undefined) {
    db = FIRST_DB + assigned.size;
    if (db > LAST_DB) throw new Error(`more than ${LAST_DB - FIRST_DB + 1} Redis databases asked for in one test file`);
    assigned.set(name, db);
  }
  return db;
}

/** `redis://host:port/<db>` for this file's database `name`: give it to REDIS_URL or a child process. */
export function testRedisUrl(name = 'default'): string {
  return `${testRedisBase()}/${testRedisDb(name)}`;
}

/** A connection (settings the workers use) to this file's database `name`. */
export function testRedis(name = 'default'): Redis {
  return redisForWorkers(testRedisUrl(name));
}

/** Empties this file's database `name` (a fresh connection, closed again). */
export async function flushTestRedis(name = 'default'): Promise<void> {
  const r = testRedis(name);
  try {
    await r.flushdb();
  } finally {
    await quitRedis(r);
  }
}
