/**
 * A stand-in for a Quay registry's logs API, for tests: a real HTTP server on loopback that
 * answers `/api/v1/organization/{org}/logs`, `/api/v1/user/logs` and `/api/v1/superuser/logs`
 * from an in-memory list of entries, in Quay's wire format (docs/compatibility.md):
 *
 * - `Authorization: Bearer` tokens; no/unknown token ⇒ 401 `invalid_token` "Requires
 *   authentication", a user without permission ⇒ 403 `insufficient_scope` "Unauthorized",
 *   both in Quay's API error body. An authorised reader of an unknown org ⇒ 400
 *   `{"message": "Invalid namespace requested: X"}`.
 * - `starttime`/`endtime` as `MM/DD/YYYY` UTC (unparseable ⇒ default now−24h / now), end + 1 day,
 *   `[start, end)`; end < start ⇒ Flask's bare 400 (not on the superuser route).
 * - Newest first, pages of 20, Quay's database-model paging: the token holds the 21st row's
 *   datetime and an offset (with Quay's offset quirk around equal timestamps), wrapped
 *   opaquely; bad tokens mean "first page". The last real page still carries `next_page`
 *   (it points at the legacy log tables) and the request after it answers `"logs": []`
 *   without `next_page`. An empty window answers `[]` without `next_page` at once.
 * - Entries: `{kind, metadata, ip, datetime (RFC-2822, seconds), performer?, namespace?}`;
 *   performer `kind` is always "user" with `is_robot` and an avatar; `namespace` only on the
 *   superuser route. `/user/logs` drops Quay's service-level kinds.
 * - Faults: n× a status (500, 429 with Retry-After, …), n× a hang, `search_unavailable`.
 * - Every request is recorded in `requests`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  avatarFor,
  formatRfc2822,
  MSG_BAD_REQUEST_GENERIC,
  MSG_REQUIRES_AUTHENTICATION,
  MSG_UNAUTHORIZED,
  quayApiError,
  SERVICE_LEVEL_LOG_KINDS,
} from '@quaylogs/core';

export interface SimAccount {
  name: string;
  kind: 'user' | 'org' | 'robot';
  email?: string | null;
}

export interface SimToken {
  /** The user the token belongs to (its own namespace is always readable). */
  username: string;
  /** Organizations the user administers. */
  admin?: string[];
  /** May read `/superuser/logs`. */
  superuser?: boolean;
  /** Global read-only superuser (or superuser with full access): may read every org's logs. */
  readAllOrgs?: boolean;
}

export interface SimEntry {
  namespace: string;
  kind: string;
  /** Username (robots `ns+name`); null/undefined ⇒ anonymous (no `performer` key). */
  performer?: string | null;
  ip?: string | null;
  /** An instant (ISO text or Date); Quay keeps microseconds but shows whole seconds. */
  datetime: string | Date;
  /** Microseconds within the millisecond (0–999); default: distinct per entry, like a real database. */
  micros?: number;
  metadata?: Record<string, unknown>;
}

export interface SimRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  status: number;
  /** What the sim did: `ok`, `fault`, `hang`, `search_unavailable`, `denied`, `bad_request`, `not_found`. */
  outcome: string;
  logs?: number;
  nextPage?: boolean;
}

export interface SimFault {
  kind: 'status' | 'hang' | 'search_unavailable';
  /** How many requests it hits (default 1). */
  times?: number;
  status?: number;
  /** `Retry-After` header value. */
  retryAfter?: string;
  /** Only requests it matches (default: every logs request). */
  when?: (req: { path: string; query: Record<string, string> }) => boolean;
}

export interface QuaySimOptions {
  tokens?: Record<string, SimToken>;
  accounts?: SimAccount[];
  entries?: SimEntry[];
  now?: () => Date;
  /** Log model can't search (Splunk HEC without search_token): every logs request says so. */
  searchUnavailable?: boolean;
}

interface StoredEntry extends SimEntry {
  id: number;
  /** Epoch microseconds. */
  t: number;
}

interface PageToken {
  start_index?: number;
  page_number?: number;
  is_datetime?: boolean;
  offset_val?: number;
  tti?: number;
}

const PAGE_SIZE = 20;
const DAY_US = 86_400_000_000;
const TOKEN_PREFIX = 'gAAAAAB';
const SEARCH_UNAVAILABLE_MESSAGE =
  'Audit log viewing requires a search_token to be configured for Splunk HEC. Logs are still being forwarded to Splunk.';
const FLASK_NOT_FOUND =
  'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.';
const FLASK_INTERNAL_ERROR =
  'The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.';

