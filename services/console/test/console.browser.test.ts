/**
 * The console in real headless Chromium against a real `quaylogs up` with demo data
 * (issue 11 "Done when"): sign-in and refusal; overview numbers = /aggregatelogs; log
 * table rows = /logs pages; a one-org user sees only that org and no Pipeline page; a dead
 * letter replayed from the console is stored; an export requested in the console reaches a
 * loopback callback and downloads; a global message shows as a banner for another user
 * and goes when deleted; no console errors on any view. Each test saves a screenshot.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, type Harness, isoDay, mdy, signIn, startHarness } from './harness.ts';

const T = 120_000;
let h: Harness;
let alice = '';

beforeAll(async () => {
  h = await startHarness();
}, 180_000);
afterAll(async () => h?.close(), 60_000);
// No view may log a console error (a CSP violation, a React warning, a failed request).
afterEach(() => {
  const seen = h.errors.splice(0);
  expect(seen).toEqual([]);
});

describe('console', () => {
  it('refuses a bad token, then signs in with the bootstrap token and keeps it out of the URL', async () => {
    const page = await h.newPage();
    await signIn(page, h.base, 'not-a-real-token');
    await expect(page.getByTestId('signin-error').textContent()).resolves.toContain('not accepted');
    expect(await page.getByTestId('signed-in-as').count()).toBe(0);
    await h.shot(page, '01-sign-in-refused');
    // The browser reports the refused request itself (401) on its console; nothing else may appear.
    expect(h.errors.splice(0).every((e) => e.includes('401 (Unauthorized)') && e.includes('/api/v1/user/'))).toBe(true);
    await signIn(page, h.base, ADMIN_TOKEN);
    await page.getByTestId('signed-in-as').waitFor();
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('admin');
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    const res = await fetch(`${h.base}/`);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    await page.getByTestId('total').waitFor();
    await h.shot(page, '02-overview');
    await page.close();
  }, T);

  it('shows per-day totals on the overview equal to /aggregatelogs for the same range', async () => {
    const page = await h.newPage();
    await signIn(page, h.base, ADMIN_TOKEN);
    await page.getByTestId('total').waitFor();
    await page.getByText('90 d', { exact: true }).click();
    await page.getByText('Entries per day, by kind').waitFor();
    await page.getByRole('button', { name: 'Show data table' }).click();
    await page.getByTestId('chart-table').waitFor();
    const to = new Date();
    const from = new Date(Date.parse(`${isoDay(to)}T00:00:00Z`) - 89 * 86_400_000);
    // wait until the table shows the 90-day range
    await page.locator(`[data-testid="chart-table"] tr[data-day="${isoDay(from)}"]`).waitFor();
    const shown = await page.$$eval('[data-testid="chart-table"] tbody tr', (trs) =>
      trs.map((tr) => [tr.getAttribute('data-day')!, Number(tr.children[1]!.textContent!.replace(/,/g, ''))] as const),
    );
    const agg = await h.api(`GET`, `/api/v1/superuser/aggregatelogs?starttime=${mdy(isoDay(from))}&endtime=${mdy(isoDay(to))}`);
    const perDay = new Map<string, number>();
    for (const r of agg.body.aggregated) {
      const day = isoDay(new Date(Date.parse(r.datetime)));
      perDay.set(day, (perDay.get(day) ?? 0) + r.count);
    }
    expect(shown).toHaveLength(90);
    expect(Object.fromEntries(shown.filter(([, n]) => n > 0))).toEqual(Object.fromEntries(perDay));
    const total = [...perDay.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(1000);
    expect(Number((await page.getByTestId('total').textContent())!.replace(/,/g, ''))).toBe(total);
    // The source selector narrows every number to one registry.
    await page.getByTestId('source-select').click();
    await page.getByRole('option', { name: /^demo \(/ }).click();
    const demo = await h.api('GET', `/api/v1/superuser/aggregatelogs?starttime=${mdy(isoDay(from))}&endtime=${mdy(isoDay(to))}&source=demo`);
    const demoTotal = demo.body.aggregated.reduce((n: number, r: any) => n + r.count, 0);
    expect(demoTotal).toBeLessThan(total);
    await page.getByTestId('total').filter({ hasText: demoTotal.toLocaleString('en-US') }).waitFor();
    await h.shot(page, '03-overview-90d-table');
    await page.close();
  }, T);

  it('lists the same entries as /logs, page after page, and opens an entry’s metadata', async () => {
    const from = isoDay(new Date(Date.now() - 29 * 86_400_000));
    const to = isoDay(new Date());
    const top = await h.api('GET', `/api/v1/superuser/toplogs?by=namespace&starttime=${mdy(from)}&endtime=${mdy(to)}`);
    const ns: string = top.body.top[0].name;
    const page = await h.newPage();
    await signIn(page, h.base, ADMIN_TOKEN);
    await page.getByTestId('total').waitFor();
    await page.goto(`${h.base}/#/ns/${ns}`);
    await page.getByTestId('page-title').filter({ hasText: ns }).waitFor();
    await page.getByTestId('log-row').nth(19).waitFor();
    await page.getByTestId('load-more').click();
    await page.getByTestId('log-row').nth(39).waitFor();
    const rows = await page.$$eval('[data-testid="log-row"]', (trs) =>
      trs.slice(0, 40).map((tr) => [tr.getAttribute('data-datetime'), tr.getAttribute('data-kind'), tr.getAttribute('data-performer')]),
    );
    const q = `starttime=${mdy(from)}&endtime=${mdy(to)}`;
    // A namespace page reads Quay's organization route, whoever the reader is.
    const p1 = await h.api('GET', `/api/v1/organization/${ns}/logs?${q}`);
    const p2 = await h.api('GET', `/api/v1/organization/${ns}/logs?${q}&next_page=${encodeURIComponent(p1.body.next_page)}`);
    const expected = [...p1.body.logs, ...p2.body.logs].map((l: any) => [l.datetime, l.kind, l.performer?.name ?? '']);
    expect(rows).toEqual(expected.slice(0, 40));
    await page.getByTestId('log-row').first().click();
    await page.getByTestId('entry-json').waitFor();
    expect(JSON.parse((await page.getByTestId('entry-json').textContent())!)).toEqual(p1.body.logs[0]);
    await h.shot(page, '04-namespace-log-entry');
    await page.close();
  }, T);

  it('shows a user with one organization grant only that organization, and no Pipeline page', async () => {
    const top = await h.api('GET', `/api/v1/superuser/toplogs?by=namespace&starttime=${mdy(isoDay(new Date(Date.now() - 89 * 86_400_000)))}`);
    const [org, other] = top.body.top.map((r: any) => r.name as string);
    expect((await h.api('POST', '/api/v1/superuser/users', { username: 'alice', email: 'alice@example.com' })).status).toBe(201);
    expect((await h.api('PUT', '/api/v1/superuser/users/alice/grants', { organizations: [org] })).status).toBe(200);
    alice = (await h.api('POST', '/api/v1/superuser/users/alice/apptoken', { title: 'browser test' })).body.token.token_code;
    const page = await h.newPage();
    await signIn(page, h.base, alice);
    await page.getByTestId('signed-in-as').waitFor();
    const nav = await page.getByRole('navigation', { name: 'Main' }).innerText();
    expect(nav).toContain(org);
    expect(nav).not.toContain(other);
    expect(nav).not.toContain('Pipeline');
    expect(await page.getByTestId('home-namespace').allTextContents()).toEqual(['alice', org].sort());
    await page.getByRole('link', { name: org }).first().click();
    await page.getByTestId('total').waitFor();
    await h.shot(page, '05-one-org-user');
    await page.goto(`${h.base}/#/pipeline`);
    await page.getByText('This page is for superusers').waitFor();
    await page.goto(`${h.base}/#/ns/${other}`);
    await page.getByText('Could not load the aggregate counts').waitFor();
    h.errors.splice(0); // the 403s of that last page are the point, not an error of the console
    await page.close();
  }, T);

  it('replays a dead letter from the Pipeline page, and the loader then stores it', async () => {
    const row = {
      source: 'replay-test', namespace: 'replayed-org', repository: 'web', kind: 'pull_repo', performer: 'carol', ip: '10.0.0.9',
      datetime: new Date().toISOString().replace('T', ' ').replace('Z', ''), metadata: JSON.stringify({ namespace: 'replayed-org', repo: 'web', tag: 'v1' }),
      event_key: '123456789012345678901234567890', request_url: '', http_method: '', user_agent: '', request_id: '', auth_type: '', performer_kind: '', x_forwarded_for: '',
    };
    const payload = JSON.stringify({ v: 1, origin: 'api', source: 'replay-test', rows: [row] });
    await h.redis.xadd('quaylogs:ingest:deadletter', '*', 'original_id', '1-1', 'reason', 'ClickHouse refused the batch (test)', 'consumer', 'test', 'at', new Date().toISOString(), 'b', payload);
    const page = await h.newPage();
    await signIn(page, h.base, ADMIN_TOKEN);
    await page.getByTestId('total').waitFor();
    await page.goto(`${h.base}/#/pipeline`);
    await page.getByTestId('dead-letter').waitFor();
    expect(await page.getByTestId('dead-letter').innerText()).toContain('ClickHouse refused the batch (test)');
    await h.shot(page, '06-pipeline-dead-letter');
    await page.getByTestId('dead-letter').getByRole('button', { name: 'Replay' }).click();
    await page.getByTestId('replay-note').waitFor();
    await page.getByTestId('no-dead-letters').waitFor();
    let logs: any[] = [];
    for (let i = 0; i < 60 && logs.length === 0; i++) {
      logs = (await h.api('GET', '/api/v1/organization/replayed-org/logs')).body.logs ?? [];
      if (logs.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(logs.map((l) => [l.kind, l.performer?.name ?? l.metadata?.username ?? null])).toHaveLength(1);
    await h.shot(page, '07-pipeline-replayed');
    await page.close();
  }, T);

  it('requests an export that is delivered to a loopback callback and downloads', async () => {
    const received: any[] = [];
    const hook: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    const top = await h.api('GET', `/api/v1/superuser/toplogs?by=namespace&starttime=${mdy(isoDay(new Date(Date.now() - 6 * 86_400_000)))}`);
    const ns: string = top.body.top[0].name;
    const page = await h.newPage();
    await signIn(page, h.base, ADMIN_TOKEN);
    await page.getByTestId('total').waitFor();
    await page.goto(`${h.base}/#/exports`);
    await page.getByLabel('Namespace').fill(ns);
    await page.getByTestId('export-callback').fill(hookUrl);
    await page.getByRole('button', { name: 'Request export' }).click();
    await page.getByTestId('current-export').getByTestId('export-status').filter({ hasText: 'delivered' }).waitFor({ timeout: 60_000 });
    const href = await page.getByTestId('current-export-download').getAttribute('href');
    expect(received).toHaveLength(1);
    expect(JSON.stringify(received[0])).toContain(href!);
    const file = await fetch(href!);
    expect(file.status).toBe(200);
    const doc = JSON.parse(await file.text());
    expect(doc.logs.length).toBeGreaterThan(0);
    await h.shot(page, '08-export-delivered');
    hook.close();
    await page.close();
  }, T);

  it('shows a global message as a sanitised banner to another user, and removes it when deleted', async () => {
    expect(alice).not.toBe('');
    const admin = await h.newPage();
    await signIn(admin, h.base, ADMIN_TOKEN);
    await admin.getByTestId('total').waitFor();
    await admin.goto(`${h.base}/#/messages`);
    await admin.getByTestId('message-content').fill('Maintenance **tonight** at 22:00 UTC, [details](javascript:window.pwned=1) <script>window.pwned=2</script>');
    await admin.getByRole('button', { name: 'Post message' }).click();
    await admin.getByTestId('message-row').waitFor();
    const user = await h.newPage();
    await signIn(user, h.base, alice);
    const banner = user.getByTestId('global-message');
    await banner.waitFor();
    expect(await banner.locator('strong').textContent()).toBe('tonight');
    expect(await banner.locator('script, a[href^="javascript"]').count()).toBe(0);
    expect(await user.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    await h.shot(user, '09-banner');
    await admin.getByRole('button', { name: 'Delete' }).click();
    await admin.getByText('No messages.').waitFor();
    await user.reload();
    await user.getByTestId('signed-in-as').waitFor();
    await user.getByTestId('total').or(user.getByTestId('home-namespace').first()).waitFor();
    expect(await user.getByTestId('global-message').count()).toBe(0);
    await h.shot(user, '10-banner-gone');
    await admin.close();
    await user.close();
  }, T);

  it('opens every view without a console error', async () => {
    h.errors.splice(0);
    const top = await h.api('GET', `/api/v1/superuser/toplogs?by=repository&starttime=${mdy(isoDay(new Date(Date.now() - 29 * 86_400_000)))}`);
    const repo: string = top.body.top[0].name;
    const page = await h.newPage();
    await signIn(page, h.base, ADMIN_TOKEN);
    await page.getByTestId('total').waitFor();
    for (const [hash, ready] of [
      [`#/repo/${repo}`, 'Top performers'],
      [`#/ns/${repo.split('/')[0]}`, 'Top repositories'],
      ['#/pipeline', 'Dead letters'],
      ['#/exports', 'Request an export'],
      ['#/access', 'Users and grants'],
      ['#/messages', 'Global messages'],
      ['#/', 'Entries per day, by kind'],
    ] as const) {
      await page.goto(`${h.base}/${hash}`);
      await page.getByText(ready).first().waitFor();
      await page.waitForTimeout(500);
    }
    await h.shot(page, '11-access');
    expect(h.errors).toEqual([]);
    await page.close();
  }, T);
});
