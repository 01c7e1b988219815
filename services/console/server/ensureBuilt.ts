/**
 * `quaylogs up` builds the console when its bundle is missing or older than its sources
 * (after a `git pull`, say), in a child process so the server's memory stays its own.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BUILD_SCRIPT = fileURLToPath(new URL('../build.mjs', import.meta.url));

export function ensureConsoleBuilt(): void {
  execFileSync(process.execPath, [BUILD_SCRIPT, '--if-stale'], { stdio: ['ignore', 'inherit', 'inherit'] });
}
