/**
 * One poll of one source: for each of its namespaces (or once, for a superuser source),
 * read every day from the checkpoint's day to today, append the keyed entries to the ingest
 * stream, and advance the checkpoint.
 *
 * Checkpoint rule: after a day is read whole, the next poll may start at the following day,
 * but never later than the day of (poll start − settle time): the day in progress, and for a
 * short while after midnight the day before, are always read again, so entries Quay commits
 * late are still picked up. Re-reading is harmless: the same entries get the same keys and the
 * loader drops keys it already stored.
 */
import { getPollCheckpoint, putPollCheckpoint, type ClickHouseStore, type PollCheckpoint } from '@quaylogs/clickhouse';
import { addUtcDays, formatMdy, startOfUtcDay, toChDateTime } from '@quaylogs/core';
import { appendIngestBatch, type Redis } from '@quaylogs/queue';
import {
  QuayEntryError,
  QuayError,
  QuayPermissionError,
  QuaySearchUnavailableError,
  type LogsTarget,
  type QuayClient,
} from '@quaylogs/quay-client';
import { PagingError, walkDay } from './dayWalk.ts';
import type { PollSource } from './sourcesConfig.ts';

export interface PollerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PollContext {
  redis: Redis;
  store: ClickHouseStore;
  client: QuayClient;
  log: PollerLogger;
  now: () => Date;
  /** Rows per ingest-stream entry (cut at whole seconds). */
  batchRows: number;
  /** How long after midnight the previous day is still re-read. */
  settleMs: number;
  /** First poll's window when the source names no start, in days back from today. */
  defaultLookbackDays: number;
  /** Called after each page; may throw to stop (e.g. lost lock). */
  onPage?: () => Promise<void>;
  /** true once the process is shutting down: stop between days, progress kept. */
  stopping: () => boolean;
  signal?: AbortSignal;
}

export interface NamespaceResult {
  namespace: string;
  days: number;
  pages: number;
  entries: number;
  batches: number;
  nextDay: string;
}

export interface PollResult {
  source: string;
  namespaces: NamespaceResult[];
  entries: number;
  /** true when shutdown cut the poll short (completed days are checkpointed). */
  stopped: boolean;
}

const dayText = (d: Date) => toChDateTime(d).slice(0, 10);
const dayOf = (text: string) => new Date(`${text}T00:00:00.000Z`);

/** The checkpoint key of a target: the namespace, or '' for a superuser source. */
export function checkpointNamespace(target: LogsTarget): string {
  return target.namespace ?? '';
}

export function targetsOf(source: PollSource): LogsTarget[] {
  return source.superuser ? [{ superuser: true }] : source.namespaces.map((namespace) => ({ namespace }));
}

async function pollTarget(ctx: PollContext, source: PollSource, target: LogsTarget, startedAt: Date): Promise<NamespaceResult & { stopped: boolean }> {
  const namespace = checkpointNamespace(target);
  const cp = await getPollCheckpoint(ctx.store, source.name, namespace);
  const today = startOfUtcDay(startedAt);
  const settledDay = startOfUtcDay(new Date(startedAt.getTime() - ctx.settleMs));
  let from = cp ? dayOf(cp.nextDay) : startOfUtcDay(source.start ?? addUtcDays(today, -ctx.defaultLookbackDays));
  if (from > today) from = today;
  const state: PollCheckpoint = cp ?? {
    source: source.name,
    namespace,
    nextDay: dayText(from),
    lastPollAt: null,
    lastEntryAt: null,
    entriesRead: 0,
    lastError: '',
    lastErrorAt: null,
  };
  const result = { namespace, days: 0, pages: 0, entries: 0, batches: 0, nextDay: state.nextDay, stopped: false };
  const label = { source: source.name, namespace: namespace || '(all: superuser)' };

  for (let day = from; day <= today; day = addUtcDays(day, 1)) {
    if (ctx.stopping()) {
      result.stopped = true;
      break;
    }
    const walked = await walkDay({
      client: ctx.client,
      source: source.name,
      target,
      day,
      batchRows: ctx.batchRows,
      withAccounts: source.superuser,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(ctx.onPage ? { onPage: ctx.onPage } : {}),
      warn: (obj, msg) => ctx.log.warn({ ...label, ...obj }, msg),
      emit: async (batch) => {
        await appendIngestBatch(ctx.redis, {
          v: 1,
          origin: 'poll',
          source: source.name,
          rows: batch.rows,
          ...(batch.accounts.length > 0 ? { accounts: batch.accounts } : {}),
        });
        result.batches += 1;
      },
    });
    result.days += 1;
    result.pages += walked.pages;
    result.entries += walked.entries;
    if (walked.newest !== null && (state.lastEntryAt === null || walked.newest > state.lastEntryAt)) state.lastEntryAt = walked.newest;
    // A finished day that is already settled never needs reading again: save the progress
    // now, so a failure later in a long backfill resumes here.
    const next = addUtcDays(day, 1);
    if (next <= settledDay && dayText(next) > state.nextDay) {
      state.nextDay = dayText(next);
      await putPollCheckpoint(ctx.store, state);
    }
  }
  if (!result.stopped) {
    const settled = dayText(settledDay < from ? from : settledDay);
    if (settled > state.nextDay) state.nextDay = settled;
    state.lastPollAt = toChDateTime(startedAt);
    state.entriesRead = result.entries;
    state.lastError = '';
    state.lastErrorAt = null;
    await putPollCheckpoint(ctx.store, state);
  }
  result.nextDay = state.nextDay;
  ctx.log.info(
    { ...label, from: formatMdy(from), to: formatMdy(today), days: result.days, pages: result.pages, entries: result.entries, nextDay: state.nextDay },
    result.stopped ? 'poller: namespace poll stopped by shutdown' : 'poller: namespace polled',
  );
  return result;
}

