/**
 * An organisation export of 200k demo rows end to end: request through Quay's API,
 * generation by the BullMQ worker out of the embedded ClickHouse, a signed callback
 * to a real receiver, the download link, and the same by e-mail through a real SMTP
 * server. The file must hold exactly the entries /logs lists for the window.
 */
import { gunzipSync } from 'node:zlib';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.setConfig({ testTimeout: 180_000 });
import { insertUsageLogs, upsertAccounts } from '@quaylogs/clickhouse';
import { formatRfc2822 } from '@quaylogs/core';
import { call, logRow } from '@quaylogs/testing';
import { always, type MailSink, type Receiver, startReceiver, startSmtp } from '@quaylogs/testing/deliveryServers';
import { download, expectSameEntries, logsEntries, parseCsv, parseQuayDocument, seedDemo, waitForExport } from './support/exportChecks.ts';
import { CALLBACK_SECRET, type Stack, startStack } from './support/stack.ts';

const ORG = 'acme-corp';
const ROWS = 200_000;
const NOW = new Date('2024-07-01T00:00:00Z');
const WINDOW = 'starttime=06/01/2024&endtime=06/30/2024';
const FILTER = { start: new Date('2024-06-01T00:00:00Z'), end: NOW, namespace: ORG };

let s: Stack;
let hook: Receiver;
let smtp: MailSink;
/** What /logs lists for the window, newest first. */
let expectedDesc: string[];
/** The big JSON export, requested with both a callback and an e-mail (see bigExportDelivered). */
let bigExport: Promise<{ exportId: string; status: any }> | undefined;

beforeAll(async () => {
  smtp = await startSmtp();
  hook = await startReceiver(always(200));
  s = await startStack({
    env: {
      QUAYLOGS_SSRF_ALLOWED_HOSTS: '127.0.0.1',
      QUAYLOGS_SMTP_URL: smtp.url,
      QUAYLOGS_MAIL_FROM: 'Quay Logs <exports@quaylogs.test>',
      QUAYLOGS_MAIL_ATTACH_MAX_BYTES: String(1024 * 1024),
      QUAYLOGS_REGISTRY_TITLE: 'Acme Registry',
    },
  });
  await seedDemo(s.store, { rows: ROWS, namespace: ORG, now: NOW, days: 30 });
  expectedDesc = await logsEntries(s.store, FILTER);
});

// Each test starts from an empty Redis database; the seeded store is shared.
beforeEach(async () => s.flushRedis());

afterAll(async () => {
  await s?.close();
  await hook?.close();
  await smtp?.close();
});

function rate(exportId: string): string {
  const line = s.logs.find((l) => l.msg === 'export generated' && l.obj.export_id === exportId);
  return line ? `${line.obj.rows} rows in ${Number(line.obj.seconds).toFixed(2)} s = ${line.obj.rows_per_s} rows/s, ${line.obj.bytes} bytes` : 'n/a';
}

