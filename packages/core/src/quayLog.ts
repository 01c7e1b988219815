import { avatarFor, type Avatar } from './avatar.ts';
import { formatRfc2822, parseChDateTime, startOfUtcDay } from './dates.ts';
import { isRobotName, type AccountInfo, type UsageLogRow } from './usageLog.ts';

/** `performer` of a Quay log entry. `kind` is always "user", robots included. */
export interface QuayPerformer {
  kind: 'user';
  name: string;
  is_robot: boolean;
  avatar: Avatar;
}

/** `namespace` of a Quay log entry (superuser logs only). */
export interface QuayNamespace {
  kind: 'user' | 'org';
  name: string;
  avatar: Avatar;
}

/** One entry of Quay's `/logs` answer; key order is Quay's. */
export interface QuayLogEntry {
  kind: string;
  metadata: Record<string, unknown>;
  ip: string | null;
  datetime: string;
  performer?: QuayPerformer;
  namespace?: QuayNamespace;
}

/** One entry of Quay's `/aggregatelogs` answer; `extra` holds our additive group-by keys. */
export interface QuayAggregateEntry {
  kind: string;
  count: number;
  datetime: string;
  [extra: string]: string | number;
}

function parseMetadata(text: string): Record<string, unknown> {
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    // Quay's rows always hold an object; anything else is not worth surfacing as metadata.
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function renderPerformer(
  name: string,
  accounts: ReadonlyMap<string, AccountInfo>,
  hashKind: 'local' | 'gravatar',
): QuayPerformer {
  const account = accounts.get(name);
  const robot = isRobotName(name) || account?.kind === 'robot';
  return {
    kind: 'user',
    name,
    is_robot: robot,
    avatar: avatarFor(name, account?.email ?? null, robot ? 'robot' : 'user', hashKind),
  };
}

function renderNamespace(
  name: string,
  accounts: ReadonlyMap<string, AccountInfo>,
  hashKind: 'local' | 'gravatar',
): QuayNamespace | undefined {
  const account = accounts.get(name);
  // Quay renders the namespace only from the account row it joined; no account, no key.
  if (account === undefined) return undefined;
  if (account.kind === 'org') {
    return { kind: 'org', name, avatar: avatarFor(name, account.email, 'org', hashKind) };
  }
  const avatarKind = account.kind === 'robot' || isRobotName(name) ? 'robot' : 'user';
  return { kind: 'user', name, avatar: avatarFor(name, account.email, avatarKind, hashKind) };
}

/**
 * A stored row as Quay's JSON log entry.
 * - `kind`: the stored name. Quay maps an unknown numeric kind id to "unknown"; we store
 *   names, so a kind we do not know is one Quay sent us, and we keep the name it sent.
 * - `metadata`: the parsed object; empty or invalid text ⇒ `{}`.
 * - `ip`: '' ⇒ null. `datetime`: RFC-2822 (seconds).
 * - `performer`: only when the row has one; `is_robot` and avatar kind robot for robots;
 *   the avatar hashes the account's e-mail from `accounts`, or the name when unknown.
 * - `namespace`: only when `includeNamespace` (Quay: superuser logs) and the namespace
 *   account is known in `accounts`; orgs ⇒ kind "org", users and robots ⇒ kind "user".
 */
export function renderLogEntry(
  row: Pick<UsageLogRow, 'kind' | 'metadata' | 'ip' | 'datetime' | 'performer' | 'namespace'>,
  accounts: ReadonlyMap<string, AccountInfo>,
  includeNamespace: boolean,
  hashKind: 'local' | 'gravatar' = 'local',
): QuayLogEntry {
  const entry: QuayLogEntry = {
    kind: row.kind,
    metadata: parseMetadata(row.metadata),
    ip: row.ip === '' ? null : row.ip,
    datetime: formatRfc2822(parseChDateTime(row.datetime)),
  };
  if (row.performer !== '') entry.performer = renderPerformer(row.performer, accounts, hashKind);
  if (includeNamespace && row.namespace !== '') {
    const namespace = renderNamespace(row.namespace, accounts, hashKind);
    if (namespace !== undefined) entry.namespace = namespace;
  }
  return entry;
}

const AGGREGATE_KEYS = new Set(['kind', 'count', 'datetime']);

/**
 * One `/aggregatelogs` entry: `{kind, count, datetime}` with datetime = the UTC day's
 * midnight in RFC-2822, then any `extra` keys (never overriding Quay's three).
 */
export function renderAggregate(
  kind: string,
  count: number,
  day: Date,
  extra?: Record<string, string>,
): QuayAggregateEntry {
  const entry: QuayAggregateEntry = { kind, count, datetime: formatRfc2822(startOfUtcDay(day)) };
  if (extra) {
    for (const [key, value] of Object.entries(extra)) {
      if (!AGGREGATE_KEYS.has(key)) entry[key] = value;
    }
  }
  return entry;
}
