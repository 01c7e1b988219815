/**
 * Splunk HTTP Event Collector receiver: quaylogs is the collector Quay's `splunk_hec`
 * log producer posts to (docs/compatibility.md). It is not Quay's API, so its routes are
 * registered with plain `app.route` and never appear in discovery.
 *
 * - `POST /services/collector/event` (also `/services/collector`, `/services/collector/event/1.0`)
 *   with `Authorization: Splunk <token>`; each token names the source (registry) of its events.
 * - Body: one JSON object or several concatenated (Splunk's batch form), optionally
 *   `Content-Encoding: gzip`; raw and decoded size both capped (a gzip bomb is a 413).
 * - Every event is validated before anything is written: one bad event rejects the whole
 *   request with Splunk's error (no partial writes, unlike Splunk which indexes the events
 *   before the bad one). The reply comes only after the batch is in the ingest stream.
 * - `GET /services/collector/health` (also `/1.0`).
 *
 * Replies are Splunk's: `{"text":"Success","code":0}` and its numbered errors.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HecEventError, hecEventsToRows } from '@quaylogs/ingest/hecEvents';
import { appendIngestBatch, type IngestBatch, type Redis } from '@quaylogs/queue';
import type { AppContext } from '../context.ts';

const gunzipAsync = promisify(gunzip);

export interface HecDeps {
  /** A producer connection (fails fast); the reply waits for XADD. */
  redis: Redis;
  /** token → source name. */
  tokens: Map<string, string>;
  /** Largest body accepted, before and after gzip decoding. */
  maxBodyBytes: number;
  /** Clock for the timestamp sanity window (tests). */
  now?: () => number;
  /** Called for every refused request (metrics); `-` as source when the token named none. */
  onReject?: (source: string, code: number) => void;
  /** How a batch reaches the ingest stream (default: one XADD on `redis`); the isolated receiver group-commits. */
  append?: (batch: IngestBatch) => Promise<string>;
}

export const HEC_EVENT_PATHS = ['/services/collector/event', '/services/collector', '/services/collector/event/1.0'];
export const HEC_HEALTH_PATHS = ['/services/collector/health', '/services/collector/health/1.0'];

/** Splunk's replies: HTTP status, `code` and `text`. */
export const HEC = {
  success: { status: 200, code: 0, text: 'Success' },
  tokenRequired: { status: 401, code: 2, text: 'Token is required' },
  invalidAuthorization: { status: 401, code: 3, text: 'Invalid authorization' },
  invalidToken: { status: 403, code: 4, text: 'Invalid token' },
  noData: { status: 400, code: 5, text: 'No data' },
  invalidDataFormat: { status: 400, code: 6, text: 'Invalid data format' },
  serverBusy: { status: 503, code: 9, text: 'Server is busy' },
  eventRequired: { status: 400, code: 12, text: 'Event field is required' },
  eventBlank: { status: 400, code: 13, text: 'Event field cannot be blank' },
  queryStringAuthDisabled: { status: 400, code: 16, text: 'Query string authorization is not enabled' },
  healthy: { status: 200, code: 17, text: 'HEC is healthy' },
  unhealthy: { status: 503, code: 18, text: 'HEC is unhealthy, queues are full' },
} as const;
type HecReply = (typeof HEC)[keyof typeof HEC];

/** A request the receiver refuses: Splunk's reply, and which event (0-based) was bad. */
export class HecError extends Error {
  constructor(
    readonly reply: HecReply,
    readonly eventNumber?: number,
    detail?: string,
  ) {
    super(detail ?? reply.text);
  }
}

/**
 * The items of a `source=token,source2=token2` list (QUAYLOGS_HEC_TOKENS, QUAYLOGS_SEARCH_TOKENS),
 * in order; `variable` names the setting in the error a malformed item gets.
 */
export function sourceTokenPairs(spec: string | undefined, variable: string): { source: string; token: string }[] {
  const out: { source: string; token: string }[] = [];
  for (const part of (spec ?? '').split(',')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    const source = item.slice(0, eq).trim();
    const token = item.slice(eq + 1).trim();
    if (eq <= 0 || !source || !token) throw new Error(`${variable}: "${item}" must be source=token`);
    out.push({ source, token });
  }
  return out;
}

/** Parses `QUAYLOGS_HEC_TOKENS` (`source=token,source2=token2`) into token → source. */
export function parseHecTokens(spec: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const { source, token } of sourceTokenPairs(spec, 'QUAYLOGS_HEC_TOKENS')) {
    if (out.has(token)) throw new Error(`QUAYLOGS_HEC_TOKENS: a token is listed twice (sources ${out.get(token)} and ${source})`);
    out.set(token, source);
  }
  return out;
}

