/**
 * Errors a route can raise, each rendered in Quay's wire format by the error
 * handler in app.ts. Anything else that escapes a handler is a bug: it is logged
 * and answered with Quay's body and a 500, never with a stack trace.
 */
import {
  MSG_NOT_FOUND,
  MSG_REQUIRES_AUTHENTICATION,
  MSG_UNAUTHORIZED,
} from '@quaylogs/core';

/** An `ApiException`-style error: Quay's `{detail, error_message, error_type, title, type, status}` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

/** A plain Flask abort: `{"message": …}` (Quay's end<start 400, invalid aggregate range, …). */
export class MessageError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const unauthenticated = () => new ApiError(401, 'invalid_token', MSG_REQUIRES_AUTHENTICATION);
export const forbidden = () => new ApiError(403, 'insufficient_scope', MSG_UNAUTHORIZED);
export const notFound = () => new ApiError(404, 'not_found', MSG_NOT_FOUND);
/** Werkzeug's 415 text when a JSON endpoint gets another Content-Type (Flask-RESTful: `{"message": …}`). */
export const MSG_NOT_JSON = "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.";
export const notJson = () => new MessageError(415, MSG_NOT_JSON);
export const invalidRequest = (detail: string) => new ApiError(400, 'invalid_request', detail);
