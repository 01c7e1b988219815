/**
 * The delivery package against real servers: the SSRF guard (Quay's rules, the
 * pinned address), signed callbacks to HTTP receivers on loopback, and export
 * e-mails through an in-process SMTP server.
 */
import { Readable } from 'node:stream';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AllowList,
  checkDownloadLink,
  createMailer,
  deriveLinkKeys,
  exportFileId,
  postCallback,
  renderExportEmail,
  type Resolver,
  signDownloadUrl,
  SsrfError,
  vetUrl,
  WebhookSigner,
} from '../src/index.ts';
import { always, type MailSink, type Receiver, sequence, startReceiver, startSmtp } from '@quaylogs/testing/deliveryServers';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const signer = new WebhookSigner(SECRET);

/** A resolver standing in for DNS: names map to fixed answers. */
function mapResolver(map: Record<string, string[]>): Resolver {
  return async (host) => {
    const found = map[host];
    if (!found) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

async function refusal(url: string, allow = '', resolve?: Resolver): Promise<SsrfError> {
  const err = await vetUrl(url, { allowList: AllowList.parse(allow), ...(resolve ? { resolve } : {}) }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SsrfError);
  return err as SsrfError;
}

describe('SSRF guard (Quay util/security/ssrf.py rules)', () => {
  const dns = mapResolver({
    'hooks.example.com': ['93.184.216.34'],
    'rebind.example.com': ['93.184.216.34', '10.1.2.3'],
    'private.example.com': ['10.1.2.3'],
    'mapped.example.com': ['::ffff:127.0.0.1'],
    'svc.cluster.local': ['10.96.0.1'],
  });

  it('refuses loopback, private, link-local, CGNAT, metadata, IPv4-mapped and other reserved targets', async () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://127.1:8080/x',
      'http://2130706433/',
      'http://10.0.0.1/',
      'http://172.16.5.4/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://169.254.169.254/latest/meta-data',
      'http://0.0.0.0/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:8.8.8.8]/',
      'http://[fe80::1]/',
      'http://[fd00::1]/',
      'http://[64:ff9b::a00:1]/',
      'http://224.0.0.1/',
    ]) {
      expect((await refusal(url, '', dns)).kind, url).toBe('blocked');
    }
  });

  it('refuses blocked names and names that resolve to any private address', async () => {
    for (const url of ['http://localhost/', 'http://metadata.google.internal/', 'https://kubernetes.default.svc/', 'http://x.internal/', 'http://printer.local/']) {
      expect((await refusal(url, '', dns)).kind, url).toBe('blocked');
    }
    expect((await refusal('http://private.example.com/cb', '', dns)).kind).toBe('blocked');
    expect((await refusal('http://rebind.example.com/cb', '', dns)).kind).toBe('blocked');
    expect((await refusal('http://mapped.example.com/cb', '', dns)).kind).toBe('blocked');
  });

  it("reports format problems with Quay's messages", async () => {
    expect((await refusal('ftp://registry.example.com/logs')).message).toBe("Invalid URL scheme 'ftp': only HTTP and HTTPS are allowed");
    expect((await refusal('example.com/callback')).message).toBe("Invalid URL scheme '': only HTTP and HTTPS are allowed");
    expect((await refusal('https://user:pw@hooks.example.com/')).message).toBe('URLs with embedded credentials are not allowed');
    expect((await refusal('http:///nohost')).kind).toBe('format');
    expect((await refusal('   ')).message).toBe('External registry URL is required');
    const unresolvable = await refusal('http://nowhere.example.com/', '', dns);
    expect(unresolvable).toMatchObject({ kind: 'format', message: "Cannot resolve hostname 'nowhere.example.com'", transient: true });
  });

  it('lets public targets and allow-listed hosts or CIDRs through, and returns the address it checked', async () => {
    const ok = await vetUrl('https://hooks.example.com/cb?x=1', { allowList: AllowList.parse(''), resolve: dns });
    expect(ok).toMatchObject({ hostname: 'hooks.example.com', port: 443, address: { address: '93.184.216.34', family: 4 } });
    expect((await vetUrl('http://127.0.0.1:9/', { allowList: AllowList.parse('127.0.0.1') })).address.address).toBe('127.0.0.1');
    expect((await vetUrl('http://private.example.com/', { allowList: AllowList.parse('10.0.0.0/8'), resolve: dns })).address.address).toBe('10.1.2.3');
    expect((await vetUrl('http://PRIVATE.example.com/', { allowList: AllowList.parse('private.example.com'), resolve: dns })).hostname).toBe('private.example.com');
    // a CIDR entry rescues a blocked .local name whose address it covers
    expect((await vetUrl('http://svc.cluster.local/', { allowList: AllowList.parse('10.96.0.0/12'), resolve: dns })).address.address).toBe('10.96.0.1');
    // an IPv4 CIDR does not cover the IPv4-mapped IPv6 form (as Python's ipaddress)
    expect((await refusal('http://[::ffff:127.0.0.1]/', '127.0.0.0/8')).kind).toBe('blocked');
  });
});

