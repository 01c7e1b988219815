/**
 * Quay's `/logs` pages (docs/compatibility.md): the three listing routes a poller
 * reads, the page JSON, and `fetchLogsPage`.
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { QuayRetryableError, QuaySearchUnavailableError } from './errors.ts';
import { quayGet, type QuayTimeouts } from './http.ts';

const avatarSchema = z
  .object({ name: z.string(), hash: z.string(), color: z.string(), kind: z.string() })
  .loose();

/** One entry as Quay sends it. Extra keys are kept (a newer Quay may add some). */
export const quayLogEntrySchema = z
  .object({
    kind: z.string(),
    metadata: z.record(z.string(), z.unknown()).nullable().optional(),
    ip: z.string().nullable().optional(),
    datetime: z.string(),
    performer: z
      .object({
        kind: z.string(),
        name: z.string(),
        // Splunk-read logs of deleted users carry null.
        is_robot: z.boolean().nullable().optional(),
        avatar: avatarSchema.optional(),
      })
      .loose()
      .nullable()
      .optional(),
    namespace: z
      .object({ kind: z.string(), name: z.string(), avatar: avatarSchema.optional() })
      .loose()
      .nullable()
      .optional(),
  })
  .loose();
export type QuayLogEntryWire = z.infer<typeof quayLogEntrySchema>;

export const quayLogsPageSchema = z
  .object({
    start_time: z.string(),
    end_time: z.string(),
    logs: z.array(quayLogEntrySchema),
    next_page: z.string().optional(),
    search_unavailable: z.boolean().optional(),
    message: z.string().optional(),
  })
  .loose();
export type QuayLogsPage = z.infer<typeof quayLogsPageSchema>;

/** Which listing: one namespace (`/organization/{ns}/logs`, which also serves a user's own
 * namespace), the token owner's (`/user/logs`), or everything (`/superuser/logs`). */
export type LogsTarget =
  | { namespace: string; superuser?: undefined; user?: undefined }
  | { superuser: true; namespace?: undefined; user?: undefined }
  | { user: true; namespace?: undefined; superuser?: undefined };

export type FetchLogsPageOptions = LogsTarget & {
  /** Registry root, e.g. `https://quay.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** OAuth access token or robot/app token Quay takes as `Authorization: Bearer`. */
  token: string;
  /** `MM/DD/YYYY`, UTC midnight. */
  starttime: string;
  /** `MM/DD/YYYY`; Quay adds one day, so this day is included. */
  endtime: string;
  /** The previous page's `next_page`. */
  nextPage?: string | undefined;
  dispatcher?: Dispatcher;
  timeouts?: Partial<QuayTimeouts>;
  signal?: AbortSignal;
  maxBodyBytes?: number;
};

/** The URL of one page. */
export function logsPageUrl(opts: FetchLogsPageOptions): URL {
  const base = opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`;
  const path =
    opts.superuser === true
      ? 'api/v1/superuser/logs'
      : opts.user === true
        ? 'api/v1/user/logs'
        : `api/v1/organization/${encodeURIComponent(opts.namespace)}/logs`;
  const url = new URL(path, base);
  url.searchParams.set('starttime', opts.starttime);
  url.searchParams.set('endtime', opts.endtime);
  if (opts.nextPage) url.searchParams.set('next_page', opts.nextPage);
  return url;
}

/**
 * Reads one `/logs` page. Resolves with the parsed page; `next_page` is present while Quay
 * has (or, with its database model, may have) more — an empty page without `next_page`
 * ends the walk. Throws QuayPermissionError (401/403), QuayRetryableError (5xx, 408, 429,
 * network, timeouts, a body that is not a logs page), QuaySearchUnavailableError
 * (`search_unavailable: true`) or QuayRequestError (anything else).
 */
export async function fetchLogsPage(opts: FetchLogsPageOptions): Promise<QuayLogsPage> {
  const url = logsPageUrl(opts);
  const shown = `${url.origin}${url.pathname}`;
  const text = await quayGet(url, {
    token: opts.token,
    ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
    ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new QuayRetryableError(`Quay answered ${shown} with a body that is not JSON`, {
      url: shown,
      status: 200,
      cause: err,
    });
  }
  const parsed = quayLogsPageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new QuayRetryableError(
      `Quay answered ${shown} with JSON that is not a logs page (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`,
      { url: shown, status: 200, cause: parsed.error },
    );
  }
  const page = parsed.data;
  if (page.search_unavailable === true) {
    throw new QuaySearchUnavailableError(
      `Quay at ${opts.baseUrl} cannot search its usage logs (search_unavailable)${page.message ? `: ${page.message}` : ''}`,
      { url: shown, status: 200, ...(page.message ? { detail: page.message } : {}) },
    );
  }
  return page;
}
