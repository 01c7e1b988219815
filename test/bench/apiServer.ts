/**
 * The quaylogs API (buildApp) on a loopback port over the bench store, with a
 * superuser bearer token. Audit entries the API would write are discarded, so
 * the data both sides hold stays identical.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { loadConfig } from '@quaylogs/config';
import { buildApp, ensureBootstrapAdmin } from '@quaylogs/api';

export interface BenchApi {
  url: string;
  token: string;
  get(path: string): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

export async function startApi(store: ClickHouseStore, now: Date, env: Record<string, string> = {}): Promise<BenchApi> {
  const token = `bench-${randomBytes(16).toString('hex')}`;
  const secret = `bench-secret-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({ QUAYLOGS_BOOTSTRAP_TOKEN: token, QUAYLOGS_SECRET: secret, QUAYLOGS_LOG_LEVEL: 'silent', ...env });
  // The API plans page reads by the run's fixed "now", as a live server does by its clock.
  const { app, ctx } = await buildApp({ store, config, secret, logger: false, audit: { write: async () => {} }, now: () => now });
  await ensureBootstrapAdmin(ctx, token);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  // node:http on one kept-alive connection: a Quay client's request and nothing more. The global
  // fetch (undici) costs the process answering it too: ~20 ms a request for its first ~20 requests
  // (its own code warming up, measured on the bench machine under load), ~1 ms a request after.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const headers = { authorization: `Bearer ${token}` };
  return {
    url,
    token,
    get(path) {
      return new Promise((resolve, reject) => {
        const req = http.get(url + path, { agent, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
            } catch (err) {
              reject(err);
            }
          });
        });
        req.on('error', reject);
      });
    },
    async close() {
      agent.destroy();
      await app.close();
    },
  };
}