describe('signed callbacks', () => {
  const receivers: Receiver[] = [];
  const loopback = { allowList: AllowList.parse('127.0.0.1') };
  afterAll(async () => {
    for (const r of receivers) await r.close();
  });
  const receiver = async (answer: Parameters<typeof startReceiver>[0]) => {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  };

  it('POSTs the body with Standard Webhooks headers that verify, and any 2xx counts', async () => {
    const r = await receiver(always(204));
    const body = '{"export_id": "x", "status": "success"}';
    const out = await postCallback({ url: r.url(), body, webhookId: 'msg_1', signer, policy: loopback });
    expect(out).toMatchObject({ ok: true, status: 204 });
    const [got] = await r.waitFor(1);
    expect(got!.method).toBe('POST');
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.body).toBe(body);
    expect(got!.headers['webhook-id']).toBe('msg_1');
    expect(Math.abs(Number(got!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(got!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(SECRET).verify(got!.body, got!.headers)).toEqual({ export_id: 'x', status: 'success' });
    expect(() => new Webhook('whsec_' + Buffer.from('another secret').toString('base64')).verify(got!.body, got!.headers)).toThrow();
    // a raw (non-whsec_) secret signs with its bytes as the key
    const raw = new WebhookSigner('plain-text-secret');
    await postCallback({ url: r.url(), body, webhookId: 'msg_2', signer: raw, policy: loopback });
    const [, second] = await r.waitFor(2);
    expect(new Webhook('plain-text-secret', { format: 'raw' }).verify(second!.body, second!.headers)).toBeTruthy();
  });

  it('treats a 3xx as a failure and never follows it', async () => {
    const target = await receiver(always(200));
    const r = await receiver(always(302, { location: target.url('/elsewhere') }));
    const out = await postCallback({ url: r.url(), body: '{}', webhookId: 'msg_3', signer, policy: loopback });
    expect(out).toMatchObject({ ok: false, status: 302, retryable: true, error: 'HTTP 302 (redirects are not followed)' });
    await new Promise((res) => setTimeout(res, 100));
    expect(target.requests).toHaveLength(0);
    const five = await receiver(always(500));
    expect(await postCallback({ url: five.url(), body: '{}', webhookId: 'msg_4', signer, policy: loopback })).toMatchObject({ ok: false, status: 500, retryable: true });
  });

  it('gives up on a receiver that never answers, after the header timeout', async () => {
    const r = await receiver(sequence('hang'));
    const t0 = Date.now();
    const out = await postCallback({ url: r.url(), body: '{}', webhookId: 'msg_5', signer, policy: loopback, timeouts: { headersMs: 300 } });
    expect(out).toMatchObject({ ok: false, status: null, retryable: true, error: 'no response within 300 ms' });
    expect(Date.now() - t0).toBeLessThan(3000);
    const refused = await postCallback({ url: 'http://127.0.0.1:1/', body: '{}', webhookId: 'msg_6', signer, policy: loopback });
    expect(refused).toMatchObject({ ok: false, retryable: true });
    expect(refused.ok ? '' : refused.error).toMatch(/ECONNREFUSED/);
  });

  it('connects to the address the guard vetted, whatever a later DNS answer says', async () => {
    const r = await receiver(always(200));
    let calls = 0;
    // The first answer is the receiver; any later one would point elsewhere.
    const rebinding: Resolver = async () => (calls++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '127.0.0.2', family: 4 }]);
    const out = await postCallback({
      url: `http://hooks.test:${r.port}/cb`,
      body: '{}',
      webhookId: 'msg_7',
      signer,
      policy: { allowList: AllowList.parse('hooks.test'), resolve: rebinding },
    });
    expect(out.ok).toBe(true);
    expect(calls).toBe(1);
    expect(r.requests[0]!.headers.host).toBe(`hooks.test:${r.port}`);
    // refused targets are not retryable
    const blocked = await postCallback({ url: 'http://10.0.0.1/', body: '{}', webhookId: 'msg_8', signer, policy: loopback });
    expect(blocked).toMatchObject({ ok: false, retryable: false });
  });
});

