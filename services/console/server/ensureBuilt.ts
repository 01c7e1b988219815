/**
 * `quaylogs up` builds the console when its bundle is missing or older than its sources
 * (after a `git pull`, say). The check runs in-process (a hash of the sources, a few
 * milliseconds); only a real build runs in a child process, so the server's memory stays
 * its own.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isStale } from '../build.mjs';

const BUILD_SCRIPT = fileURLToPath(new URL('../build.mjs', import.meta.url));

export function ensureConsoleBuilt(): void {
  if (!isStale()) return;
  execFileSync(process.execPath, [BUILD_SCRIPT], { stdio: ['ignore', 'inherit', 'inherit'] });
}