/** The token of a request, or the Splunk error for a missing or malformed credential. */
export function hecToken(req: FastifyRequest): string {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || header.trim() === '') {
    const query = req.query;
    throw new HecError(typeof query === 'object' && query !== null && 'token' in query ? HEC.queryStringAuthDisabled : HEC.tokenRequired);
  }
  const splunk = /^Splunk\s+(\S+)\s*$/i.exec(header);
  if (splunk) return splunk[1]!;
  // Splunk also takes HTTP Basic with the token as the password (any user name).
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0 && colon < decoded.length - 1) return decoded.slice(colon + 1);
  }
  throw new HecError(HEC.invalidAuthorization);
}

/**
 * Splits a body into its JSON values: one object, or several concatenated with optional
 * whitespace between them. Anything that is not a JSON object is invalid data format
 * at its position.
 */
export function splitHecBody(text: string): unknown[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') throw new HecError(HEC.noData);
  // Fast path: Quay posts exactly one object.
  try {
    const single: unknown = JSON.parse(body);
    if (!isPlainObject(single)) throw new HecError(HEC.invalidDataFormat, 0);
    return [single];
  } catch (err) {
    if (err instanceof HecError) throw err;
  }
  // Fast path: Splunk's batch form as clients send it, one object per line (JSON text
  // cannot hold a raw newline inside a string, so a newline is always between values).
  const perLine = body.includes('\n') ? parseLines(body) : null;
  if (perLine) return perLine;
  const out: unknown[] = [];
  let i = 0;
  const n = body.length;
  while (i < n) {
    const c = body.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      i++;
      continue;
    }
    const index = out.length;
    if (c !== 0x7b /* { */) throw new HecError(HEC.invalidDataFormat, index);
    const j = objectEnd(body, i);
    if (j < 0) throw new HecError(HEC.invalidDataFormat, index);
    try {
      out.push(JSON.parse(body.slice(i, j + 1)));
    } catch {
      throw new HecError(HEC.invalidDataFormat, index);
    }
    i = j + 1;
  }
  return out;
}

/** One JSON object per non-blank line, or null when the body is shaped otherwise (the scanner then finds the offending event). */
function parseLines(body: string): unknown[] | null {
  const out: unknown[] = [];
  for (const line of body.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return null;
    }
    if (!isPlainObject(value)) return null;
    out.push(value);
  }
  return out;
}