describe('export e-mails', () => {
  let smtp: MailSink;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(async () => smtp.close());

  it("says what Quay's mail says for each outcome", () => {
    const base = { exportId: 'e1', url: 'https://q.example/exportedlogs/e1-ab?x=1', linkTtlSeconds: 604_800, registryTitle: 'Acme Registry' };
    const ok = renderExportEmail({ ...base, status: 'success' });
    expect(ok.subject).toBe('[Acme Registry] Export Action Logs Complete');
    expect(ok.text).toContain('Usage Logs Export has completed');
    expect(ok.text).toContain('Export ID: e1');
    expect(ok.text).toContain('The exported logs information can be found at https://q.example/exportedlogs/e1-ab?x=1 and will remain accessible for 604800 seconds (7 days) before being deleted.');
    expect(ok.html).toContain('<a href="https://q.example/exportedlogs/e1-ab?x=1">');
    expect(ok.text).toContain('If you did not initiate this operation, please delete this e-mail.');
    expect(ok.text).toContain('The Acme Registry Team');
    expect(renderExportEmail({ ...base, status: 'failed', attempts: 3 }).text).toContain('The attempt to export the logs in the specified range has failed. It was tried 3 times.');
    expect(renderExportEmail({ ...base, status: 'timedout' }).text).toContain('has timed out. Please contact support if this problem persists.');
    expect(renderExportEmail({ ...base, status: 'invalidrequest' }).text).toContain('failed due to an invalid request.');
    expect(renderExportEmail({ ...base, exportId: '<b>', status: 'failed' }).html).toContain('Export ID: &lt;b&gt;');
  });

  it('sends through SMTP with the file attached intact', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from: 'quaylogs <exports@example.com>' });
    const content = Buffer.from('{"export_id": "e2", "logs": [{"terminator": true}]}\n'.repeat(1000));
    const mail = renderExportEmail({ exportId: 'e2', status: 'success', url: 'http://x/y', linkTtlSeconds: 3600, registryTitle: 'Project Quay' });
    await mailer.send({ ...mail, to: 'auditor@example.com', attachments: [{ filename: 'e2.json', contentType: 'application/json', content: Readable.from([content]) }] });
    mailer.close();
    const [got] = await smtp.waitFor(1);
    expect(got!.subject).toBe('[Project Quay] Export Action Logs Complete');
    expect(got!.from?.text).toContain('exports@example.com');
    expect(got!.text).toContain('http://x/y');
    expect(got!.attachments).toHaveLength(1);
    expect(got!.attachments[0]!.filename).toBe('e2.json');
    expect(got!.attachments[0]!.content.equals(content)).toBe(true);
  });
});

describe('download links', () => {
  it('are signed, expire, and name a stable, unguessable file per export', () => {
    const keys = deriveLinkKeys('server-secret-0123456789');
    const id = exportFileId('6a0b9ea9-5f6e-4c8e-9d7a-0d6c4f1e2a3b', keys);
    expect(id).toMatch(/^6a0b9ea9-5f6e-4c8e-9d7a-0d6c4f1e2a3b-[0-9a-f]{16}$/);
    expect(exportFileId('6a0b9ea9-5f6e-4c8e-9d7a-0d6c4f1e2a3b', keys)).toBe(id);
    expect(exportFileId('6a0b9ea9-5f6e-4c8e-9d7a-0d6c4f1e2a3b', deriveLinkKeys('other-secret-0123456789'))).not.toBe(id);
    const url = new URL(signDownloadUrl('https://quaylogs.example/', id, new Date(Date.now() + 60_000), keys));
    expect(url.pathname).toBe(`/exportedlogs/${id}`);
    const q = { expires: url.searchParams.get('expires')!, signature: url.searchParams.get('signature')! };
    expect(checkDownloadLink(id, q, keys)).toBe('valid');
    expect(checkDownloadLink(id, q, keys, new Date(Date.now() + 120_000))).toBe('expired');
    expect(checkDownloadLink(id, { ...q, expires: String(Number(q.expires) + 1) }, keys)).toBe('invalid');
    expect(checkDownloadLink(id, { expires: q.expires }, keys)).toBe('invalid');
    expect(checkDownloadLink(`${id}x`, q, keys)).toBe('invalid');
  });
});
