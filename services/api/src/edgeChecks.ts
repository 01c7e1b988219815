/**
 * Checks every request meets before any route sees it: text that is not valid
 * Unicode (a lone UTF-16 surrogate such as JSON's `"\ud800"`, or percent-encoded
 * bytes that are not UTF-8) in the URL, a header or a JSON body, and JSON bodies
 * nested deeper than any route reads, and empty path segments where a name
 * belongs (`/organization//exportlogs`). Each is refused with a 400 naming the
 * field, before anything is written — no store can keep such text, so accepting
 * it would only fail later (a 500, a dead-lettered entry).
 *
 * The HEC receiver meets the same checks per event (services/ingest/src/hec/eventRows.ts), answered
 * in Splunk's format with the event number.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findInvalidText, jsonDepth } from '@quaylogs/core';
import { ApiError } from './httpErrors.ts';

/** Deeper JSON than any route reads (Quay's bodies are 1–2 levels). */
export const MAX_JSON_DEPTH = 32;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A 400 in Quay's format that also carries `statusCode`, so a plugin's own error handler (HEC) answers 4xx too. */
export class BadInputError extends ApiError {
  readonly statusCode = 400;
  constructor(detail: string) {
    super(400, 'invalid_request', detail);
  }
}

/** True when every well-formed `%XX` run of `raw` decodes to UTF-8 (other text is left as it is). */
export function percentDecodesToUtf8(raw: string): boolean {
  if (!raw.includes('%')) return true;
  const runs = raw.match(/(?:%[0-9A-Fa-f]{2})+/g) ?? [];
  for (const run of runs) {
    const bytes = Buffer.from(run.replace(/%/g, ''), 'hex');
    if (bytes.every((b) => b < 0x80)) continue;
    try {
      strictUtf8.decode(bytes);
    } catch {
      return false;
    }
  }
  return true;
}

/** Header values arrive as latin1 text of their bytes: valid when those bytes are UTF-8. */
export function headerIsUtf8(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(value)) return true;
  try {
    strictUtf8.decode(Buffer.from(value, 'latin1'));
    return true;
  } catch {
    return false;
  }
}

/** The first problem with the URL or headers of a request, or null. */
export function requestLineProblem(req: FastifyRequest): string | null {
  const url = req.raw.url ?? '';
  const q = url.indexOf('?');
  if (!percentDecodesToUtf8(q === -1 ? url : url.slice(0, q))) return 'the path is not valid UTF-8';
  if (q !== -1 && !percentDecodesToUtf8(url.slice(q + 1))) return 'the query string is not valid UTF-8';
  for (const [name, value] of Object.entries(req.headers)) {
    for (const v of Array.isArray(value) ? value : [value ?? '']) {
      if (!headerIsUtf8(v)) return `header ${name} is not valid UTF-8`;
    }
  }
  const badQuery = findInvalidText(req.query);
  if (badQuery) return `query parameter ${badQuery} is not valid Unicode`;
  return null;
}

/** The first problem with a parsed JSON body, or null. */
export function jsonBodyProblem(body: unknown): string | null {
  // Parsed JSON only: a stream or a Buffer (an upload route's body) is no JSON value to walk.
  if (body === null || typeof body !== 'object') return null;
  const proto = Object.getPrototypeOf(body) as unknown;
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return null;
  if (jsonDepth(body) > MAX_JSON_DEPTH) return `the body is nested deeper than ${MAX_JSON_DEPTH} levels`;
  const bad = findInvalidText(body);
  return bad ? `body field ${bad} is not valid Unicode` : null;
}

/** Installs both checks on every route of `app` (and of the plugins registered after). */
export function installEdgeChecks(app: FastifyInstance): void {
  // JSON bodies are decoded strictly: bytes that are not UTF-8 are refused, not turned into
  // U+FFFD (which would store text the client never sent). Parsing itself is Fastify's own.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = strictUtf8.decode(body as Buffer);
    } catch {
      done(new BadInputError('the JSON body is not valid UTF-8'), undefined);
      return;
    }
    void parseJson(req, text, done);
  });
  app.addHook('onRequest', async (req) => {
    const problem = requestLineProblem(req);
    if (problem) throw new BadInputError(problem);
  });
  app.addHook('preValidation', async (req) => {
    // `/organization//exportlogs` matches with an empty name: never a namespace.
    const params: unknown = req.params;
    if (typeof params === 'object' && params !== null) {
      for (const [name, value] of Object.entries(params)) {
        if (value === '') throw new BadInputError(`path parameter ${name} is empty`);
      }
    }
    const problem = jsonBodyProblem(req.body);
    if (problem) throw new BadInputError(problem);
  });
}
