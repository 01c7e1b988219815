/**
 * ClickHouse's HTTP interface over the embedded engine, for BI tools (Grafana's and
 * Metabase's ClickHouse data sources, DBeaver, @clickhouse/client): the engine answering
 * is the real one, in the format asked for; only the framing is quaylogs'.
 *
 * Read-only and for superusers: every statement passes the injected read-only guard and
 * runs with `readonly = 1` and quaylogs' row, byte and time limits, which a client may
 * lower but not lift. A plain node:http server (not the API's Fastify app): it speaks
 * ClickHouse's protocol, errors included, on a port of its own.
 *
 * Writes exist only for the test suite's server lane (see testWrites.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import type { EngineSessions } from '@quaylogs/clickhouse';
import type { BridgeAuthenticate } from './bridgeAuth.ts';
import { type BridgeLimits, classifyParameters, renderSettings } from './bridgeSettings.ts';
import { ClickHouseHttpError, contentTypeFor, credentialsOf, errorBody, fromEngineError, requireAuth, splitFormat } from './clickhouseWire.ts';
import { assertTestWritesAllowed } from './testWrites.ts';

/** The ad-hoc SQL guard (readOnlySql.ts): the canonical statement to run, or why it is refused. */
export type ReadOnlyGuard = (
  sql: string,
  /** `EXPLAIN AST` of a statement with the request's `param_*` values bound exactly as sent. */
  explainAst: (sql: string) => Promise<string[]>,
) => Promise<{ ok: true; sql: string } | { ok: false; reason: string; engine?: true }>;

export interface BridgeLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ClickHouseHttpBridgeOptions {
  engine: EngineSessions;
  /** Database a request runs in when it names none. */
  database: string;
  authenticate: BridgeAuthenticate;
  /** Decides whether a statement is a read (the API's ad-hoc SQL guard). */
  guard: ReadOnlyGuard;
  limits: BridgeLimits;
  log?: BridgeLog;
  /** Test suite only: writes, DDL and any user. Refused unless the test switch is on. */
  testWrites?: boolean;
}

export interface ClickHouseHttpBridge {
  server: Server;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

const READ_BODY_LIMIT = 1024 * 1024;
const WRITE_BODY_LIMIT = 512 * 1024 * 1024;

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ClickHouseHttpError(229, 'QUERY_IS_TOO_LARGE', `The request body is larger than ${limit} bytes`, 413);
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks);
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  try {
    if (encoding === 'gzip') return gunzipSync(raw, { maxOutputLength: limit });
    if (encoding === 'deflate') return inflateSync(raw, { maxOutputLength: limit });
    if (encoding === 'br') return brotliDecompressSync(raw, { maxOutputLength: limit });
  } catch (err) {
    throw new ClickHouseHttpError(271, 'CANNOT_DECOMPRESS', `Cannot decode the ${encoding} request body: ${(err as Error).message}`, 400);
  }
  if (encoding && encoding !== 'identity') throw new ClickHouseHttpError(48, 'NOT_IMPLEMENTED', `Unknown Content-Encoding ${encoding}`, 400);
  return raw;
}

function compress(body: Uint8Array, accept: string, enabled: boolean): { body: Uint8Array; encoding: string | null } {
  if (!enabled || body.length < 256) return { body, encoding: null };
  if (/\bgzip\b/.test(accept)) return { body: gzipSync(body), encoding: 'gzip' };
  if (/\bdeflate\b/.test(accept)) return { body: deflateSync(body), encoding: 'deflate' };
  if (/\bbr\b/.test(accept)) return { body: brotliCompressSync(body), encoding: 'br' };
  return { body, encoding: null };
}

