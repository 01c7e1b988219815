/**
 * A scratch PostgreSQL database holding Quay's schema (test/fixtures/quay-schema.sql:
 * logentrykind, user, repository, logentry3 with the indexes Quay's migrations create).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { repoPath } from './paths.ts';

export const PG_BASE = process.env.QUAYLOGS_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432';
const SCHEMA = readFileSync(repoPath('test/fixtures/quay-schema.sql'), 'utf8');

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates (anew) database `name` with Quay's schema; `drop()` closes the connection and drops it. */
export async function createQuayDatabase(name: string): Promise<{ url: string; db: pg.Client; drop(): Promise<void> }> {
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${name}`);
  const url = `${PG_BASE}/${name}`;
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query(SCHEMA);
  return {
    url,
    db,
    async drop() {
      await db.end().catch(() => undefined);
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
