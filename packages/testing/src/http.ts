/**
 * Calling a running quaylogs API over real HTTP as a client does: a bearer token (the
 * bootstrap superuser's unless told), JSON in and out, and Quay's error bodies written out
 * independently of the code under test.
 */

/** The bootstrap superuser's token every in-process API fixture is started with. */
export const ADMIN_TOKEN = 'test-bootstrap-token-0123456789';

/** Anything serving the API: an in-process fixture, a stack, a spawned `quaylogs up`. */
export interface ApiTarget {
  url: string;
}

export interface Res<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = any>(
  f: ApiTarget,
  method: string,
  path: string,
  opts: { token?: string | null; body?: unknown; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<Res<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(f.url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Creates a quaylogs user with grants and returns their bearer token. */
export async function userWithToken(
  f: ApiTarget,
  username: string,
  grants: { organizations?: string[]; repositories?: string[] } = {},
  superuser = false,
): Promise<string> {
  const created = await call(f, 'POST', '/api/v1/superuser/users', { body: { username, email: `${username}@example.com`, superuser } });
  if (created.status !== 201) throw new Error(`create user ${username}: ${created.status} ${JSON.stringify(created.body)}`);
  const g = await call(f, 'PUT', `/api/v1/superuser/users/${username}/grants`, { body: grants });
  if (g.status !== 200) throw new Error(`grants ${username}: ${g.status}`);
  const t = await call(f, 'POST', `/api/v1/superuser/users/${username}/apptoken`, { body: { title: 'test' } });
  if (t.status !== 200) throw new Error(`token ${username}: ${t.status}`);
  return t.body.token.token_code;
}

/** MM/DD/YYYY of a Date (UTC), as the Quay UI sends dates. */
export function mdy(d: Date): string {
  return `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/${d.getUTCFullYear()}`;
}

/** Quay's ApiException body as a client sees it. */
function quayErrorBody(base: string, errorType: string, detail: string, status: number) {
  return { detail, error_message: detail, error_type: errorType, title: errorType, type: `${base}/api/v1/error/${errorType}`, status };
}

/** 401 for a request without a valid token. */
export const requiresAuthentication = (f: ApiTarget) => quayErrorBody(f.url, 'invalid_token', 'Requires authentication', 401);
/** 403 for a caller without the right. */
export const unauthorized = (f: ApiTarget) => quayErrorBody(f.url, 'insufficient_scope', 'Unauthorized', 403);
/** 404 (base: the server's `scheme://host`). */
export const notFoundBody = (f: ApiTarget | string) => quayErrorBody(typeof f === 'string' ? f : f.url, 'not_found', 'Not Found', 404);