export function createClickHouseHttpBridge(opts: ClickHouseHttpBridgeOptions): ClickHouseHttpBridge {
  const writes = opts.testWrites === true;
  if (writes) assertTestWritesAllowed();

  async function handle(req: IncomingMessage, res: ServerResponse, queryId: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://bridge.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (req.method === 'GET' && (path === '/ping' || path === '/replicas_status')) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
      return;
    }
    if (path !== '/') throw new ClickHouseHttpError(0, 'UNKNOWN_EXCEPTION', `There is no handler for ${path}`, 404);
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') {
      throw new ClickHouseHttpError(0, 'UNKNOWN_EXCEPTION', `Method ${req.method} is not allowed`, 405);
    }
    if (String(req.headers['content-type'] ?? '').startsWith('multipart/')) {
      throw new ClickHouseHttpError(48, 'NOT_IMPLEMENTED', 'multipart requests (external tables, long parameters) are not supported by this endpoint', 400);
    }
    const body = req.method === 'POST' ? await readBody(req, writes ? WRITE_BODY_LIMIT : READ_BODY_LIMIT) : Buffer.alloc(0);
    const urlQuery = url.searchParams.get('query') ?? '';
    const bodyText = body.toString('utf8');
    // ClickHouse: the query parameter starts the statement, the body continues it (INSERT data).
    const statement = [urlQuery, bodyText].filter((s) => s.length > 0).join('\n');
    if (statement.trim() === '') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
      return;
    }

    const creds = credentialsOf(req, url.searchParams);
    if (!creds) throw new ClickHouseHttpError(194, 'REQUIRED_PASSWORD', 'Authentication required: send the quaylogs user name and one of their tokens (HTTP basic auth or X-ClickHouse-User/X-ClickHouse-Key)', 401);
    const user = await opts.authenticate(creds.user, creds.password);
    if (!user) throw requireAuth(`${creds.user}: Authentication failed: the token is not valid for this user, or there is no user with such name`);
    if (!user.superuser) throw new ClickHouseHttpError(497, 'ACCESS_DENIED', `${user.username}: Not enough privileges: only quaylogs superusers may use the ClickHouse HTTP interface`, 403);

    const entries = [...url.searchParams.entries()].filter(([k]) => k !== 'query');
    const headerFormat = req.headers['x-clickhouse-format'];
    const headerDatabase = req.headers['x-clickhouse-database'];
    const verdict = classifyParameters(entries, opts.limits, { writes });
    if (!verdict.ok) throw new ClickHouseHttpError(164, 'READONLY', verdict.reason, 403);
    const database = verdict.protocol.get('database') ?? (typeof headerDatabase === 'string' ? headerDatabase : opts.database);

    const isInsert = /^\s*INSERT\b/i.test(statement);
    let sql: string;
    let format: string;
    if (writes) {
      if (Object.keys(verdict.settings).length > 0) {
        throw new ClickHouseHttpError(115, 'UNKNOWN_SETTING', `the test lane takes settings in the SQL only (got ${Object.keys(verdict.settings).join(', ')})`, 400);
      }
      const split = isInsert ? { sql: statement, format: null } : splitFormat(statement);
      sql = split.sql;
      format = split.format ?? verdict.protocol.get('default_format') ?? (typeof headerFormat === 'string' ? headerFormat : 'TabSeparated');
    } else {
      const split = splitFormat(statement);
      // The guard's EXPLAIN runs on the bridge's sessions with the request's values as sent. A
      // busy engine is the request's answer (503), not a verdict on the statement.
      let busy: unknown;
      const explainAst = async (q: string) => {
        try {
          const r = await opts.engine.run({ sql: `EXPLAIN AST ${q} SETTINGS readonly = 1`, format: 'TSVRaw', database, params: verdict.params });
          return Buffer.from(r.bytes).toString('utf8').split('\n');
        } catch (err) {
          if (/\(TOO_MANY_SIMULTANEOUS_QUERIES\)/.test(String((err as Error)?.message ?? err))) busy = err;
          throw err;
        }
      };
      const checked = await opts.guard(split.sql, explainAst);
      if (busy) throw fromEngineError(busy);
      if (!checked.ok && checked.engine) throw new ClickHouseHttpError(62, 'SYNTAX_ERROR', checked.reason, 400);
      if (!checked.ok) throw new ClickHouseHttpError(164, 'READONLY', `${checked.reason} (quaylogs' ClickHouse HTTP interface is read-only)`, 403);
      // The guard's own limits are the SQL route's; the bridge applies its own (readonly = 1 always).
      sql = `${checked.sql}${renderSettings(verdict.settings)}`;
      format = split.format ?? verdict.protocol.get('default_format') ?? (typeof headerFormat === 'string' ? headerFormat : 'TabSeparated');
    }

    const t0 = process.hrtime.bigint();
    let result;
    try {
      result = await opts.engine.run({ sql, format, database, params: verdict.params });
    } catch (err) {
      throw fromEngineError(err);
    }
    const elapsedNs = String(process.hrtime.bigint() - t0);
    const summary = {
      read_rows: String(result.rowsRead),
      read_bytes: String(result.bytesRead),
      written_rows: '0',
      written_bytes: '0',
      total_rows_to_read: String(result.rowsRead),
      result_bytes: String(result.bytes.length),
      elapsed_ns: elapsedNs,
    };
    const out = compress(result.bytes, String(req.headers['accept-encoding'] ?? ''), verdict.protocol.get('enable_http_compression') === '1');
    res.writeHead(200, {
      'content-type': contentTypeFor(format),
      'x-clickhouse-format': format,
      'x-clickhouse-summary': JSON.stringify(summary),
      ...(out.encoding ? { 'content-encoding': out.encoding } : {}),
      'content-length': out.body.length,
    });
    res.end(req.method === 'HEAD' ? undefined : out.body);
    opts.log?.info({ user: user.username, queryId, format, ms: Number(elapsedNs) / 1e6, bytes: result.bytes.length }, 'clickhouse http query');
  }

  // ClickHouse accepts URIs up to http_max_uri_size (1 MiB) and clients put query parameters
  // there (@clickhouse/client sends `param_*` in the URL): Node's 16 KiB header limit refused
  // the loader's stored-keys check (thousands of UInt128 keys) with a bodiless 431.
  const server = createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => {
    // A client's query id is echoed only when it is safe in a header; otherwise one is made.
    const asked = /[?&]query_id=([^&]*)/.exec(req.url ?? '')?.[1];
    let queryId: string = randomUUID();
    try {
      const decoded = asked ? decodeURIComponent(asked.replace(/\+/g, ' ')) : '';
      if (/^[A-Za-z0-9_.:-]{1,128}$/.test(decoded)) queryId = decoded;
    } catch {
      /* malformed escape: keep the generated id */
    }
    res.setHeader('x-clickhouse-query-id', queryId);
    res.setHeader('x-clickhouse-timezone', 'UTC');
    res.setHeader('x-clickhouse-server-display-name', 'quaylogs');
    Promise.resolve()
      .then(() => handle(req, res, queryId))
      .catch((err: unknown) => {
        const e = err instanceof ClickHouseHttpError ? err : fromEngineError(err);
        if (!(err instanceof ClickHouseHttpError)) opts.log?.warn({ err, queryId }, 'clickhouse http request failed');
        if (res.headersSent) {
          res.destroy();
          return;
        }
        res.writeHead(e.status, {
          'content-type': 'text/plain; charset=UTF-8',
          'x-clickhouse-exception-code': String(e.code),
          ...(e.status === 401 ? { 'www-authenticate': 'Basic realm="quaylogs ClickHouse HTTP interface", charset="UTF-8"' } : {}),
        });
        res.end(errorBody(e.code, e.type, e.message));
      });
  });
  server.requestTimeout = Math.max(30, opts.limits.timeoutS * 2) * 1000;

  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    async close() {
      // Idle keep-alive connections close at once; a statement still running gets 5 s to answer.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const cut = setTimeout(() => server.closeAllConnections(), 5_000);
      await closed;
      clearTimeout(cut);
    },
  };
}