const STRUCTURE = /[{}[\]"]/g;

/**
 * Index of the `}` closing the object that opens at `start`, or -1. Only finds the
 * boundary (JSON.parse validates the slice): jumps between structural characters and
 * over string contents with indexOf, so long strings cost no per-character JS work.
 */
function objectEnd(body: string, start: number): number {
  let depth = 0;
  STRUCTURE.lastIndex = start;
  for (let m = STRUCTURE.exec(body); m; m = STRUCTURE.exec(body)) {
    const c = body.charCodeAt(m.index);
    if (c === 0x22 /* " */) {
      let q = m.index;
      for (;;) {
        q = body.indexOf('"', q + 1);
        if (q < 0) return -1;
        let slashes = 0;
        while (body.charCodeAt(q - 1 - slashes) === 0x5c /* \ */) slashes++;
        if (slashes % 2 === 0) break;
      }
      STRUCTURE.lastIndex = q + 1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (--depth === 0) return m.index;
  }
  return -1;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The rows of a request's events; an event that cannot be stored is Splunk's reply for it. */
function eventRows(envelopes: unknown[], source: string, nowMs: number, body: string) {
  try {
    // The body was decoded as strict UTF-8: only a `\u` escape can put a lone surrogate in its strings.
    return hecEventsToRows(envelopes, source, nowMs, { noEscapes: !body.includes('\\u') });
  } catch (err) {
    if (err instanceof HecEventError) throw new HecError(HEC[err.reason], err.index, err.detail);
    throw err;
  }
}

/** Splunk's 413 text. */
function tooLarge(reply: FastifyReply, size: number | null, max: number): FastifyReply {
  const what = size === null ? 'Request body' : `Content-Length of ${size}`;
  return reply.code(413).type('text/plain; charset=utf-8').send(`${what} too large (maximum is ${max})`);
}

function sendHec(reply: FastifyReply, r: HecReply, eventNumber?: number): FastifyReply {
  const body: Record<string, unknown> = { text: r.text, code: r.code };
  if (eventNumber !== undefined && r.status === 400 && r.code !== HEC.noData.code) body['invalid-event-number'] = eventNumber;
  return reply.code(r.status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The body's text; bytes that are not UTF-8 are refused (never stored as U+FFFD). */
function utf8Text(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new HecError(HEC.invalidDataFormat, 0, 'body is not valid UTF-8');
  }
}

/** Decodes the raw body (gzip or identity) within the size cap. */
async function decodeBody(req: FastifyRequest, raw: Buffer, max: number): Promise<string | { tooLarge: number | null }> {
  const encoding = String(req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return utf8Text(raw);
  if (encoding !== 'gzip' && encoding !== 'x-gzip') throw new HecError(HEC.invalidDataFormat, 0, 'unsupported Content-Encoding');
  let out: Buffer;
  try {
    out = await gunzipAsync(raw, { maxOutputLength: max });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) return { tooLarge: null };
    throw new HecError(HEC.invalidDataFormat, 0, 'body is not valid gzip');
  }
  return utf8Text(out);
}

/**
 * The receiver as an app plugin. Its routes live in their own encapsulated context with
 * a raw-Buffer parser for any content type, its own body limit and Splunk's error
 * replies, so the JSON parsing and error bodies of every other route stay as they are.
 */
export function hecPlugin(deps: HecDeps): (app: FastifyInstance, ctx: Pick<AppContext, 'shuttingDown'>) => void {
  const now = deps.now ?? Date.now;
  const append = deps.append ?? ((batch: IngestBatch) => appendIngestBatch(deps.redis, batch));
  return (app, ctx) => {
    void app.register(async (hec) => {
      hec.removeAllContentTypeParsers();
      hec.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes }, (_req, body, done) => done(null, body));

      hec.setErrorHandler((err: FastifyError, req, reply) => {
        if (err instanceof HecError) {
          // Splunk's body carries only a code; the reason goes to the log, for the operator.
          let source = '-';
          try {
            source = deps.tokens.get(hecToken(req)) ?? '-';
          } catch {
            /* no usable credential: no source */
          }
          req.log.warn({ source, code: err.reply.code, event: err.eventNumber, reason: err.message }, 'hec: request refused');
          deps.onReject?.(source, err.reply.code);
          return sendHec(reply, err.reply, err.eventNumber);
        }
        if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
          const length = Number(req.headers['content-length']);
          return tooLarge(reply, Number.isFinite(length) && length > deps.maxBodyBytes ? length : null, deps.maxBodyBytes);
        }
        const status = err.statusCode ?? 500;
        if (status >= 400 && status < 500) return sendHec(reply, HEC.invalidDataFormat, 0);
        req.log.error({ err }, 'hec request failed');
        return sendHec(reply, HEC.serverBusy);
      });

      // Credentials are checked before the body is read.
      hec.addHook('onRequest', async (req) => {
        if (req.method !== 'POST') return;
        const token = hecToken(req);
        if (!deps.tokens.has(token)) throw new HecError(HEC.invalidToken);
      });

      const receive = async (req: FastifyRequest, reply: FastifyReply) => {
        const source = deps.tokens.get(hecToken(req))!;
        const raw = req.body;
        if (!Buffer.isBuffer(raw) || raw.length === 0) throw new HecError(HEC.noData);
        const decoded = await decodeBody(req, raw, deps.maxBodyBytes);
        if (typeof decoded !== 'string') return tooLarge(reply, decoded.tooLarge, deps.maxBodyBytes);
        const nowMs = now();
        const envelopes = splitHecBody(decoded);
        const rows = eventRows(envelopes, source, nowMs, decoded);
        try {
          await append({ v: 1, origin: 'hec', source, rows });
        } catch (err) {
          req.log.error({ err, source, events: rows.length }, 'hec: the ingest stream refused the batch');
          return sendHec(reply, HEC.serverBusy);
        }
        return sendHec(reply, HEC.success);
      };
      for (const url of HEC_EVENT_PATHS) {
        hec.route({ method: 'POST', url, bodyLimit: deps.maxBodyBytes, handler: receive });
      }

      const health = async (_req: FastifyRequest, reply: FastifyReply) =>
        sendHec(reply, !ctx.shuttingDown && deps.redis.status === 'ready' ? HEC.healthy : HEC.unhealthy);
      for (const url of HEC_HEALTH_PATHS) hec.route({ method: 'GET', url, handler: health });
    });
  };
}
