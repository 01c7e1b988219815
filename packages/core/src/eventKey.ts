import { createHash, randomFillSync } from 'node:crypto';
import { parseChDateTime, toChDateTime } from './dates.ts';
import type { UsageLogRow } from './usageLog.ts';

/**
 * Event identity (docs/architecture.md "Event identity"). Quay's entries carry no id:
 * - events that are distinct by construction (HEC receiver) get `randomEventKey()`;
 * - entries read back from Quay (poller, importers) get a content key: a hash of the
 *   entry's canonical content plus its ordinal among identical entries of the same second,
 *   so two real identical pulls in one second stay two and re-reading a window adds nothing.
 * Keys are UInt128 values written as decimal strings.
 */

type IdentityRow = Omit<UsageLogRow, 'event_key'>;

/** The 16 bytes at `offset`, big-endian, as a decimal string. */
function uint128(bytes: Buffer, offset = 0): string {
  return ((bytes.readBigUInt64BE(offset) << 64n) | bytes.readBigUInt64BE(offset + 8)).toString(10);
}

/** A random 128-bit unsigned integer, as a decimal string. */
export function randomEventKey(): string {
  // One call into the CSPRNG per 4,096 keys: at HEC rates a 16-byte randomBytes() per
  // event was a tenth of the receiver's CPU.
  if (poolOffset >= keyPool.length) {
    randomFillSync(keyPool);
    poolOffset = 0;
  }
  const key = uint128(keyPool, poolOffset);
  poolOffset += 16;
  return key;
}

const keyPool = Buffer.allocUnsafe(16 * 4096);
let poolOffset = keyPool.length;

/**
 * Deterministic JSON: object keys sorted (by UTF-16 code units) at every depth, arrays in
 * order, `undefined` members dropped, `toJSON` honoured, bigints as bare integers.
 */
export function canonicalJson(value: unknown): string {
  if (value !== null && typeof value === 'object' && 'toJSON' in value) {
    const toJSON = (value as { toJSON: unknown }).toJSON;
    if (typeof toJSON === 'function') return canonicalJson(toJSON.call(value));
  }
  if (typeof value === 'bigint') return value.toString(10);
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const members: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const member: unknown = (value as Record<string, unknown>)[key];
      if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
      members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
    }
    return `{${members.join(',')}}`;
  }
  // Strings, finite numbers, booleans and null as JSON.stringify writes them; NaN/Infinity ⇒ null.
  return JSON.stringify(value) ?? 'null';
}

/** Metadata as an identity value: '' ⇒ {}, JSON ⇒ the parsed value, anything else ⇒ the raw text. */
function metadataIdentity(text: string): { json: unknown } | { raw: string } {
  if (text === '') return { json: {} };
  try {
    return { json: JSON.parse(text) as unknown };
  } catch {
    return { raw: text };
  }
}

const CH_SECOND = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/;

/**
 * The content that identifies an entry, serialised unambiguously. Left out on purpose:
 * extended-logging fields (request id, user agent, …), and the repository column — it is
 * derived differently by each path (Quay's repository_id in its database, the metadata's
 * `repo` in API-shaped entries), while the metadata that names the repository is the same
 * on every path. Throws for an invalid datetime.
 */
function canonicalContent(row: IdentityRow): string {
  const second = CH_SECOND.test(row.datetime)
    ? row.datetime.slice(0, 19)
    : toChDateTime(parseChDateTime(row.datetime)).slice(0, 19);
  return canonicalJson([
    'quaylogs-event-v1',
    row.source,
    row.namespace,
    row.kind,
    row.performer,
    row.ip,
    second,
    metadataIdentity(row.metadata),
  ]);
}

function keyOf(content: string, ordinal: number): string {
  return uint128(createHash('sha256').update(`${content}\n${ordinal}`, 'utf8').digest());
}

/**
 * Content key of an entry: sha256 over (source, namespace, kind, performer, ip,
 * datetime truncated to the second, canonical metadata) and `ordinal`; the first 16 bytes
 * as an unsigned 128-bit decimal string.
 */
export function contentKey(row: IdentityRow, ordinal: number): string {
  if (!Number.isSafeInteger(ordinal) || ordinal < 0) {
    throw new RangeError(`ordinal must be a non-negative integer, got ${ordinal}`);
  }
  return keyOf(canonicalContent(row), ordinal);
}

/**
 * Gives every row its content key. A row's ordinal is its index among the rows of this list
 * with identical canonical content (same second included), in list order: two identical
 * entries get ordinals 0 and 1, and the same list always yields the same keys.
 * Callers must hand over every entry of each second they touch (read windows cut at whole
 * seconds); otherwise a split second restarts its ordinals and can collide or shift.
 */
export function assignContentKeys<T extends IdentityRow>(rows: T[]): (T & { event_key: string })[] {
  const seen = new Map<string, number>();
  return rows.map((row) => {
    const content = canonicalContent(row);
    const ordinal = seen.get(content) ?? 0;
    seen.set(content, ordinal + 1);
    return { ...row, event_key: keyOf(content, ordinal) };
  });
}
