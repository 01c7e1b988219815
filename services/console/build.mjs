#!/usr/bin/env node
/**
 * Builds the console into dist/ with Vite. `--if-stale` builds only when the sources
 * changed since the last build (a hash of them is kept in dist/.source-hash), so
 * `npm ci` (postinstall) and `quaylogs up` can both call it cheaply.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const DIST = join(ROOT, 'dist');
const HASH_FILE = join(DIST, '.source-hash');
const INPUTS = ['src', 'index.html', 'vite.config.mjs', 'package.json', 'public'];

function* files(path) {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) yield* files(join(path, name));
  } else {
    yield path;
  }
}

export function sourceHash() {
  const h = createHash('sha256');
  for (const input of INPUTS) {
    for (const f of files(join(ROOT, input))) {
      h.update(relative(ROOT, f));
      h.update('\0');
      h.update(readFileSync(f));
      h.update('\0');
    }
  }
  return h.digest('hex');
}

export function isStale() {
  if (!existsSync(join(DIST, 'index.html')) || !existsSync(HASH_FILE)) return true;
  return readFileSync(HASH_FILE, 'utf8').trim() !== sourceHash();
}

async function main() {
  const ifStale = process.argv.includes('--if-stale');
  if (ifStale && !isStale()) return;
  const hash = sourceHash();
  const { build } = await import('vite');
  await build({ root: ROOT, configFile: join(ROOT, 'vite.config.mjs'), logLevel: 'warn' });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(HASH_FILE, `${hash}\n`);
  console.log(`console built into ${relative(process.cwd(), DIST) || DIST}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(`console build failed: ${err?.message ?? err}`);
    process.exit(1);
  });
}
