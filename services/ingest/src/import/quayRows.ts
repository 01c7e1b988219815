/**
 * One Quay log row, as the database (`logentry3`, `logentry2`, `logentry`) and the
 * log-rotation archives hold it — numeric ids — turned into a quaylogs row.
 * Rules (quay/quay data/logs_model/datatypes.py, data/database.py):
 * - kind: the `logentrykind` name; an id Quay does not know ⇒ "unknown", as Quay renders it;
 * - namespace: the account's username ('' when the account no longer exists);
 * - performer: the performer's username, '' when none or deleted (Quay then omits it);
 * - repository: the repository's name; for a repository that no longer exists, the
 *   `repo` its metadata names (Quay writes it into every repository action), else '';
 * - metadata: the stored JSON text as it is (Quay already wrote datetimes as epoch ints);
 * - datetime: Quay's naive UTC timestamp, truncated to milliseconds.
 */
import type { AccountInfo } from '@quaylogs/core';
import { NO_EXTENDED_FIELDS } from '@quaylogs/core';
import { isoLikeToCh } from './datetimes.ts';
import type { UnkeyedRow } from './eventKeys.ts';
import { accountOf, type QuayNames } from './quayDb.ts';

export interface QuayLogRecord {
  kind_id: number;
  /** Never null in Quay's tables; archives written from Elasticsearch documents may lack it. */
  account_id: number | null;
  performer_id: number | null;
  repository_id: number | null;
  /** PostgreSQL timestamp text, or Python `str(datetime)` in archives. */
  datetime: string;
  ip: string | null;
  /** The metadata JSON text. */
  metadata: string;
}

export const EMPTY_EXTENDED = {
  ...NO_EXTENDED_FIELDS,
} as const;

function repoFromMetadata(metadata: string): string {
  try {
    const m: unknown = JSON.parse(metadata);
    if (m !== null && typeof m === 'object' && typeof (m as { repo?: unknown }).repo === 'string') {
      return (m as { repo: string }).repo;
    }
  } catch {
    // not JSON: no name to recover
  }
  return '';
}

/**
 * The row for a record, or a string saying why it cannot be stored. Accounts the row
 * names are added to `accounts` (keyed by name).
 */
export function rowFromRecord(
  rec: QuayLogRecord,
  names: QuayNames,
  source: string,
  accounts?: Map<string, AccountInfo>,
): UnkeyedRow | string {
  const datetime = isoLikeToCh(rec.datetime);
  if (datetime === null) return `datetime ${JSON.stringify(rec.datetime)} is not a date-time the store can hold (1900–2299, UTC)`;
  const account = names.user(rec.account_id);
  const performer = names.user(rec.performer_id);
  let repository = '';
  if (rec.repository_id !== null) repository = names.repository(rec.repository_id) ?? repoFromMetadata(rec.metadata);
  if (accounts) {
    if (account) accounts.set(account.username, accountOf(account));
    if (performer) accounts.set(performer.username, accountOf(performer));
  }
  return {
    source,
    namespace: account?.username ?? '',
    repository,
    kind: names.kind(rec.kind_id),
    performer: performer?.username ?? '',
    ip: rec.ip ?? '',
    datetime,
    metadata: rec.metadata === '' ? '{}' : rec.metadata,
    ...EMPTY_EXTENDED,
  };
}