/** Python `strptime(s + " UTC", "%m/%d/%Y %Z")` as UTC epoch microseconds, or null. */
function parseMdy(s: string | undefined): number | null {
  if (!s) return null;
  const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(s);
  if (!m) return null;
  const [mo, d, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const at = new Date(0);
  at.setUTCFullYear(y, mo - 1, d);
  if (mo < 1 || mo > 12 || at.getUTCMonth() !== mo - 1 || at.getUTCDate() !== d) return null;
  return at.getTime() * 1000;
}

function encodeToken(token: PageToken): string {
  return TOKEN_PREFIX + Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

function decodeToken(text: string | undefined): PageToken | null {
  if (!text || !text.startsWith(TOKEN_PREFIX)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(text.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' ? (value as PageToken) : null;
  } catch {
    return null;
  }
}

export class QuaySim {
  readonly requests: SimRequest[] = [];
  tokens: Record<string, SimToken>;
  searchUnavailable: boolean;
  now: () => Date;
  private readonly entries: StoredEntry[] = [];
  private readonly accounts = new Map<string, SimAccount>();
  private readonly faults: (SimFault & { left: number })[] = [];
  private readonly hung = new Set<ServerResponse>();
  private nextId = 1;
  private server = createServer((req, res) => this.handle(req, res));
  private baseUrl = '';

  constructor(opts: QuaySimOptions = {}) {
    this.tokens = { ...opts.tokens };
    this.searchUnavailable = opts.searchUnavailable ?? false;
    this.now = opts.now ?? (() => new Date());
    for (const a of opts.accounts ?? []) this.accounts.set(a.name, a);
    this.addEntries(opts.entries ?? []);
  }

  /** `http://127.0.0.1:<port>` once started. */
  get url(): string {
    return this.baseUrl;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addEntries(entries: SimEntry[]): void {
    for (const e of entries) {
      const id = this.nextId++;
      const ms = new Date(e.datetime).getTime();
      if (Number.isNaN(ms)) throw new Error(`bad sim entry datetime ${String(e.datetime)}`);
      this.entries.push({ ...e, id, t: ms * 1000 + (e.micros ?? id % 1000) });
    }
  }

  clearEntries(): void {
    this.entries.length = 0;
  }

  /** Back to a blank registry: no entries, requests, faults or search_unavailable (tokens and accounts stay). */
  reset(): void {
    this.entries.length = 0;
    this.requests.length = 0;
    this.faults.length = 0;
    this.searchUnavailable = false;
  }

  addAccounts(accounts: SimAccount[]): void {
    for (const a of accounts) this.accounts.set(a.name, a);
  }

  /** Queues a fault for the next matching logs request(s). */
  inject(fault: SimFault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Requests to the logs routes only (what a poller sent). */
  logsRequests(): SimRequest[] {
    return this.requests.filter((r) => r.path.endsWith('/logs'));
  }

  private send(res: ServerResponse, rec: SimRequest, status: number, body: unknown, headers: Record<string, string> = {}): void {
    rec.status = status;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    const query = Object.fromEntries(url.searchParams.entries());
    const rec: SimRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      authorization: req.headers.authorization,
      status: 0,
      outcome: 'ok',
    };
    this.requests.push(rec);
    const host = `http://${req.headers.host ?? '127.0.0.1'}`;

    const org = /^\/api\/v1\/organization\/([^/]+)\/logs$/.exec(url.pathname);
    const route =
      url.pathname === '/api/v1/user/logs' ? 'user' : url.pathname === '/api/v1/superuser/logs' ? 'superuser' : org ? 'org' : null;
    if (req.method !== 'GET' || route === null) {
      rec.outcome = 'not_found';
      return this.send(res, rec, 404, { message: FLASK_NOT_FOUND });
    }

    const fault = this.faults.find((f) => f.left > 0 && (f.when ? f.when({ path: url.pathname, query }) : true));
    if (fault) {
      fault.left -= 1;
      if (fault.kind === 'hang') {
        rec.outcome = 'hang';
        this.hung.add(res);
        res.on('close', () => this.hung.delete(res));
        return;
      }
      if (fault.kind === 'status') {
        rec.outcome = 'fault';
        const status = fault.status ?? 500;
        const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
        if (status === 500) return this.send(res, rec, status, { message: FLASK_INTERNAL_ERROR }, headers);
        return this.send(res, rec, status, `<html><body><h1>${status}</h1></body></html>`, headers);
      }
    }

    // Authentication: an unknown token is simply no user (Quay's auth runs "regardless of failure").
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
    const user = bearer !== undefined ? this.tokens[bearer] : undefined;
    const deny = (): void => {
      rec.outcome = 'denied';
      if (user === undefined) {
        return this.send(res, rec, 401, quayApiError('invalid_token', MSG_REQUIRES_AUTHENTICATION, host, 401));
      }
      return this.send(res, rec, 403, quayApiError('insufficient_scope', MSG_UNAUTHORIZED, host, 403));
    };

    let namespace: string | undefined;
    if (route === 'org') {
      namespace = decodeURIComponent(org![1]!);
      const can = user !== undefined && (user.username === namespace || user.admin?.includes(namespace) || user.readAllOrgs === true);
      if (!can) return deny();
    } else if (route === 'user') {
      if (user === undefined) return deny();
      namespace = user.username;
    } else if (user === undefined || user.superuser !== true) {
      return deny();
    }

    // Window: Quay's defaults and its +1 day on the end.
    const nowUs = this.now().getTime() * 1000;
    const start = parseMdy(query.starttime) ?? nowUs - DAY_US;
    const end = (parseMdy(query.endtime) ?? nowUs) + DAY_US;
    if (route !== 'superuser' && end < start) {
      rec.outcome = 'bad_request';
      return this.send(res, rec, 400, { message: MSG_BAD_REQUEST_GENERIC });
    }
    const window = { start_time: formatRfc2822(new Date(Math.floor(start / 1000))), end_time: formatRfc2822(new Date(Math.floor(end / 1000))) };

    if (this.searchUnavailable || fault?.kind === 'search_unavailable') {
      rec.outcome = 'search_unavailable';
      return this.send(res, rec, 200, { ...window, logs: [], search_unavailable: true, message: SEARCH_UNAVAILABLE_MESSAGE });
    }
    if (namespace !== undefined && !this.knowsNamespace(namespace)) {
      rec.outcome = 'bad_request';
      return this.send(res, rec, 400, { message: `Invalid namespace requested: ${namespace}` });
    }

    const rows = this.entries
      .filter((e) => e.t >= start && e.t < end)
      .filter((e) => namespace === undefined || e.namespace === namespace)
      .filter((e) => route !== 'user' || !SERVICE_LEVEL_LOG_KINDS.includes(e.kind))
      .sort((a, b) => b.t - a.t || b.id - a.id);
    const [logs, next] = this.lookup(rows, decodeToken(query.next_page));
    const body: Record<string, unknown> = { ...window, logs: logs.map((e) => this.render(e, route === 'superuser')) };
    if (next !== null) body.next_page = encodeToken(next);
    rec.logs = logs.length;
    rec.nextPage = next !== null;
    return this.send(res, rec, 200, body);
  }

  private knowsNamespace(name: string): boolean {
    return this.accounts.has(name) || this.entries.some((e) => e.namespace === name) || Object.values(this.tokens).some((t) => t.username === name);
  }

  /** Quay's table walk: logentry3, then the (empty) legacy tables logentry2 and logentry. */
  private lookup(rows: StoredEntry[], token: PageToken | null): [StoredEntry[], PageToken | null] {
    if (token?.tti !== undefined && token.tti >= 1) return [[], null];
    const [logs, next] = this.paginate(rows, token);
    if (next === null) return logs.length > 0 ? [logs, { tti: 1 }] : [[], null];
    return [logs, next];
  }

  /** Quay's `modelutil.paginate` on datetime DESC: keyset on the 21st row plus an offset. */
  private paginate(rows: StoredEntry[], token: PageToken | null): [StoredEntry[], PageToken | null] {
    let q = rows;
    if (token?.start_index !== undefined) q = q.filter((e) => e.t <= token.start_index!);
    const offset = token?.offset_val ?? 0;
    q = q.slice(offset, offset + PAGE_SIZE + 1);
    if (q.length <= PAGE_SIZE) return [q, null];
    const last = q[PAGE_SIZE]!;
    const sameAsPrevious = last.t === q[PAGE_SIZE - 1]!.t;
    const pageNumber = token?.page_number ? token.page_number + 1 : 1;
    return [
      q.slice(0, PAGE_SIZE),
      { start_index: last.t, page_number: pageNumber, is_datetime: true, offset_val: sameAsPrevious ? PAGE_SIZE + offset : offset },
    ];
  }

  /** `Log.to_dict`: key order kind, metadata, ip, datetime, performer, namespace. */
  private render(e: StoredEntry, includeNamespace: boolean): Record<string, unknown> {
    const view: Record<string, unknown> = {
      kind: e.kind,
      metadata: e.metadata ?? {},
      ip: e.ip ?? null,
      datetime: formatRfc2822(new Date(Math.floor(e.t / 1000))),
    };
    if (e.performer) {
      const account = this.accounts.get(e.performer);
      const robot = account ? account.kind === 'robot' : e.performer.includes('+');
      view.performer = {
        kind: 'user',
        name: e.performer,
        is_robot: robot,
        avatar: avatarFor(e.performer, account?.email ?? null, robot ? 'robot' : 'user'),
      };
    }
    if (includeNamespace) {
      // Unknown accounts default to organizations (what a polled namespace usually is).
      const account = this.accounts.get(e.namespace) ?? { name: e.namespace, kind: 'org' as const, email: null };
      view.namespace =
        account.kind === 'org'
          ? { kind: 'org', name: e.namespace, avatar: avatarFor(e.namespace, account.email ?? null, 'org') }
          : { kind: 'user', name: e.namespace, avatar: avatarFor(e.namespace, account.email ?? null, account.kind === 'robot' ? 'robot' : 'user') };
    }
    return view;
  }
}

/** Starts a simulator on a free loopback port. */
export async function startQuaySim(opts: QuaySimOptions = {}): Promise<QuaySim> {
  return new QuaySim(opts).start();
}