async function exportOrg(body: Record<string, unknown>): Promise<string> {
  const res = await call(s.api, 'POST', `/api/v1/organization/${ORG}/exportlogs?${WINDOW}`, { body });
  expect(res.status).toBe(200);
  expect(Object.keys(res.body)).toEqual(['export_id']);
  expect(res.body.export_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  return res.body.export_id;
}

/**
 * Requests the big export and waits for its delivery, once, for whichever test needs it
 * first: the e-mail test checks the mail of the same export, and passes run on its own too.
 */
function bigExportDelivered(): Promise<{ exportId: string; status: any }> {
  bigExport ??= (async () => {
    const exportId = await exportOrg({ callback_url: hook.url('/quay-export'), callback_email: 'auditor@example.com' });
    return { exportId, status: await waitForExport(s, exportId) };
  })();
  return bigExport;
}

describe('organisation export of 200k rows', () => {
  it("delivers Quay's signed callback and a file holding exactly what /logs lists", async () => {
    expect(expectedDesc).toHaveLength(ROWS);
    const { exportId, status } = await bigExportDelivered();
    console.log(`json export: ${rate(exportId)}`);
    expect(status).toMatchObject({ status: 'delivered', rows: ROWS, format: 'json', generation: { status: 'generated', outcome: 'success', attempts: 1 } });
    expect(status.channels.callback).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200 });

    const [cb] = await hook.waitFor(1);
    const verified = new Webhook(CALLBACK_SECRET).verify(cb!.body, cb!.headers) as Record<string, unknown>;
    expect(Object.keys(verified)).toEqual(['export_id', 'start_time', 'end_time', 'namespace', 'repository', 'exported_data_url', 'status']);
    expect(verified).toEqual({
      export_id: exportId,
      start_time: '06/01/2024',
      end_time: '07/01/2024',
      namespace: ORG,
      repository: null,
      exported_data_url: status.exported_data_url,
      status: 'success',
    });
    expect(cb!.headers['webhook-id']).toBe(status.channels.callback.webhook_id);

    const file = await download(verified.exported_data_url as string);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/json');
    expect(file.bytes.length).toBe(status.bytes);
    const { doc, entries } = parseQuayDocument(file.bytes);
    expect(doc.export_id).toBe(exportId);
    expect(doc.details).toEqual({ start_time: 'Sat, 01 Jun 2024 00:00:00 -0000', end_time: 'Sun, 30 Jun 2024 23:59:59 -0000', namespace: ORG, repository: null });
    // Oldest first in the file; /logs lists newest first.
    expectSameEntries(entries, [...expectedDesc].reverse());

    // And over HTTP: the first pages of /logs are the file's last entries.
    let page = await call(s.api, 'GET', `/api/v1/organization/${ORG}/logs?${WINDOW}`);
    const viaHttp: string[] = [];
    for (let i = 0; i < 5; i++) {
      viaHttp.push(...page.body.logs.map((e: unknown) => JSON.stringify(e)));
      page = await call(s.api, 'GET', `/api/v1/organization/${ORG}/logs?${WINDOW}&next_page=${encodeURIComponent(page.body.next_page)}`);
    }
    expectSameEntries(viaHttp, entries.slice(-100).reverse());
  });

  it('writes NDJSON (gzip) and CSV variants with the same entries', async () => {
    const ndjsonId = await exportOrg({ callback_url: hook.url('/ndjson'), format: 'ndjson', compress: 'gzip' });
    const csvId = await exportOrg({ callback_url: hook.url('/csv'), format: 'csv' });
    const [ndjson, csv] = [await waitForExport(s, ndjsonId), await waitForExport(s, csvId)];
    console.log(`ndjson+gzip export: ${rate(ndjsonId)}`);
    console.log(`csv export: ${rate(csvId)}`);
    expect(ndjson).toMatchObject({ status: 'delivered', rows: ROWS, format: 'ndjson', compress: 'gzip' });
    expect(csv).toMatchObject({ status: 'delivered', rows: ROWS, format: 'csv', compress: null });
    const ascending = [...expectedDesc].reverse();

    const gz = await download(ndjson.exported_data_url);
    expect(gz.headers.get('content-type')).toBe('application/gzip');
    expect(gz.headers.get('content-disposition')).toBe(`attachment; filename="quay-logs-${ndjsonId}.ndjson.gz"`);
    const lines = gunzipSync(gz.bytes).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expectSameEntries(lines, ascending);

    const plain = await download(csv.exported_data_url);
    expect(plain.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const [header, ...records] = parseCsv(plain.bytes.toString('utf8'));
    expect(header).toEqual(['datetime', 'kind', 'namespace', 'repository', 'performer', 'performer_is_robot', 'ip', 'metadata']);
    expect(records).toHaveLength(ROWS);
    const asEntries = records.map(([datetime, kind, namespace, , performer, robot, ip, metadata]) => {
      expect(namespace).toBe(ORG);
      return { datetime: formatRfc2822(new Date(datetime!)), kind, performer: performer || null, is_robot: robot === '' ? null : robot === 'true', ip: ip || null, metadata: JSON.parse(metadata!) };
    });
    const fromLogs = ascending.map((text) => {
      const e = JSON.parse(text);
      return { datetime: e.datetime, kind: e.kind, performer: e.performer?.name ?? null, is_robot: e.performer ? e.performer.is_robot : null, ip: e.ip, metadata: e.metadata };
    });
    for (let i = 0; i < ROWS; i++) {
      if (JSON.stringify(asEntries[i]) !== JSON.stringify(fromLogs[i])) expect({ i, row: asEntries[i] }).toEqual({ i, row: fromLogs[i] });
    }
  });
});

