/**
 * Browser-test harness: a real `quaylogs up` child process (embedded ClickHouse, small demo
 * data, its own Redis database), Debian's Chromium driven by playwright-core, console
 * errors collected per page, and a screenshot per test under test-results/console/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { freePort } from '../../../test/support/processes.ts';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const SHOTS = join(ROOT, 'test-results', 'console');
export const ADMIN_TOKEN = 'console-test-bootstrap-token-0123456789';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const REDIS_BASE = process.env.QUAYLOGS_TEST_REDIS ?? 'redis://127.0.0.1:6379';

export interface Harness {
  base: string;
  redis: Redis;
  browser: BrowserContext;
  /** Console errors and uncaught page errors seen by every page opened so far. */
  errors: string[];
  newPage(): Promise<Page>;
  api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  shot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'quaylogs-console-'));
  const port = await freePort();
  // Database 12: no other test file uses it, so the suites can run side by side.
  const redisUrl = `${REDIS_BASE}/12`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  await redis.flushdb();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(QUAYLOGS_|CLICKHOUSE_|REDIS_)/.test(k)) env[k] = v;
  Object.assign(env, {
    QUAYLOGS_DATA_DIR: dataDir,
    QUAYLOGS_PORT: String(port),
    QUAYLOGS_BOOTSTRAP_TOKEN: ADMIN_TOKEN,
    QUAYLOGS_LOG_LEVEL: 'warn',
    QUAYLOGS_SSRF_ALLOWED_HOSTS: '127.0.0.1',
    REDIS_URL: redisUrl,
  });
  const child: ChildProcess = spawn(process.execPath, ['services/cli/bin/quaylogs.js', 'up', '--demo-rows', '20000', '--seed', '7'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`quaylogs up did not start:\n${output}`)), 170_000);
    child.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
      if (output.includes('quaylogs is serving')) {
        clearTimeout(timer);
        res();
      }
    });
    child.on('exit', (code) => rej(new Error(`quaylogs up exited (${code}):\n${output}`)));
  });

  const profile = mkdtempSync(join(tmpdir(), 'quaylogs-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(SHOTS, { recursive: true });
  const base = `http://127.0.0.1:${port}`;
  const errors: string[] = [];

  return {
    base,
    redis,
    browser,
    errors,
    async newPage() {
      const page = await browser.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url}) @ ${page.url()}`);
      });
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.message} @ ${page.url()}`));
      return page;
    },
    async api(method, path, body, token = ADMIN_TOKEN) {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async shot(page, name) {
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    },
    async close() {
      await browser.close().catch(() => undefined);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await redis.flushdb().catch(() => undefined);
      redis.disconnect();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in on the sign-in page with `token`. */
export async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** `YYYY-MM-DD` → `MM/DD/YYYY`. */
export const mdy = (day: string) => `${day.slice(5, 7)}/${day.slice(8, 10)}/${day.slice(0, 4)}`;
export const isoDay = (d: Date) => d.toISOString().slice(0, 10);
