/**
 * Quay's error bodies. Two shapes reach clients:
 * - Quay's own API errors (`ApiException`): `{detail, error_message, error_type, title, type, status}`;
 * - plain Flask aborts: `{message}` (e.g. 400 end < start, 400 aggregate range too long).
 * The texts below are wire format: clients and Quay's UI match on them.
 */

/** Quay's error types, their HTTP status and the description `GET /api/v1/error/{type}` serves. */
export const QUAY_ERROR_TYPES: Record<string, { status: number; description: string }> = {
  external_service_timeout: {
    status: 520,
    description: 'An external service timed out. Retrying the request may resolve the issue.',
  },
  invalid_request: {
    status: 400,
    description:
      'The request was invalid. It may have contained invalid values or was improperly formatted.',
  },
  invalid_response: { status: 400, description: 'The response was invalid.' },
  invalid_token: { status: 401, description: 'The access token provided was invalid.' },
  expired_token: { status: 401, description: 'The access token provided has expired.' },
  insufficient_scope: {
    status: 403,
    description: 'The access token did not have sufficient scope to access the requested resource.',
  },
  fresh_login_required: {
    status: 401,
    description: 'The action requires a fresh login to succeed.',
  },
  exceeds_license: {
    status: 402,
    description: 'The action was refused because the current license does not allow it.',
  },
  not_found: { status: 404, description: 'The resource was not found.' },
  downstream_issue: { status: 520, description: 'An error occurred in a downstream service.' },
  tag_immutable: {
    status: 409,
    description: 'The tag is immutable and cannot be modified or deleted.',
  },
  token_rotation_failed: { status: 500, description: 'Token rotation failed.' },
};

/** `detail` of Quay's 401 `invalid_token` for a request without a usable user. */
export const MSG_REQUIRES_AUTHENTICATION = 'Requires authentication';
/** `detail` of Quay's 403 `insufficient_scope` for an authenticated user lacking permission. */
export const MSG_UNAUTHORIZED = 'Unauthorized';
/** `detail` of Quay's 404 `not_found` (e.g. an authorised caller asking for a missing repository). */
export const MSG_NOT_FOUND = 'Not Found';
/** `detail` of Quay's 401 `fresh_login_required`. */
export const MSG_FRESH_LOGIN_REQUIRED = 'Requires fresh login';
/** `{message}` of a bare Flask 400, which Quay sends when the window's end is before its start. */
export const MSG_BAD_REQUEST_GENERIC =
  'The browser (or proxy) sent a request that this server could not understand.';
/** `{message}` of the 400 for an aggregate window longer than Quay allows. */
export const MSG_INVALID_DATE_RANGE = 'Invalid date range for logs';
/**
 * Text of the 401 when anonymous access is disabled. NB: Quay sends it through its own
 * `util.http.abort`, whose body is `{"error": text}` (see `quayAbortError`), not `{"message"}`.
 */
export const MSG_ANONYMOUS_NOT_ALLOWED = 'Anonymous access is not allowed';
/** Text of the 400 for a browser GET without `X-Requested-With` (also via `util.http.abort`). */
export const MSG_XHR_REQUIRED =
  'API calls must be invoked with an X-Requested-With header if called from a browser';

/** Quay's API error body. Key order is Quay's (`ApiException.to_dict`). */
export interface QuayApiError {
  detail: string;
  error_message: string;
  error_type: string;
  title: string;
  type: string;
  status: number;
}

function errorTypeUrl(errorType: string, baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/v1/error/${errorType}`;
}

/**
 * Builds Quay's API error body. `baseUrl` is the externally visible `scheme://host` (a trailing
 * slash is tolerated); `status` defaults to the type's own status (500 for an unknown type).
 */
export function quayApiError(
  errorType: string,
  detail: string,
  baseUrl: string,
  status?: number,
): QuayApiError {
  return {
    detail,
    error_message: detail,
    error_type: errorType,
    title: errorType,
    type: errorTypeUrl(errorType, baseUrl),
    status: status ?? QUAY_ERROR_TYPES[errorType]?.status ?? 500,
  };
}

/** Body of `GET /api/v1/error/{type}` (`{type, title, description}`), or null for an unknown type (⇒ 404). */
export function quayErrorDescription(
  errorType: string,
  baseUrl: string,
): { type: string; title: string; description: string } | null {
  if (!Object.hasOwn(QUAY_ERROR_TYPES, errorType)) return null;
  const known = QUAY_ERROR_TYPES[errorType];
  if (known === undefined) return null;
  return { type: errorTypeUrl(errorType, baseUrl), title: errorType, description: known.description };
}

/** Body of a plain Flask/flask-restful abort: `{"message": …}`. */
export function quayMessageError(message: string): { message: string } {
  return { message };
}

/**
 * Body of Quay's `util.http.abort` (anonymous access disabled, missing X-Requested-With, …):
 * `{"error": …}`. Quay appends ` (authorized: <who>)` when the request was authenticated, and
 * serves this body as `text/html; charset=utf-8` (a string handed to Flask's make_response).
 */
export function quayAbortError(message: string): { error: string } {
  return { error: message };
}
