/**
 * Export callbacks: one signed POST to the URL the export names.
 *
 * - The URL is vetted by the SSRF guard at every attempt and the connection is
 *   pinned to the address the guard vetted (no DNS-rebinding window).
 * - Standard Webhooks signature headers: `webhook-id` (the same on every retry of one
 *   delivery), `webhook-timestamp` (Unix seconds of this attempt) and
 *   `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`).
 * - Any 2xx counts (Quay wants exactly 200); a 3xx is a failure and is never followed;
 *   connect, response-header and body timeouts are explicit, plus an overall deadline.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import { pinnedLookup, SsrfError, type SsrfPolicy, vetUrl } from './ssrfGuard.ts';

export interface CallbackTimeouts {
  /** TCP (and TLS) connect, in ms. */
  connectMs: number;
  /** From the request being sent to the response headers, in ms. */
  headersMs: number;
  /** Between two chunks of the response body, in ms. */
  bodyMs: number;
  /** The whole attempt, in ms. */
  totalMs: number;
}

export const DEFAULT_CALLBACK_TIMEOUTS: CallbackTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000, totalMs: 60_000 };

/** A Standard Webhooks signer. `whsec_…` secrets are base64 after the prefix; anything else is used raw. */
export class WebhookSigner {
  private readonly webhook: Webhook;

  constructor(secret: string) {
    if (!secret) throw new RangeError('the callback signing secret is empty');
    this.webhook = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(secret, { format: 'raw' });
  }

  /** The three headers for one attempt. */
  headers(webhookId: string, at: Date, body: string): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
    return {
      'webhook-id': webhookId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': this.webhook.sign(webhookId, at, body),
    };
  }
}

/**
 * QUAYLOGS_CALLBACK_SECRET, or a `whsec_` secret generated on first start and kept in
 * the data directory (`callback-secret`, mode 0600), so receivers can keep verifying
 * across restarts.
 */
export function loadOrCreateCallbackSecret(dataDir: string, configured: string | undefined): string {
  if (configured) return configured;
  const file = join(dataDir, 'callback-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

export interface CallbackRequest {
  url: string;
  /** The exact JSON text to send; it is what gets signed. */
  body: string;
  webhookId: string;
  signer: WebhookSigner;
  policy: SsrfPolicy;
  timeouts?: Partial<CallbackTimeouts>;
  userAgent?: string;
  now?: () => Date;
}

export type CallbackOutcome =
  | { ok: true; status: number; ms: number }
  | {
      ok: false;
      /** The HTTP status when the receiver answered. */
      status: number | null;
      error: string;
      /** False when retrying cannot help (the URL is refused by the SSRF guard or malformed). */
      retryable: boolean;
      ms: number;
    };

function describeError(err: unknown, t: CallbackTimeouts): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  switch (e.code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connect timeout after ${t.connectMs} ms`;
    case 'UND_ERR_HEADERS_TIMEOUT':
      return `no response within ${t.headersMs} ms`;
    case 'UND_ERR_BODY_TIMEOUT':
      return `response body stalled for ${t.bodyMs} ms`;
    case 'UND_ERR_ABORTED':
      return `no complete answer within ${t.totalMs} ms`;
    default:
      break;
  }
  if ((err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError') {
    return `no complete answer within ${t.totalMs} ms`;
  }
  const code = e.cause?.code ?? e.code;
  const message = e.cause?.message ?? e.message ?? String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** Sends one signed callback attempt. Never throws: the outcome says what happened. */
export async function postCallback(req: CallbackRequest): Promise<CallbackOutcome> {
  const t = { ...DEFAULT_CALLBACK_TIMEOUTS, ...req.timeouts };
  const started = Date.now();
  let target;
  try {
    target = await vetUrl(req.url, req.policy);
  } catch (err) {
    if (err instanceof SsrfError) {
      return {
        ok: false,
        status: null,
        error: err.kind === 'blocked' ? `refused by the SSRF guard: ${err.message}` : err.message,
        retryable: err.transient,
        ms: Date.now() - started,
      };
    }
    throw err;
  }
  const agent = new Agent({
    connect: { timeout: t.connectMs, lookup: pinnedLookup(target) },
    headersTimeout: t.headersMs,
    bodyTimeout: t.bodyMs,
    connections: 1,
    pipelining: 0,
  });
  try {
    const res = await request(target.url, {
      method: 'POST',
      dispatcher: agent,
      signal: AbortSignal.timeout(t.totalMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': req.userAgent ?? 'quaylogs-exporter',
        ...req.signer.headers(req.webhookId, (req.now ?? (() => new Date()))(), req.body),
      },
      body: req.body,
    });
    // Read (and drop) what the receiver says, up to a bound, so the socket closes cleanly.
    await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    const ms = Date.now() - started;
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode, ms };
    const location = res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed)' : '';
    return { ok: false, status: res.statusCode, error: `HTTP ${res.statusCode}${location}`, retryable: true, ms };
  } catch (err) {
    return { ok: false, status: null, error: describeError(err, t), retryable: true, ms: Date.now() - started };
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}
