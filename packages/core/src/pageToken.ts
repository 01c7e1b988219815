import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * Keyset cursor of a logs page: the LAST row of the page just served. The next page
 * continues strictly after it in (datetime DESC, event_key DESC) order, within `source`.
 */
export interface PageCursor {
  /** ClickHouse text form, `YYYY-MM-DD HH:MM:SS.mmm`. */
  datetime: string;
  /** The row's event_key (UInt128) as a decimal string. */
  eventKey: string;
  source: string;
  /**
   * The window (ISO-8601 instants) the walk started with. A default window moves with
   * "now", so a continued walk must keep the window of its first page.
   */
  window?: { start: string; end: string };
}

/** Quay's page tokens live 2 days; ours too. */
export const PAGE_TOKEN_TTL_SECONDS = 172_800;

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Generous bound: a real token is ~200 characters; anything far longer is not ours. */
const MAX_TOKEN_CHARS = 4096;
const KEY_CACHE_LIMIT = 16;
const HEADER = Buffer.from([VERSION]);

const payloadSchema = z.object({
  v: z.literal(VERSION),
  c: z.object({
    datetime: z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/),
    eventKey: z.string().regex(/^\d{1,39}$/),
    source: z.string(),
    window: z.object({ start: z.string().datetime(), end: z.string().datetime() }).optional(),
  }),
  s: z.string(),
  e: z.number().int(),
});

const keyCache = new Map<string, Buffer>();

/** AES-256 key for a secret: HKDF-SHA256 with a fixed salt and purpose, derived once per secret. */
function keyFor(secret: string): Buffer {
  let key = keyCache.get(secret);
  if (key === undefined) {
    if (secret.length === 0) throw new Error('page token secret must not be empty');
    key = Buffer.from(hkdfSync('sha256', secret, 'quaylogs', 'quaylogs page token v1', 32));
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(secret, key);
  }
  return key;
}

/** A token is bound to the query that produced it through a short hash of its scope string. */
function scopeTag(scope: string): string {
  return createHash('sha256').update(scope, 'utf8').digest('base64url').slice(0, 22);
}

/**
 * Seals `cursor` into an opaque `next_page` token: AES-256-GCM over
 * `{v, c: cursor, s: scope hash, e: expiry (epoch s)}`, url-safe base64 without padding,
 * laid out as version byte ‖ 12-byte IV ‖ ciphertext ‖ 16-byte tag (the version byte is
 * authenticated too). `scope` must describe the whole query (route, namespace, repository,
 * filters, window) so a token cannot be replayed against another one.
 */
export function encodePageToken(
  cursor: PageCursor,
  scope: string,
  secret: string,
  now: Date = new Date(),
  ttlSeconds = PAGE_TOKEN_TTL_SECONDS,
): string {
  const payload = {
    v: VERSION,
    c: {
      datetime: cursor.datetime,
      eventKey: cursor.eventKey,
      source: cursor.source,
      ...(cursor.window ? { window: { start: cursor.window.start, end: cursor.window.end } } : {}),
    },
    s: scopeTag(scope),
    e: Math.floor(now.getTime() / 1000) + ttlSeconds,
  };
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(secret), iv);
  cipher.setAAD(HEADER);
  const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  return Buffer.concat([HEADER, iv, body, cipher.getAuthTag()]).toString('base64url');
}

/**
 * Opens a `next_page` token. Returns null — never throws — for an absent or empty token,
 * malformed input, a token sealed with another secret or altered in any byte, a token
 * issued for another query (scope), or one past its expiry. Like Quay, callers treat
 * null as "no token" and serve the first page.
 */
export function decodePageToken(
  token: string | undefined | null,
  scope: string,
  secret: string,
  now: Date = new Date(),
): PageCursor | null {
  if (!token || token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  try {
    const raw = Buffer.from(token, 'base64url');
    if (raw.length <= 1 + IV_BYTES + TAG_BYTES || raw[0] !== VERSION) return null;
    const iv = raw.subarray(1, 1 + IV_BYTES);
    const body = raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', keyFor(secret), iv, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(raw.subarray(0, 1));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    const parsed = payloadSchema.safeParse(JSON.parse(plain));
    if (!parsed.success) return null;
    const { c, s, e } = parsed.data;
    if (s !== scopeTag(scope)) return null;
    if (Math.floor(now.getTime() / 1000) >= e) return null;
    return {
      datetime: c.datetime,
      eventKey: c.eventKey,
      source: c.source,
      ...(c.window ? { window: { start: c.window.start, end: c.window.end } } : {}),
    };
  } catch {
    return null;
  }
}
