/**
 * One GET to a Quay registry with explicit timeouts and a bounded body, turning every
 * failure into a typed `QuayError`. Redirects are never followed (undici's `request`
 * does not): a redirect means the configured URL is wrong, and following it would send
 * the token to another host.
 */
import { Agent, type Dispatcher, errors as undiciErrors, request } from 'undici';
import {
  QuayError,
  QuayPermissionError,
  QuayRequestError,
  QuayRetryableError,
} from './errors.ts';

export interface QuayTimeouts {
  /** TCP + TLS connect, ms. */
  connectMs: number;
  /** From sending the request to Quay's response headers, ms. */
  headersMs: number;
  /** Longest pause between two chunks of the body, ms. */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: QuayTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 };
/** A page of 20 entries is a few tens of KB; anything past this is not a logs page. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
const USER_AGENT = 'quaylogs-poller/0.1';

/** An undici Agent with the given connect/headers/body timeouts (keep-alive pool per origin). */
export function createQuayAgent(timeouts: Partial<QuayTimeouts> = {}): Agent {
  const t = { ...DEFAULT_TIMEOUTS, ...timeouts };
  return new Agent({
    connect: { timeout: t.connectMs },
    headersTimeout: t.headersMs,
    bodyTimeout: t.bodyMs,
    keepAliveTimeout: 10_000,
  });
}

let sharedAgent: Agent | undefined;
function defaultAgent(): Agent {
  sharedAgent ??= createQuayAgent();
  return sharedAgent;
}

export interface QuayGetOptions {
  token: string;
  dispatcher?: Dispatcher;
  timeouts?: Partial<QuayTimeouts>;
  signal?: AbortSignal;
  maxBodyBytes?: number;
}

/** `Retry-After`: delta-seconds or an HTTP date, as milliseconds from now (never negative). */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Quay's explanation from an error body: `detail`, else `error_message`, `message`, `error`, else the text. */
export function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as unknown;
    if (body !== null && typeof body === 'object') {
      for (const key of ['detail', 'error_message', 'message', 'error', 'error_description']) {
        const v = (body as Record<string, unknown>)[key];
        if (typeof v === 'string' && v !== '') return v;
      }
    }
  } catch {
    // not JSON: fall through to the text itself
  }
  const trimmed = text.trim().replace(/\s+/g, ' ');
  return trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed;
}

async function readBody(body: Dispatcher.ResponseData['body'], max: number, url: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      body.destroy();
      throw new QuayRetryableError(`Quay's answer from ${url} exceeds ${max} bytes`, { url });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function networkError(err: unknown, url: string): QuayError {
  if (err instanceof QuayError) return err;
  const e = err as { code?: string; message?: string; name?: string };
  if (err instanceof undiciErrors.InvalidArgumentError) {
    return new QuayRequestError(`cannot request ${url}: ${e.message}`, { url, cause: err });
  }
  let what = e.message ?? String(err);
  if (err instanceof undiciErrors.ConnectTimeoutError) what = 'connect timeout';
  else if (err instanceof undiciErrors.HeadersTimeoutError) what = 'no response headers in time (headers timeout)';
  else if (err instanceof undiciErrors.BodyTimeoutError) what = 'response body stalled (body timeout)';
  else if (e.code) what = `${e.code}: ${what}`;
  return new QuayRetryableError(`Quay at ${url} unreachable: ${what}`, { url, cause: err });
}

/**
 * GETs `url` with the bearer token and returns the body text of a 200. Any other outcome
 * throws: 401/403 ⇒ QuayPermissionError, 408/429/5xx and network trouble ⇒
 * QuayRetryableError, other statuses ⇒ QuayRequestError. An abort through `signal` is
 * rethrown unchanged.
 */
export async function quayGet(url: URL, opts: QuayGetOptions): Promise<string> {
  const shown = `${url.origin}${url.pathname}`;
  const max = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: 'GET',
      dispatcher: opts.dispatcher ?? defaultAgent(),
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${opts.token}`,
        'user-agent': USER_AGENT,
      },
      ...(opts.timeouts?.headersMs !== undefined ? { headersTimeout: opts.timeouts.headersMs } : {}),
      ...(opts.timeouts?.bodyMs !== undefined ? { bodyTimeout: opts.timeouts.bodyMs } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw networkError(err, shown);
  }
  let text: string;
  try {
    text = await readBody(res.body, max, shown);
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw networkError(err, shown);
  }
  const status = res.statusCode;
  if (status === 200) return text;
  const detail = errorDetail(text);
  const init = { url: shown, status, detail };
  if (status === 401 || status === 403) {
    throw new QuayPermissionError(
      `Quay refused the token for ${shown} (HTTP ${status}${detail ? `: ${detail}` : ''})`,
      init,
    );
  }
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
    throw new QuayRetryableError(`Quay answered HTTP ${status} for ${shown}${detail ? `: ${detail}` : ''}`, {
      ...init,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (status >= 300 && status < 400) {
    const location = res.headers.location;
    throw new QuayRequestError(
      `Quay redirected ${shown} to ${String(location ?? '?')} (HTTP ${status}); configure the final URL`,
      init,
    );
  }
  throw new QuayRequestError(`Quay answered HTTP ${status} for ${shown}${detail ? `: ${detail}` : ''}`, init);
}
