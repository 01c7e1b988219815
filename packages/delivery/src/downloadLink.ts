/**
 * Export file ids and their signed, expiring download links:
 * `<base>/exportedlogs/<file id>?expires=<unix s>&signature=<base64url HMAC-SHA256>`.
 *
 * The file id is `<export_id>-<16 hex>` (Quay's `<export_id>-<file key>` form). The key
 * is derived from the export id and the server secret, so a retried generation writes
 * the very same file (one file per export) while the id stays unguessable.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface LinkKeys {
  /** Derives file ids. */
  fileKey: Buffer;
  /** Signs links. */
  linkKey: Buffer;
}

/** Keys for file ids and links, derived from QUAYLOGS_SECRET (the API and exporter share it). */
export function deriveLinkKeys(secret: string): LinkKeys {
  const derive = (label: string) => createHmac('sha256', secret).update(label).digest();
  return { fileKey: derive('quaylogs/export-file-id/v1'), linkKey: derive('quaylogs/export-link/v1') };
}

export function exportFileId(exportId: string, keys: LinkKeys): string {
  const tag = createHmac('sha256', keys.fileKey).update(exportId).digest('hex').slice(0, 16);
  return `${exportId}-${tag}`;
}

function signature(fileId: string, expires: number, keys: LinkKeys): string {
  return createHmac('sha256', keys.linkKey).update(`${fileId}\n${expires}`).digest('base64url');
}

/** The absolute download URL valid until `expiresAt` (whole seconds). */
export function signDownloadUrl(baseUrl: string, fileId: string, expiresAt: Date, keys: LinkKeys): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}/exportedlogs/${encodeURIComponent(fileId)}?expires=${expires}&signature=${signature(fileId, expires, keys)}`;
}

export type LinkCheck = 'valid' | 'expired' | 'invalid';

/** Checks a link's query: a wrong or missing signature is `invalid`, a correct but old one `expired`. */
export function checkDownloadLink(
  fileId: string,
  query: { expires?: string; signature?: string },
  keys: LinkKeys,
  now: Date = new Date(),
): LinkCheck {
  if (!query.expires || !/^\d{1,12}$/.test(query.expires) || !query.signature) return 'invalid';
  const expires = Number(query.expires);
  const expected = Buffer.from(signature(fileId, expires, keys));
  const given = Buffer.from(query.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return now.getTime() >= expires * 1000 ? 'expired' : 'valid';
}
