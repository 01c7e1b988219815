/**
 * Delivery behaviour through the real API, workers, HTTP receivers and SMTP server:
 * retries per channel without regenerating, timeouts, redirects, the SSRF guard at
 * request time and at delivery, and Quay's permissions, validation and audit entries.
 * The name `hooks.test` is the allow-listed callback host; the guard's resolver maps
 * it to 127.0.0.1 (so 127.0.0.1 itself stays refused).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { insertUsageLogs } from '@quaylogs/clickhouse';
import { deriveLinkKeys, type Resolver, signDownloadUrl } from '@quaylogs/delivery';
import { call, logRow, userWithToken } from '@quaylogs/testing';
import { always, type MailSink, type Receiver, sequence, startReceiver, startSmtp } from '@quaylogs/testing/deliveryServers';
import { download, waitForExport } from './support/exportChecks.ts';
import { CALLBACK_SECRET, eventually, SECRET, type Stack, startStack } from './support/stack.ts';

vi.setConfig({ testTimeout: 60_000 });

const lookups = new Map<string, number>();
const resolver: Resolver = async (host) => {
  const n = (lookups.get(host) ?? 0) + 1;
  lookups.set(host, n);
  const answers: Record<string, string> = {
    'hooks.test': '127.0.0.1',
    'private.test': '10.1.2.3',
    // public when the export is requested, private when it is delivered
    'rebind.test': n === 1 ? '93.184.216.34' : '10.0.0.7',
  };
  const address = answers[host];
  if (!address) throw new Error(`ENOTFOUND ${host}`);
  return [{ address, family: 4 }];
};

let s: Stack;
let smtp: MailSink;
const receivers: Receiver[] = [];
const WINDOW = 'starttime=06/01/2024&endtime=06/30/2024';

async function receiver(answer: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
}
const hookUrl = (r: Receiver, path = '/cb') => `http://hooks.test:${r.port}${path}`;

beforeAll(async () => {
  smtp = await startSmtp();
  s = await startStack({
    env: { QUAYLOGS_SSRF_ALLOWED_HOSTS: 'hooks.test', QUAYLOGS_SMTP_URL: smtp.url },
    tuning: { deliveryAttempts: 4, callbackTimeouts: { connectMs: 1_000, headersMs: 1_000, bodyMs: 1_000, totalMs: 5_000 } },
    resolve: resolver,
  });
});
afterAll(async () => {
  await s?.close();
  await smtp?.close();
  for (const r of receivers) await r.close();
});
beforeEach(async () => {
  await s.reset();
  lookups.clear();
  await insertUsageLogs(s.store, [
    logRow({ namespace: 'acme', repository: 'web', kind: 'push_repo', performer: 'alice', datetime: '2024-06-10 10:00:00.000' }),
    logRow({ namespace: 'acme', repository: 'web', kind: 'pull_repo', performer: 'bob', datetime: '2024-06-11 10:00:00.000' }),
    logRow({ namespace: 'acme', repository: 'api', kind: 'push_repo', performer: 'alice', datetime: '2024-06-12 10:00:00.000' }),
  ]);
});

async function exportAcme(body: Record<string, unknown>, token?: string) {
  return call(s.api, 'POST', `/api/v1/organization/acme/exportlogs?${WINDOW}`, { body, ...(token ? { token } : {}) });
}

function generationsStarted(exportId: string): number {
  return s.logs.filter((l) => l.msg === 'export generation started' && l.obj.export_id === exportId).length;
}

describe('callback retries', () => {
  it('is delivered on the third attempt after two 500s, with one generation and one webhook-id', async () => {
    const r = await receiver(sequence(500, 500, 204));
    const res = await exportAcme({ callback_url: hookUrl(r) });
    expect(res.status).toBe(200);
    const status = await waitForExport(s, res.body.export_id);
    expect(status.status).toBe('delivered');
    expect(status.generation).toEqual({ status: 'generated', outcome: 'success', attempts: 1, last_error: null });
    expect(status.channels.callback).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 204, last_error: 'HTTP 500' });
    expect(generationsStarted(res.body.export_id)).toBe(1);
    expect(r.requests).toHaveLength(3);
    const ids = new Set(r.requests.map((q) => q.headers['webhook-id']));
    expect([...ids]).toEqual([status.channels.callback.webhook_id]);
    expect(new Set(r.requests.map((q) => q.body)).size).toBe(1);
    for (const q of r.requests) expect(new Webhook(CALLBACK_SECRET).verify(q.body, q.headers)).toMatchObject({ export_id: res.body.export_id, status: 'success' });
    // the file behind the link is still the one generated the first time
    expect((await download(status.exported_data_url)).status).toBe(200);
  });

  it('times out a callback that never answers and tries again', async () => {
    const r = await receiver(sequence('hang', 200));
    const res = await exportAcme({ callback_url: hookUrl(r) });
    const status = await waitForExport(s, res.body.export_id);
    expect(status.status).toBe('delivered');
    expect(status.channels.callback).toMatchObject({ status: 'delivered', attempts: 2, last_status_code: 200, last_error: 'no response within 1000 ms' });
    expect(r.requests).toHaveLength(2);
    expect(r.requests[0]!.headers['webhook-id']).toBe(r.requests[1]!.headers['webhook-id']);
  });

  it('does not follow a 3xx: it is a failure, retried until the attempts run out', async () => {
    const elsewhere = await receiver(always(200));
    const r = await receiver(always(302, { location: elsewhere.url('/') }));
    const res = await exportAcme({ callback_url: hookUrl(r) });
    const status = await waitForExport(s, res.body.export_id);
    expect(status.status).toBe('failed');
    expect(status.generation.outcome).toBe('success');
    expect(status.channels.callback).toMatchObject({ status: 'failed', attempts: 4, last_status_code: 302, last_error: 'HTTP 302 (redirects are not followed)' });
    expect(r.requests).toHaveLength(4);
    expect(elsewhere.requests).toHaveLength(0);
    expect(generationsStarted(res.body.export_id)).toBe(1);
  });

  it('sends the e-mail without waiting for a callback that keeps failing', async () => {
    const r = await receiver(sequence('hang'));
    const res = await exportAcme({ callback_url: hookUrl(r), callback_email: 'ops@example.com' });
    const mail = await eventually(async () => smtp.mails.find((m) => m.text?.includes(res.body.export_id)));
    expect(mail.subject).toBe('[Project Quay] Export Action Logs Complete');
    const midway = await eventually(async () => {
      const st = await call(s.api, 'GET', `/api/v1/exportlogs/${res.body.export_id}`);
      return st.body.channels.email?.status === 'delivered' ? st.body : undefined;
    });
    // the callback's first attempt is still hanging (1 s header timeout, then 3 more attempts)
    expect(midway.status).toBe('delivering');
    expect(midway.channels.callback).toMatchObject({ status: 'delivering' });
    expect(midway.channels.callback.attempts).toBeLessThanOrEqual(2);
  });
});

describe("Quay's outcomes", () => {
  it('reports a generation that runs out of time as `timedout` on both channels, without a link', async () => {
    await s.restartExporter({ maxGenerationMs: 0 });
    const r = await receiver(always(200));
    const res = await exportAcme({ callback_url: hookUrl(r), callback_email: 'ops@example.com' });
    const status = await waitForExport(s, res.body.export_id);
    expect(status).toMatchObject({ status: 'failed', exported_data_url: null, generation: { status: 'failed', outcome: 'timedout', attempts: 1 } });
    expect(status.channels.callback).toMatchObject({ status: 'delivered', reports: 'timedout' });
    expect(status.channels.email).toMatchObject({ status: 'delivered', reports: 'timedout' });
    const body = new Webhook(CALLBACK_SECRET).verify(r.requests[0]!.body, r.requests[0]!.headers);
    expect(body).toMatchObject({ export_id: res.body.export_id, exported_data_url: null, status: 'timedout' });
    const mail = smtp.mails.find((m) => m.text?.includes(res.body.export_id))!;
    expect(mail.text).toContain('The attempt to export the logs in the specified range has timed out.');
    expect(mail.attachments).toHaveLength(0);
    expect(readdirSync(join(s.dataDir, 'exports')).filter((f) => f.startsWith(res.body.export_id))).toEqual([]);
  });
});

describe('SSRF guard', () => {
  it('refuses private, loopback, link-local, metadata, IPv4-mapped and privately resolving callbacks with 400', async () => {
    const r = await receiver(always(200));
    for (const url of [
      `http://127.0.0.1:${r.port}/cb`,
      'http://10.0.0.1/cb',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:127.0.0.1]/cb',
      'http://localhost/cb',
      'http://private.test/cb',
    ]) {
      const res = await exportAcme({ callback_url: url });
      expect(res.status, url).toBe(400);
      expect(res.body, url).toMatchObject({ status: 400, title: 'invalid_request', error_message: expect.stringMatching(/^Invalid callback URL \(.*QUAYLOGS_SSRF_ALLOWED_HOSTS\)$/), detail: expect.stringMatching(/^Invalid callback URL \(/) });
    }
    const ftp = await exportAcme({ callback_url: 'ftp://registry.example.com/logs' });
    expect(ftp.status).toBe(400);
    expect(ftp.body.error_message).toBe("Invalid URL scheme 'ftp': only HTTP and HTTPS are allowed");
    // each refusal is audited as Quay does: export_logs_failure, "invalid request"
    await s.auditStored();
    const audit = await call(s.api, 'GET', '/api/v1/organization/acme/logs?kind=export_logs_failure');
    expect(audit.body.logs).toHaveLength(7);
    expect(audit.body.logs[0].metadata).toMatchObject({ error: 'invalid request', url: 'ftp://registry.example.com/logs', email: null });
    expect(r.requests).toHaveLength(0);

    const allowed = await exportAcme({ callback_url: hookUrl(r) });
    expect(allowed.status).toBe(200);
    expect((await waitForExport(s, allowed.body.export_id)).status).toBe('delivered');
    expect(r.requests).toHaveLength(1);
  });

  it('checks again at delivery: a name that now resolves privately is not called, and the e-mail still goes', async () => {
    const res = await exportAcme({ callback_url: 'http://rebind.test/cb', callback_email: 'ops@example.com' });
    expect(res.status).toBe(200);
    const status = await waitForExport(s, res.body.export_id);
    expect(status.status).toBe('failed');
    expect(status.channels.callback).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error: 'refused by the SSRF guard: URL resolves to a private or reserved IP address',
    });
    expect(status.channels.email.status).toBe('delivered');
  });
});

describe("Quay's request rules", () => {
  it('applies permissions and writes audit entries into the namespace log', async () => {
    const alice = await userWithToken(s.api, 'alice', { organizations: ['acme'] });
    const bob = await userWithToken(s.api, 'bob');
    const carol = await userWithToken(s.api, 'carol', { repositories: ['acme/web'] });

    expect((await call(s.api, 'POST', '/api/v1/organization/acme/exportlogs', { body: {}, token: null })).status).toBe(401);
    expect((await exportAcme({}, bob)).status).toBe(403);
    const own = await call(s.api, 'POST', '/api/v1/user/exportlogs', { body: {}, token: bob });
    expect(own.status).toBe(200);
    expect((await call(s.api, 'POST', '/api/v1/repository/acme/web/exportlogs', { body: {}, token: bob })).status).toBe(403);
    const repo = await call(s.api, 'POST', `/api/v1/repository/acme/web/exportlogs?${WINDOW}`, { body: {}, token: carol });
    expect(repo.status).toBe(200);
    const missing = await call(s.api, 'POST', '/api/v1/repository/acme/nope/exportlogs', { body: {}, token: alice });
    expect(missing.status).toBe(404);
    const ok = await exportAcme({ callback_email: 'ops@example.com' }, alice);
    expect(ok.status).toBe(200);

    const entries = async (kind: string) => (await call(s.api, 'GET', `/api/v1/organization/acme/logs?kind=${kind}`, { token: alice })).body.logs;
    await s.auditStored();
    const failures = await entries('export_logs_failure');
    expect(failures.map((e: any) => [e.performer.name, e.metadata.error, e.metadata.repo ?? null])).toEqual([
      ['alice', 'non-existent repository', 'nope'],
      ['bob', 'unauthorized', null],
    ]);
    const successes = await entries('export_logs_success');
    expect(successes).toHaveLength(2);
    const [latest, repoEntry] = successes;
    expect(Object.keys(latest.metadata)).toEqual(['date/time', 'export_id', 'message', 'url', 'email']);
    expect(latest.metadata).toMatchObject({ export_id: ok.body.export_id, message: 'queued for export', url: null, email: 'ops@example.com' });
    expect(Math.abs(latest.metadata['date/time'] - Date.now() / 1000)).toBeLessThan(60);
    expect(repoEntry.metadata).toMatchObject({ export_id: repo.body.export_id, repo: 'web' });
    expect(repoEntry.performer.name).toBe('carol');

    // status: whoever may export the namespace (or the repository)
    expect((await call(s.api, 'GET', `/api/v1/exportlogs/${ok.body.export_id}`, { token: alice })).status).toBe(200);
    expect((await call(s.api, 'GET', `/api/v1/exportlogs/${ok.body.export_id}`, { token: bob })).status).toBe(403);
    expect((await call(s.api, 'GET', `/api/v1/exportlogs/${repo.body.export_id}`, { token: carol })).status).toBe(200);
    expect((await call(s.api, 'GET', `/api/v1/exportlogs/${own.body.export_id}`, { token: bob })).body.namespace).toBe('bob');
    expect((await call(s.api, 'GET', '/api/v1/exportlogs/00000000-0000-4000-8000-000000000000', { token: alice })).status).toBe(404);
    expect((await call(s.api, 'GET', `/api/v1/exportlogs/${ok.body.export_id}`, { token: null })).status).toBe(401);

    // the routes are in discovery, with Quay's ExportLogs body definition
    const discovery = (await call(s.api, 'GET', '/api/v1/discovery')).body;
    expect(discovery.paths['/api/v1/organization/{orgname}/exportlogs'].post.operationId).toBe('exportOrgLogs');
    expect(discovery.definitions.ExportLogs.properties.callback_url.type).toBe('string');
  });

  it("validates like Quay: time span, e-mail, JSON types; dates from the query string or the body", async () => {
    const span = await call(s.api, 'POST', '/api/v1/organization/acme/exportlogs?starttime=02/02/2020&endtime=01/01/2020', { body: {} });
    expect(span.status).toBe(400);
    expect(span.body).toMatchObject({ error_message: 'Invalid time span selected', error_type: 'invalid_request' });
    expect((await exportAcme({ callback_email: 'nobody' })).body.error_message).toBe('Invalid callback e-mail');
    const typed = await exportAcme({ callback_url: 123 });
    expect(typed.status).toBe(400);
    expect(typed.body.error_message).toBe("123 is not of type 'string'");
    expect((await exportAcme({ format: 'xml' })).body.error_message).toBe('format must be one of json, ndjson, csv');
    await s.auditStored();
    const audit = (await call(s.api, 'GET', '/api/v1/organization/acme/logs?kind=export_logs_failure')).body.logs;
    expect(audit.map((e: any) => e.metadata.error)).toEqual(['invalid request', 'invalid request', 'Invalid time span selected']);

    const fromBody = await call(s.api, 'POST', '/api/v1/organization/acme/exportlogs', { body: { starttime: '06/10/2024', endtime: '06/11/2024' } });
    const b = await waitForExport(s, fromBody.body.export_id);
    expect([b.start_time, b.end_time, b.rows]).toEqual(['Mon, 10 Jun 2024 00:00:00 -0000', 'Wed, 12 Jun 2024 00:00:00 -0000', 2]);
    expect(b.status).toBe('delivered');
    const queryWins = await call(s.api, 'POST', '/api/v1/organization/acme/exportlogs?starttime=06/12/2024&endtime=06/12/2024', { body: { starttime: '06/10/2024', endtime: '06/11/2024' } });
    const q = await waitForExport(s, queryWins.body.export_id);
    expect([q.start_time, q.rows]).toEqual(['Wed, 12 Jun 2024 00:00:00 -0000', 1]);
    // extension filters
    const filtered = await exportAcme({ kind: 'push_repo', repository: 'api' });
    const f = await waitForExport(s, filtered.body.export_id);
    expect([f.rows, f.repository, f.filters]).toEqual([1, 'api', { kind: ['push_repo'], performer: null }]);
  });

  it('serves the file only behind a valid, unexpired signature', async () => {
    const res = await exportAcme({});
    const status = await waitForExport(s, res.body.export_id);
    const link = new URL(status.exported_data_url);
    expect((await download(link.href)).status).toBe(200);
    const fileId = link.pathname.split('/').pop()!;
    const tampered = new URL(link.href);
    tampered.searchParams.set('expires', String(Number(link.searchParams.get('expires')) + 10));
    expect((await download(tampered.href)).status).toBe(404);
    expect((await download(`${s.url}/exportedlogs/${fileId}`)).status).toBe(404);
    const expired = signDownloadUrl(s.url, fileId, new Date(Date.now() - 1000), deriveLinkKeys(SECRET));
    const gone = await download(expired);
    expect(gone.status).toBe(410);
    expect(JSON.parse(gone.bytes.toString())).toEqual({ message: 'This download link has expired' });
    const other = signDownloadUrl(s.url, `${res.body.export_id}-0000000000000000`, new Date(Date.now() + 60_000), deriveLinkKeys(SECRET));
    expect((await download(other)).status).toBe(404);
  });
});
