/**
 * ClickHouse's HTTP conventions the bridge speaks: error bodies and codes, content types
 * per format, credentials from basic auth, `X-ClickHouse-User`/`-Key` or `?user=&password=`.
 */
import type { IncomingMessage } from 'node:http';

export class ClickHouseHttpError extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The body ClickHouse answers an exception with (`@clickhouse/client` parses code, message and type from it). */
export function errorBody(code: number, type: string, message: string): string {
  const text = message.replace(/\s*\([A-Z0-9_]+\)\s*$/, '').trim();
  return `Code: ${code}. DB::Exception: ${text}. (${type}) (version quaylogs)\n`;
}

/** An engine error (`Code: N. DB::Exception: … (TYPE)`) as an HTTP status, code, type and message. */
export function fromEngineError(err: unknown): ClickHouseHttpError {
  const raw = String((err as { message?: unknown })?.message ?? err).split('\n')[0]!;
  const m = /Code:\s*(\d+)\.\s*(?:DB::Exception:\s*)?(.*?)(?:\s*\(([A-Z0-9_]+)\))?(?:\s*\(version [^)]*\))?\s*$/.exec(raw);
  const code = m ? Number(m[1]) : 0;
  const type = m?.[3] ?? 'UNKNOWN_EXCEPTION';
  const message = (m?.[2] ?? raw).slice(0, 4000);
  return new ClickHouseHttpError(code, type, message, statusFor(code));
}

/** Close to ClickHouse's own mapping; a user's statement never yields a 5xx. */
export function statusFor(code: number): number {
  if (code === 194 || code === 516) return 401; // REQUIRED_PASSWORD, AUTHENTICATION_FAILED
  if (code === 164 || code === 497) return 403; // READONLY, ACCESS_DENIED
  if ([46, 47, 60, 81, 73].includes(code)) return 404; // unknown function, identifier, table, database, format
  if (code === 159 || code === 209) return 408; // TIMEOUT_EXCEEDED, SOCKET_TIMEOUT
  if ([396, 158, 307, 241, 229].includes(code)) return 413; // a row, byte, memory or query-size limit hit
  if (code === 202) return 503; // TOO_MANY_SIMULTANEOUS_QUERIES: try again
  return 400;
}

export function requireAuth(message: string): ClickHouseHttpError {
  return new ClickHouseHttpError(516, 'AUTHENTICATION_FAILED', message, 401);
}

const BINARY = /^(Native|RowBinary\w*|Parquet|Arrow|ArrowStream|ORC|Avro|MsgPack|Protobuf\w*|CapnProto|BSONEachRow|Npy)$/i;

export function contentTypeFor(format: string): string {
  if (/^JSON(EachRow|Lines|StringsEachRow|CompactEachRow\w*|CompactStringsEachRow\w*)$/i.test(format) || /^NDJSON$/i.test(format)) return 'application/x-ndjson; charset=UTF-8';
  if (/^JSON/i.test(format)) return 'application/json; charset=UTF-8';
  if (/^CSVWithNames/i.test(format)) return 'text/csv; charset=UTF-8; header=present';
  if (/^CSV/i.test(format)) return 'text/csv; charset=UTF-8; header=absent';
  if (/^(TSV|TabSeparated)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8';
  if (/^XML$/i.test(format)) return 'application/xml; charset=UTF-8';
  if (BINARY.test(format)) return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

export interface Credentials {
  user: string;
  password: string;
}

/** Credentials as BI tools send them: basic auth, X-ClickHouse-User/-Key, or user/password parameters. */
export function credentialsOf(req: IncomingMessage, query: URLSearchParams): Credentials | null {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!m) return null;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const user = req.headers['x-clickhouse-user'];
  if (typeof user === 'string') {
    const key = req.headers['x-clickhouse-key'];
    return { user, password: typeof key === 'string' ? key : '' };
  }
  const qUser = query.get('user');
  if (qUser !== null) return { user: qUser, password: query.get('password') ?? '' };
  return null;
}

/** Strips a trailing `FORMAT name` (and `;`) from a statement, returning the format named. */
export function splitFormat(sql: string): { sql: string; format: string | null } {
  const trimmed = sql.trim().replace(/;+\s*$/, '').trimEnd();
  const m = /\bFORMAT\s+([A-Za-z_][A-Za-z0-9_]*)$/i.exec(trimmed);
  if (!m) return { sql: trimmed, format: null };
  return { sql: trimmed.slice(0, m.index).trimEnd(), format: m[1]! };
}
