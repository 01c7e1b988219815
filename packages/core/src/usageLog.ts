/**
 * One stored Quay usage-log entry, as the `usage_logs` table holds it and as
 * queries return it (ClickHouse JSONEachRow with 64-bit integers quoted).
 * Empty string means "none" for every optional text column: ClickHouse
 * columns are not Nullable, which keeps them cheap and sortable.
 */
export interface UsageLogRow {
  /** Which registry the entry came from (a configured source name, or `demo`). */
  source: string;
  /** Namespace (user or organization) name; '' when Quay had none. */
  namespace: string;
  /** Repository name without the namespace; '' when not linked to a repository. */
  repository: string;
  /** Quay log kind name, e.g. `push_repo`. Unknown kinds are stored as given. */
  kind: string;
  /** Performer username (`org+robot` for robots); '' for anonymous actions. */
  performer: string;
  /** Client IP; '' when unknown. */
  ip: string;
  /** UTC, millisecond precision, ClickHouse text form `YYYY-MM-DD HH:MM:SS.mmm`. */
  datetime: string;
  /** Metadata JSON object as text (`{}` when empty). */
  metadata: string;
  /** The entry's identity (UInt128 as a decimal string); see docs/architecture.md "Event identity". */
  event_key: string;
  /** Quay's extended-logging fields (FEATURE_EXTENDED_ACTION_LOGGING); '' when absent. */
  request_url: string;
  http_method: string;
  user_agent: string;
  request_id: string;
  auth_type: string;
  performer_kind: string;
  x_forwarded_for: string;
}

/** What quaylogs knows about an account (namespace or performer) for rendering avatars. */
export interface AccountInfo {
  name: string;
  /** `org` for organizations, `robot` for robot accounts, else `user`. */
  kind: 'user' | 'org' | 'robot';
  /** The account's e-mail; avatars hash it (Quay's rule). null ⇒ the name is hashed. */
  email: string | null;
}

/** A robot account's name is `namespace+shortname`; Quay forbids '+' in other names. */
export function isRobotName(name: string): boolean {
  return name.includes('+');
}

/** Quay's extended-logging fields, all absent (Quay's default: FEATURE_EXTENDED_ACTION_LOGGING off). */
export const NO_EXTENDED_FIELDS = {
  request_url: '',
  http_method: '',
  user_agent: '',
  request_id: '',
  auth_type: '',
  performer_kind: '',
  x_forwarded_for: '',
} as const satisfies Partial<UsageLogRow>;
