/**
 * QUAYLOGS_SECRET, or one generated on first start and kept in the data
 * directory (mode 0600), so next_page tokens and sealed token codes survive restarts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function loadOrCreateSecret(dataDir: string, configured: string | undefined): string {
  if (configured) return configured;
  const file = join(dataDir, 'secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

/** The admin token of a demo start without QUAYLOGS_BOOTSTRAP_TOKEN, kept at data/admin-token (mode 0600). */
export function loadOrCreateAdminToken(dataDir: string): { token: string; file: string; created: boolean } {
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), file, created: false };
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(30).toString('hex').toUpperCase();
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return { token, file, created: true };
}
