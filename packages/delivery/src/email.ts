/**
 * The export e-mail: what Quay's `logsexported` mail says for each outcome
 * (emails/logsexported.html), as HTML and plain text, sent with
 * nodemailer over QUAYLOGS_SMTP_URL. The file is attached only when it is smaller
 * than QUAYLOGS_MAIL_ATTACH_MAX_BYTES; the link is always in the text.
 */
import type { Readable } from 'node:stream';
import { createTransport } from 'nodemailer';
import { parseSingleMailbox } from './mailAddress.ts';

/** Quay's ExportResult values. */
export type ExportOutcome = 'success' | 'failed' | 'timedout' | 'invalidrequest';

export interface ExportMailContent {
  exportId: string;
  status: ExportOutcome;
  /** The download link (success only). */
  url: string | null;
  /** How long the link stays valid, in seconds. */
  linkTtlSeconds: number;
  /** Quay's REGISTRY_TITLE_SHORT (QUAYLOGS_REGISTRY_TITLE). */
  registryTitle: string;
  /** How many times generation was tried (shown for `failed`). */
  attempts?: number;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** The subject line Quay uses: `[<title>] Export Action Logs Complete`. */
export function exportMailSubject(registryTitle: string): string {
  return `[${registryTitle}] Export Action Logs Complete`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function humanDuration(seconds: number): string {
  const units: [number, string][] = [[86_400, 'day'], [3_600, 'hour'], [60, 'minute'], [1, 'second']];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} seconds`;
}

/** One sentence per outcome, as Quay's template words it (link and lifetime for success). */
function statusSentence(c: ExportMailContent): { text: string; html: string } {
  switch (c.status) {
    case 'success': {
      const url = c.url ?? '';
      const life = `${c.linkTtlSeconds} seconds`;
      const human = humanDuration(c.linkTtlSeconds);
      const extra = human === life ? '' : ` (${human})`;
      return {
        text: `The exported logs information can be found at ${url} and will remain accessible for ${life}${extra} before being deleted.`,
        html:
          `The exported logs information can be found at <a href="${escapeHtml(url)}">${escapeHtml(url)}</a> ` +
          `and will remain accessible for <b>${life}</b>${escapeHtml(extra)} before being deleted.`,
      };
    }
    case 'failed': {
      // Quay mails after each failed attempt ("will be retried up to 3 times"); quaylogs
      // mails once, after the last attempt, and says how many there were.
      const tried = c.attempts && c.attempts > 1 ? ` It was tried ${c.attempts} times.` : '';
      const s = `The attempt to export the logs in the specified range has failed.${tried} Please contact support if this problem persists.`;
      return { text: s, html: escapeHtml(s) };
    }
    case 'timedout': {
      const s = 'The attempt to export the logs in the specified range has timed out. Please contact support if this problem persists.';
      return { text: s, html: escapeHtml(s) };
    }
    case 'invalidrequest': {
      const s = 'The attempt to export the logs failed due to an invalid request. Please contact support if this problem persists.';
      return { text: s, html: escapeHtml(s) };
    }
  }
}

export function renderExportEmail(c: ExportMailContent): RenderedMail {
  const sentence = statusSentence(c);
  const td = (inner: string) => `<table><tr><td style="font-size: 13px;">${inner}</td></tr></table>`;
  const html = [
    '<!DOCTYPE html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(exportMailSubject(c.registryTitle))}</title></head>`,
    '<body style="font-family: Helvetica, Arial, sans-serif">',
    '<h3 style="font-weight: 400">Usage Logs Export has completed</h3>',
    `<h4>Export ID: ${escapeHtml(c.exportId)}</h4>`,
    '<hr style="border:none; border-top: 1px solid #D9D9D9; margin: 25px 0">',
    td(sentence.html),
    '<table style="margin: 25px 0 35px"><tr><td style="font-size: 13px;">If you did not initiate this operation, please delete this e-mail.</td></tr></table>',
    '<span style="font-size: 13px;">Best Wishes,</span><br>',
    `<span style="font-size: 13px;">The ${escapeHtml(c.registryTitle)} Team</span><br>`,
    '</body></html>',
  ].join('\n');
  const text = [
    '### Usage Logs Export has completed',
    '',
    `#### Export ID: ${c.exportId}`,
    '',
    '* * *',
    '',
    sentence.text,
    '',
    'If you did not initiate this operation, please delete this e-mail.',
    '',
    'Best Wishes,',
    `The ${c.registryTitle} Team`,
    '',
  ].join('\n');
  return { subject: exportMailSubject(c.registryTitle), text, html };
}

export interface MailAttachment {
  filename: string;
  contentType: string;
  content: Readable | Buffer;
}

export interface OutgoingMail extends RenderedMail {
  to: string;
  attachments?: MailAttachment[];
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  close(): void;
}

export interface MailerOptions {
  /** QUAYLOGS_SMTP_URL, e.g. `smtp://user:pass@mail:587` or `smtps://mail:465`. */
  smtpUrl: string;
  /** QUAYLOGS_MAIL_FROM. */
  from: string;
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
}

/** An SMTP mailer. Failures reject (the e-mail job retries). */
export function createMailer(opts: MailerOptions): Mailer {
  const transport = createTransport({
    url: opts.smtpUrl,
    connectionTimeout: opts.connectionTimeoutMs ?? 15_000,
    greetingTimeout: opts.greetingTimeoutMs ?? 15_000,
    socketTimeout: opts.socketTimeoutMs ?? 60_000,
  });
  return {
    async send(mail) {
      // Checked again here (the API refuses such addresses): one mailbox, handed to nodemailer
      // as an address object so it is never parsed as a list or header text.
      const to = parseSingleMailbox(mail.to);
      if (to === null) throw new Error(`not a single e-mail address: ${JSON.stringify(mail.to.slice(0, 100))}`);
      const info = await transport.sendMail({
        from: opts.from,
        to: { name: '', address: to },
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        ...(mail.attachments?.length
          ? { attachments: mail.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })) }
          : {}),
      });
      return { messageId: info.messageId };
    },
    close() {
      transport.close();
    },
  };
}