/** A poll that failed for one or more namespaces (the others were still polled). */
export class PollError extends Error {
  override name = 'PollError';
  constructor(
    message: string,
    /** Per failed namespace ('' = superuser source): the underlying error. */
    readonly failures: { namespace: string; error: unknown }[],
    /** Whether retrying the poll may help (some failure is transient). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** What the operator should do about a failure, appended to its message. */
function advice(source: PollSource, namespace: string, err: unknown): string {
  if (err instanceof QuayPermissionError) {
    const need = source.superuser ? 'the super:user scope (a superuser\'s token)' : `org:admin on "${namespace}" (or a global read-only superuser)`;
    return ` — the token needs ${need}; fix it in the sources file. Not retried before the next scheduled poll.`;
  }
  if (err instanceof QuaySearchUnavailableError) {
    return ' — Quay cannot list its logs (Splunk logs model without a search_token); configure one in Quay, or have Quay push to quaylogs\' HEC receiver instead. Not retried before the next scheduled poll.';
  }
  return '';
}

function isRetryable(err: unknown): boolean {
  if (err instanceof QuayError) return err.retryable;
  if (err instanceof QuayEntryError || err instanceof PagingError) return false;
  return true; // Redis or ClickHouse trouble: worth another attempt
}

/**
 * Polls every namespace of `source` in turn. A namespace that fails does not stop the
 * others; the failures are thrown together at the end as one PollError.
 */
export async function pollSource(ctx: PollContext, source: PollSource): Promise<PollResult> {
  const startedAt = ctx.now();
  const out: PollResult = { source: source.name, namespaces: [], entries: 0, stopped: false };
  const failures: { namespace: string; error: unknown }[] = [];
  for (const target of targetsOf(source)) {
    if (ctx.stopping()) {
      out.stopped = true;
      break;
    }
    try {
      const r = await pollTarget(ctx, source, target, startedAt);
      out.namespaces.push(r);
      out.entries += r.entries;
      if (r.stopped) {
        out.stopped = true;
        break;
      }
    } catch (error) {
      if (ctx.stopping() && ctx.signal?.aborted) {
        out.stopped = true;
        break;
      }
      const namespace = checkpointNamespace(target);
      failures.push({ namespace, error });
      const message = `${(error as Error).message ?? String(error)}${advice(source, namespace, error)}`;
      await recordPollError(ctx, source, namespace, message, ctx.now());
    }
  }
  if (failures.length > 0) {
    const lines = failures.map(
      (f) => `source "${source.name}"${f.namespace ? `, namespace "${f.namespace}"` : ' (superuser)'}: ${(f.error as Error).message ?? String(f.error)}${advice(source, f.namespace, f.error)}`,
    );
    throw new PollError(lines.join('\n'), failures, failures.some((f) => isRetryable(f.error)));
  }
  return out;
}

/** Records a failed poll on the checkpoint of `namespace` (for status pages); never throws. */
export async function recordPollError(ctx: PollContext, source: PollSource, namespace: string, message: string, at: Date): Promise<void> {
  try {
    const cp = await getPollCheckpoint(ctx.store, source.name, namespace);
    const today = startOfUtcDay(at);
    const fallbackStart = startOfUtcDay(source.start ?? addUtcDays(today, -ctx.defaultLookbackDays));
    await putPollCheckpoint(ctx.store, {
      source: source.name,
      namespace,
      nextDay: cp?.nextDay ?? dayText(fallbackStart > today ? today : fallbackStart),
      lastPollAt: cp?.lastPollAt ?? null,
      lastEntryAt: cp?.lastEntryAt ?? null,
      entriesRead: cp?.entriesRead ?? 0,
      lastError: message.slice(0, 2000),
      lastErrorAt: toChDateTime(at),
    });
  } catch (err) {
    ctx.log.warn({ source: source.name, err: (err as Error).message }, 'poller: could not record the poll error on the checkpoint');
  }
}
