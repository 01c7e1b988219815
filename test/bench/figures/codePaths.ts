/**
 * Whether the code a figure measures exists yet. A figure whose code path is
 * missing reports "not measured (reason)"; it never falls back to something else.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export function missing(paths: readonly string[]): string[] {
  return paths.filter((p) => !existsSync(resolve(REPO_ROOT, p)));
}

/** null when every path exists, else "<paths> does not exist yet". */
export function requirePaths(paths: readonly string[]): string | null {
  const gone = missing(paths);
  if (gone.length === 0) return null;
  return `${gone.join(', ')} ${gone.length === 1 ? 'does' : 'do'} not exist yet`;
}

/** Imports a module by repo-relative path; null with the reason when it fails. */
export async function tryImport<T>(path: string): Promise<{ mod: T; reason: null } | { mod: null; reason: string }> {
  try {
    return { mod: (await import(resolve(REPO_ROOT, path))) as T, reason: null };
  } catch (err) {
    return { mod: null, reason: `${path} does not load: ${(err as Error).message.split('\n')[0]}` };
  }
}
