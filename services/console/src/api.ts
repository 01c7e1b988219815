/**
 * The console talks to quaylogs' public API only. The token lives in memory and in
 * sessionStorage (gone when the tab closes), is sent only in the Authorization header,
 * and never appears in a URL or a log line.
 */
const KEY = 'quaylogs.token';
let token: string | null = sessionStorage.getItem(KEY);

export function getToken(): string | null {
  return token;
}

export function setToken(t: string | null): void {
  token = t;
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Quay's error bodies carry `detail` or `error_message`; Flask aborts `message`. */
function messageOf(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const m = b.detail ?? b.error_message ?? b.message ?? b.text;
    if (typeof m === 'string' && m) return m;
  }
  if (status === 401) return 'Your token was not accepted. Sign in again.';
  if (status === 403) return 'Your account may not read this.';
  if (status === 404) return 'Not found.';
  return `The server answered ${status}.`;
}

let onUnauthorized: (() => void) | null = null;
export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

export async function api<T = unknown>(method: string, path: string, body?: unknown, opts: { token?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const t = opts.token ?? token;
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new ApiFailure(0, 'quaylogs cannot be reached. Check that `quaylogs up` is running.');
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.token && onUnauthorized) onUnauthorized();
    throw new ApiFailure(res.status, messageOf(res.status, parsed));
  }
  return parsed as T;
}

export const get = <T = unknown>(path: string) => api<T>('GET', path);

/** `path?a=b&c=d`, leaving out empty values. */
export function withQuery(path: string, q: Record<string, string | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

/** A curl command for the same request (the token stays a variable). */
export function curlFor(path: string): string {
  return `curl -H "Authorization: Bearer $TOKEN" '${location.origin}${path}'`;
}
