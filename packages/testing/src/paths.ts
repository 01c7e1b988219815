/** Where the repository is, for tests that spawn its scripts or read its files. */
import { resolve } from 'node:path';

/** The repository root (the directory holding the root package.json). */
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/** An absolute path inside the repository. */
export const repoPath = (...parts: string[]): string => resolve(REPO_ROOT, ...parts);

/** The `quaylogs` command's entry point, relative to REPO_ROOT (the cwd children run in). */
export const QUAYLOGS_BIN = 'services/cli/bin/quaylogs.js';
