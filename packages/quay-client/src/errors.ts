/**
 * What can go wrong talking to a Quay registry, sorted by what the caller should do:
 * retry later (`retryable`), or stop and tell the operator.
 */

export interface QuayErrorInit {
  /** The URL asked for (without the token, which travels in a header). */
  url: string;
  /** HTTP status, when Quay answered. */
  status?: number;
  /** Quay's explanation: `detail` of its API error body, else `message`/`error`, else the text. */
  detail?: string;
  cause?: unknown;
}

export class QuayError extends Error {
  override name = 'QuayError';
  /** Whether the same request may succeed later without anyone changing anything. */
  readonly retryable: boolean = false;
  readonly url: string;
  readonly status: number | undefined;
  readonly detail: string | undefined;

  constructor(message: string, init: QuayErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.url = init.url;
    this.status = init.status;
    this.detail = init.detail;
  }
}

/** 401/403: the token is missing, invalid, expired, or may not read these logs. */
export class QuayPermissionError extends QuayError {
  override name = 'QuayPermissionError';
}

/**
 * Worth retrying: 5xx, 408, 429 (with `retryAfterMs` from Retry-After), network errors,
 * timeouts, and an answer that was cut off or was not Quay's JSON (a proxy's error page).
 */
export class QuayRetryableError extends QuayError {
  override name = 'QuayRetryableError';
  override readonly retryable: boolean = true;
  /** Milliseconds Quay (or its proxy) asked us to wait, from `Retry-After`. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, init: QuayErrorInit & { retryAfterMs?: number }) {
    super(message, init);
    this.retryAfterMs = init.retryAfterMs;
  }
}

/**
 * Quay answered 200 with `search_unavailable: true`: its logs model cannot search (Splunk HEC
 * without a `search_token`). Nothing can be read until Quay's configuration changes.
 */
export class QuaySearchUnavailableError extends QuayError {
  override name = 'QuaySearchUnavailableError';
}

/** Any other refusal (400, 404, a redirect, …): the request itself is wrong for this registry. */
export class QuayRequestError extends QuayError {
  override name = 'QuayRequestError';
}
