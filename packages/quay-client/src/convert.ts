/**
 * Quay's log entry JSON (docs/compatibility.md) as a `UsageLogRow` without its event_key.
 *
 * What the wire form carries and where it goes:
 * - `datetime` (RFC-2822, whole seconds) ⇒ `YYYY-MM-DD HH:MM:SS.000`: Quay drops the
 *   fraction, so every polled entry sits on its second (event identity works per second).
 * - `performer.name` ⇒ performer ('' when absent: anonymous or deleted performer);
 *   robots keep Quay's `ns+name`.
 * - namespace: the one the listing was asked for; on superuser logs the entry's
 *   `namespace.name` (else metadata `namespace`, else '').
 * - repository: the listing has no repository field; Quay's repository entries carry it in
 *   metadata `repo` (registry and API entries alike), so that is used ('' otherwise).
 * - `ip` null ⇒ ''; `metadata` ⇒ JSON text in Quay's key order (`{}` when null).
 * - Extended-logging fields (request_url, …) are not in the API's answer ⇒ ''.
 */
import { toChDateTime, type AccountInfo, type UsageLogRow, NO_EXTENDED_FIELDS } from '@quaylogs/core';
import type { QuayLogEntryWire } from './logsPage.ts';
import { parseRfc2822 } from './rfc2822.ts';

export type PolledRow = Omit<UsageLogRow, 'event_key'>;

export class QuayEntryError extends Error {
  override name = 'QuayEntryError';
}

export interface ConvertContext {
  /** The configured source (registry) name. */
  source: string;
  /** The namespace the listing was asked for; undefined for superuser (and user) listings. */
  namespace?: string | undefined;
}

function metadataString(metadata: Record<string, unknown>, key: string): string {
  const v = metadata[key];
  return typeof v === 'string' ? v : '';
}

/** Converts one entry. Throws QuayEntryError when its datetime is not a Quay date. */
export function quayEntryToRow(entry: QuayLogEntryWire, ctx: ConvertContext): PolledRow {
  const at = parseRfc2822(entry.datetime);
  if (at === null) throw new QuayEntryError(`log entry datetime is not an RFC-2822 date: ${JSON.stringify(entry.datetime)}`);
  const metadata = entry.metadata ?? {};
  const namespace = ctx.namespace ?? entry.namespace?.name ?? metadataString(metadata, 'namespace');
  return {
    source: ctx.source,
    namespace,
    repository: metadataString(metadata, 'repo'),
    kind: entry.kind,
    performer: entry.performer?.name ?? '',
    ip: entry.ip ?? '',
    datetime: toChDateTime(at),
    metadata: JSON.stringify(metadata),
    ...NO_EXTENDED_FIELDS,
  };
}

/**
 * The accounts an entry reveals: the performer (robot or user, from `is_robot`/avatar kind)
 * and, on superuser logs, the namespace (org or user). Quay sends avatar hashes, never
 * e-mails, so `email` is null: a consumer must not let it replace a known e-mail.
 */
export function accountsFromEntry(entry: QuayLogEntryWire): AccountInfo[] {
  const out: AccountInfo[] = [];
  const p = entry.performer;
  if (p && p.name !== '') {
    const robot = p.is_robot === true || p.avatar?.kind === 'robot' || p.name.includes('+');
    out.push({ name: p.name, kind: robot ? 'robot' : 'user', email: null });
  }
  const ns = entry.namespace;
  if (ns && ns.name !== '') {
    const kind = ns.kind === 'org' ? 'org' : ns.avatar?.kind === 'robot' ? 'robot' : 'user';
    out.push({ name: ns.name, kind, email: null });
  }
  return out;
}
