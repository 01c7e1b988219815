/**
 * `data/server.json`: where the running `quaylogs up` (or `api`) answers. `up` writes it once
 * it listens and removes it on an orderly shutdown; one-shot commands (`sql`, `status`,
 * `import`, `demo`, `purge`) read it to reach the server that holds the embedded store, so
 * `QUAYLOGS_PORT=18090 npm start` followed by `quaylogs sql …` needs no second export.
 * A file left by a killed server names a dead pid and is ignored.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServerFile {
  url: string;
  pid: number;
  started_at: string;
  roles: string[];
}

export function serverFilePath(dataDir: string): string {
  return join(dataDir, 'server.json');
}

export function writeServerFile(dataDir: string, info: Omit<ServerFile, 'pid' | 'started_at'>): string {
  const file = serverFilePath(dataDir);
  const body: ServerFile = { ...info, pid: process.pid, started_at: new Date().toISOString() };
  writeFileSync(file, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
  return file;
}

/** Removes the file only if this process wrote it (a second server may have replaced it). */
export function removeServerFile(dataDir: string): void {
  const current = readServerFile(dataDir);
  if (current?.pid === process.pid) rmSync(serverFilePath(dataDir), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running server of this data directory, or null (no file, unreadable, or its process is gone). */
export function readServerFile(dataDir: string): ServerFile | null {
  const file = serverFilePath(dataDir);
  if (!existsSync(file)) return null;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ServerFile>;
    if (typeof parsed.url !== 'string' || typeof parsed.pid !== 'number') return null;
    if (!alive(parsed.pid)) return null;
    return { url: parsed.url, pid: parsed.pid, started_at: String(parsed.started_at ?? ''), roles: parsed.roles ?? [] };
  } catch {
    return null;
  }
}
