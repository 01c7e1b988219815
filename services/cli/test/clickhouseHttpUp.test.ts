/**
 * `quaylogs up` with QUAYLOGS_CLICKHOUSE_HTTP_PORT serves ClickHouse's HTTP interface for
 * its embedded store next to the API, to the bootstrap superuser, read-only; SIGTERM
 * closes it with the rest, in order, and the process exits 0.
 */
import { createClient } from '@clickhouse/client';
import { freePort, startUp } from '@quaylogs/testing/up';
import { describe, expect, it } from 'vitest';

const TOKEN = 'bridge-up-bootstrap-token-0123456789';

describe('quaylogs up with QUAYLOGS_CLICKHOUSE_HTTP_PORT', () => {
  it('serves the embedded store over ClickHouse HTTP to the superuser, read-only, and stops with SIGTERM', async () => {
    const chPort = await freePort();
    // On this file's Redis database; resolves once `up` serves (the bridge starts before that line).
    const up = await startUp({ args: ['--demo-rows', '2000'], env: { QUAYLOGS_CLICKHOUSE_HTTP_PORT: String(chPort), QUAYLOGS_BOOTSTRAP_TOKEN: TOKEN } });
    try {
      const client = createClient({ url: `http://127.0.0.1:${chPort}`, username: 'admin', password: TOKEN, database: 'quaylogs' });
      const rs = await client.query({ query: 'SELECT count() AS n FROM usage_logs', format: 'JSONEachRow' });
      expect(Number(((await rs.json()) as { n: string }[])[0]!.n)).toBeGreaterThanOrEqual(2000);
      const write = await client.command({ query: 'TRUNCATE TABLE usage_logs' }).catch((e) => e);
      expect(write).toMatchObject({ type: 'READONLY' });
      const wrong = await fetch(`http://127.0.0.1:${chPort}/?query=SELECT%201`, { headers: { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` } });
      expect(wrong.status).toBe(401);
      await client.close();
      const stopped = await up.stop('SIGTERM');
      expect(stopped.code, up.output()).toBe(0);
    } finally {
      await up.site.close();
    }
  });
});