describe('export by e-mail', () => {
  it('mails a working link for the big export (too big to attach)', async () => {
    const { exportId, status: big } = await bigExportDelivered();
    expect(big.channels.email).toMatchObject({ status: 'delivered', attempts: 1, target: 'auditor@example.com' });
    const mail = smtp.mails.find((m) => m.text?.includes(exportId));
    expect(mail).toBeDefined();
    expect(mail!.subject).toBe('[Acme Registry] Export Action Logs Complete');
    expect(mail!.to && 'text' in mail!.to ? mail!.to.text : '').toBe('auditor@example.com');
    expect(mail!.from?.text).toBe('"Quay Logs" <exports@quaylogs.test>');
    expect(mail!.attachments).toHaveLength(0);
    const link = /found at (\S+) and will remain accessible for 604800 seconds/.exec(mail!.text ?? '')?.[1];
    expect(link).toBe(big.exported_data_url);
    expect(mail!.html).toContain(`href="${big.exported_data_url.replace(/&/g, '&amp;')}"`);
    const file = await download(link!);
    expect(file.status).toBe(200);
    expect(parseQuayDocument(file.bytes).entries).toHaveLength(ROWS);
  });

  it('attaches a small export, intact', async () => {
    await upsertAccounts(s.store, 'test', [{ name: 'zoë', kind: 'user', email: 'zoe@example.com' }]);
    await insertUsageLogs(s.store, [
      logRow({ namespace: 'tiny', repository: 'app', kind: 'push_repo', performer: 'zoë', datetime: '2024-06-10 08:00:00.000', metadata: '{"repo":"app","tag":"naïve-☃"}' }),
      logRow({ namespace: 'tiny', repository: 'app', kind: 'pull_repo', performer: '', ip: '', datetime: '2024-06-10 09:30:00.250' }),
      logRow({ namespace: 'tiny', repository: 'app', kind: 'create_tag', performer: 'tiny+ci', datetime: '2024-06-11 23:59:59.999', metadata: '{"tag":"v1, \\"quoted\\""}' }),
    ]);
    const res = await call(s.api, 'POST', '/api/v1/organization/tiny/exportlogs?starttime=06/10/2024&endtime=06/11/2024', { body: { callback_email: 'auditor@example.com' } });
    expect(res.status).toBe(200);
    const status = await waitForExport(s, res.body.export_id);
    expect(status).toMatchObject({ status: 'delivered', rows: 3 });
    const mail = smtp.mails.find((m) => m.text?.includes(res.body.export_id))!;
    expect(mail.subject).toBe('[Acme Registry] Export Action Logs Complete');
    expect(mail.attachments).toHaveLength(1);
    const attached = mail.attachments[0]!;
    expect(attached.filename).toBe(`quay-logs-${res.body.export_id}.json`);
    expect(attached.contentType).toBe('application/json');
    const viaLink = await download(status.exported_data_url);
    expect(attached.content.equals(viaLink.bytes)).toBe(true);
    // Quay's document escapes non-ASCII like Python's json.dumps, and parses back to the same text.
    expect(attached.content.toString('utf8')).toContain('naïve-\\u2603'.replace('ï', '\\u00ef'));
    const { entries } = parseQuayDocument(attached.content);
    expectSameEntries(entries, (await logsEntries(s.store, { start: new Date('2024-06-10T00:00:00Z'), end: new Date('2024-06-12T00:00:00Z'), namespace: 'tiny' })).reverse());
    expect(JSON.parse(entries[0]!).metadata.tag).toBe('naïve-☃');
  });
});
