/**
 * App token codes as Quay makes them (120 characters of [A-Z0-9]), their hash
 * (the only thing authentication uses) and their sealed copy (AES-256-GCM, kept
 * only so GET /api/v1/user/apptoken/{uuid} can show the code as Quay does).
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function generateTokenCode(): string {
  let out = '';
  for (let i = 0; i < 120; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const keys = new Map<string, Buffer>();
function sealKey(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', secret, 'quaylogs', 'app-token-seal/v1', 32));
    keys.set(secret, key);
  }
  return key;
}

export function sealTokenCode(code: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(secret), iv);
  const body = Buffer.concat([cipher.update(code, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The token code, or null when the sealed value cannot be opened (e.g. QUAYLOGS_SECRET changed). */
export function unsealTokenCode(sealed: string, secret: string): string | null {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', sealKey(secret), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
