/**
 * Browser-test harness: a real `quaylogs up` child process (@quaylogs/testing's startUp:
 * embedded ClickHouse, small demo data, this file's Redis database), Debian's Chromium
 * driven by playwright-core, console errors collected per page, and a screenshot per test
 * under test-results/console/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, testRedis } from '@quaylogs/testing';
import { startUp } from '@quaylogs/testing/up';
import type { Redis } from 'ioredis';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const ROOT = REPO_ROOT;
export const SHOTS = join(ROOT, 'test-results', 'console');
export const ADMIN_TOKEN = 'console-test-bootstrap-token-0123456789';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

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
  // `up` on this file's Redis database (the one testRedis() reaches), emptied first.
  const redis = testRedis('up');
  await redis.flushdb();
  const up = await startUp({
    args: ['--demo-rows', '20000', '--seed', '7'],
    env: { QUAYLOGS_BOOTSTRAP_TOKEN: ADMIN_TOKEN, QUAYLOGS_SSRF_ALLOWED_HOSTS: '127.0.0.1' },
  });

  const profile = mkdtempSync(join(tmpdir(), 'quaylogs-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(SHOTS, { recursive: true });
  const base = up.url;
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
      await up.stop('SIGTERM');
      await up.site.close();
      await redis.flushdb().catch(() => undefined);
      redis.disconnect();
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
