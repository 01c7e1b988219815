/**
 * Fault-suite support: the real API (embedded ClickHouse, HEC receiver, exports on a
 * real Redis), a snapshot of everything a refused request could have written, input
 * generators (fast-check) for the kinds of text attackers and careless clients send,
 * and the line each suite prints with how many requests and cases it tried.
 */
import fc from 'fast-check';
import type { Redis } from '@quaylogs/queue';
import { ingestBacklog, redisForProducers } from '@quaylogs/queue';
import { exportsPlugin, hecPlugin, parseHecTokens } from '@quaylogs/api';
import { type ApiFixture, startApi } from '@quaylogs/api/testing';
import { testRedisUrl } from '@quaylogs/testing';

export const ADMIN = 'test-bootstrap-token-0123456789';
export const HEC_TOKEN = '9c1f5e2a-3b4d-4e6f-8a7b-1c2d3e4f5a6b';
/** Fixed seeds: every CI run tries the same cases. */
export const SEED = 20261203;

export interface FaultApi {
  f: ApiFixture;
  redis: Redis;
  close(): Promise<void>;
}

export async function startFaultApi(): Promise<FaultApi> {
  const redis = redisForProducers(testRedisUrl('fault'));
  await redis.flushdb();
  const f = await startApi(
    { QUAYLOGS_SMTP_URL: 'smtp://127.0.0.1:1', QUAYLOGS_QUERY_TIMEOUT_S: '5' },
    {
      plugins: [
        // No DNS in a test: every name resolves to a loopback address, which the SSRF guard refuses.
        exportsPlugin({ redis, resolve: async () => [{ address: '127.0.0.1', family: 4 }], enqueueTimeoutMs: 15_000 }),
        hecPlugin({ redis, tokens: parseHecTokens(`fuzz=${HEC_TOKEN}`), maxBodyBytes: 1024 * 1024 }),
      ],
    },
  );
  return {
    f,
    redis,
    async close() {
      await f.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

const COUNTED = ['users', 'grants', 'app_tokens', 'app_token_access', 'accounts', 'exports', 'export_schedules'];

/**
 * Everything a request could change: row counts (every write, versions included) of the
 * control-plane tables and of usage_logs less Quay's own failure audit entries (Quay writes
 * those on purpose for refused exports), and the number of Redis keys and stream entries.
 */
export async function snapshot(api: FaultApi): Promise<string> {
  const parts: string[] = [];
  const sql = COUNTED.map((t) => `(SELECT count() FROM ${t}) AS ${t}`).join(', ');
  const [row] = await api.f.store.query<Record<string, string>>({
    name: 'fault.snapshot',
    sql: `SELECT ${sql}, (SELECT count() FROM usage_logs WHERE kind NOT IN ('export_logs_failure')) AS usage_logs`,
  });
  parts.push(JSON.stringify(row));
  parts.push(`redis:${await api.redis.dbsize()}`);
  const len = await ingestBacklog(api.redis).catch(() => 0);
  parts.push(`stream:${len}`);
  return parts.join(' ');
}

/** Strings no store can keep: lone UTF-16 surrogates. */
export const loneSurrogate = fc.constantFrom('\ud800', '\udfff', 'a\ud83d', '\ude00b', 'x\udbff\udbffy');

/** Text a careless or hostile client sends. */
export const nastyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  loneSurrogate,
  fc.constantFrom('', ' ', '..', '../..', '%', '%00', '\u0000', '\r\nX-Injected: 1', "'; DROP TABLE usage_logs; --", '01/01/0001', '12/31/9999', '99/99/9999', '2024-06-18', 'a@b.c\r\nBcc: x@y.z', 'a@b.c, x@y.z', 'http://127.0.0.1:1/', 'x'.repeat(5000)),
);

/** A JSON value: plain, with nasty text, or nested deep. */
export const nastyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: nastyText },
  // Deep nesting travels as a marker that jsonText expands (JS cannot stringify 20k levels).
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 20_000 }).map((n) => ({ __deep__: n })) },
  { weight: 1, arbitrary: fc.array(nastyText, { maxLength: 4 }) },
);

/** JSON text of a generated value, with each deep-nesting marker expanded to that many brackets. */
export function jsonText(v: unknown): string {
  const text = JSON.stringify(v) ?? 'null';
  return text.replace(/\{"__deep__":(\d+)\}/g, (_m, n: string) => '['.repeat(Number(n)) + ']'.repeat(Number(n)));
}

/** URL-safe text for a path segment or query value, including percent-encoded bytes that are not UTF-8. */
export const urlPiece = fc.oneof(
  nastyText.map((s) => {
    try {
      return encodeURIComponent(s);
    } catch {
      return '%ED%A0%80'; // a lone surrogate, as UTF-8-ish bytes
    }
  }),
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')),
  fc.constantFrom('', 'acme', 'web', 'admin', '%2F', '..%2F..', '%ED%A0%80', '%C3%28'),
);

export interface Tally {
  requests: number;
  cases: number;
  byStatus: Record<string, number>;
}

export function tally(): Tally {
  return { requests: 0, cases: 0, byStatus: {} };
}

export function count(t: Tally, status: number): void {
  t.requests++;
  // 503 is the deliberate "busy, try again" of an outage, kept apart from real 5xx failures.
  const k = status === 503 ? '503' : `${Math.floor(status / 100)}xx`;
  t.byStatus[k] = (t.byStatus[k] ?? 0) + 1;
}

/** The line the CI log shows for each fault suite. */
export function report(name: string, t: Tally): void {
  console.log(`[fault-suite] ${name}: ${t.cases} cases, ${t.requests} requests, statuses ${JSON.stringify(t.byStatus)}`);
}
