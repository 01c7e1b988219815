import { describe, expect, it } from 'vitest';
import {
  MSG_ANONYMOUS_NOT_ALLOWED,
  MSG_BAD_REQUEST_GENERIC,
  MSG_INVALID_DATE_RANGE,
  MSG_NOT_FOUND,
  MSG_REQUIRES_AUTHENTICATION,
  MSG_UNAUTHORIZED,
  QUAY_ERROR_TYPES,
  quayAbortError,
  quayApiError,
  quayErrorDescription,
  quayMessageError,
} from '../src/index.ts';

const BASE = 'https://quay.example.com';

describe("Quay's API error body", () => {
  it('renders 404 not_found with the keys in Quay order', () => {
    const body = quayApiError('not_found', MSG_NOT_FOUND, BASE);
    expect(JSON.stringify(body)).toBe(
      '{"detail":"Not Found","error_message":"Not Found","error_type":"not_found","title":"not_found",' +
        '"type":"https://quay.example.com/api/v1/error/not_found","status":404}',
    );
  });

  it('renders 401 invalid_token "Requires authentication" and 403 insufficient_scope "Unauthorized"', () => {
    expect(quayApiError('invalid_token', MSG_REQUIRES_AUTHENTICATION, `${BASE}/`)).toEqual({
      detail: 'Requires authentication',
      error_message: 'Requires authentication',
      error_type: 'invalid_token',
      title: 'invalid_token',
      type: 'https://quay.example.com/api/v1/error/invalid_token',
      status: 401,
    });
    expect(quayApiError('insufficient_scope', MSG_UNAUTHORIZED, BASE)).toMatchObject({
      detail: 'Unauthorized',
      status: 403,
    });
  });

  it('lets the caller override the status', () => {
    expect(quayApiError('invalid_request', 'Invalid callback URL', BASE, 422).status).toBe(422);
    expect(quayApiError('something_else', 'x', BASE).status).toBe(500);
  });

  it("knows Quay's twelve error types and their statuses", () => {
    const statuses = Object.fromEntries(Object.entries(QUAY_ERROR_TYPES).map(([k, v]) => [k, v.status]));
    expect(statuses).toEqual({
      external_service_timeout: 520, invalid_request: 400, invalid_response: 400,
      invalid_token: 401, expired_token: 401, insufficient_scope: 403,
      fresh_login_required: 401, exceeds_license: 402, not_found: 404,
      downstream_issue: 520, tag_immutable: 409, token_rotation_failed: 500,
    });
  });

  it('describes an error type for GET /api/v1/error/{type}, and nothing for unknown types', () => {
    expect(quayErrorDescription('not_found', BASE)).toEqual({
      type: 'https://quay.example.com/api/v1/error/not_found',
      title: 'not_found',
      description: 'The resource was not found.',
    });
    expect(quayErrorDescription('nope', BASE)).toBeNull();
    expect(quayErrorDescription('constructor', BASE)).toBeNull();
  });
});

describe('plain abort bodies', () => {
  it('renders Flask aborts as {message}', () => {
    expect(quayMessageError(MSG_BAD_REQUEST_GENERIC)).toEqual({
      message: 'The browser (or proxy) sent a request that this server could not understand.',
    });
    expect(quayMessageError(MSG_INVALID_DATE_RANGE)).toEqual({ message: 'Invalid date range for logs' });
  });

  it("renders Quay's own aborts (anonymous access disabled) as {error}", () => {
    expect(quayAbortError(MSG_ANONYMOUS_NOT_ALLOWED)).toEqual({ error: 'Anonymous access is not allowed' });
  });
});
