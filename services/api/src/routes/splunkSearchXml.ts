/**
 * The response bodies of Splunk's REST API that splunk-sdk 2.1.0 parses, in their minimal
 * working form: Atom with the default namespace and `s:` keys, `eai:acl` in a job entry
 * (without it the SDK cannot work out the job's namespace), an integer-only version, and
 * `<response><messages><msg>` for errors (the SDK shows `./messages/msg` as the message).
 */

/** The version quaylogs reports: 9.0.2 or later makes the SDK use the v2 job paths. */
export const REPORTED_SPLUNK_VERSION = '9.3.0';

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = 'xmlns="http://www.w3.org/2005/Atom" xmlns:s="http://dev.splunk.com/ns/rest"';

export const XML_TYPE = 'text/xml; charset=UTF-8';

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const key = (name: string, value: string) => `<s:key name="${xmlEscape(name)}">${xmlEscape(value)}</s:key>`;

/** Splunk's error body. */
export function messageXml(text: string, type: 'FATAL' | 'ERROR' | 'WARN' | 'INFO' = 'FATAL'): string {
  return `${XML_DECL}<response><messages><msg type="${type}">${xmlEscape(text)}</msg></messages></response>\n`;
}

/** GET server/info. */
export function serverInfoXml(): string {
  return (
    `${XML_DECL}<feed ${NS}><title>server-info</title>` +
    `<entry><title>server-info</title><content type="text/xml"><s:dict>` +
    key('version', REPORTED_SPLUNK_VERSION) +
    key('serverName', 'quaylogs') +
    key('product_type', 'quaylogs') +
    `</s:dict></content></entry></feed>\n`
  );
}

/** POST search/jobs: the new job's sid. */
export function sidXml(sid: string): string {
  return `${XML_DECL}<response><sid>${xmlEscape(sid)}</sid></response>\n`;
}

/**
 * GET search/jobs/{sid}: a finished job. `eai:acl` (owner nobody, app search, sharing
 * global) sends the SDK's later requests to /servicesNS/nobody/search/….
 */
export function jobEntryXml(job: { sid: string; search: string; resultCount: number; eventCount: number }): string {
  return (
    `${XML_DECL}<entry ${NS}><title>${xmlEscape(job.search)}</title><id>${xmlEscape(job.sid)}</id>` +
    `<content type="text/xml"><s:dict>` +
    key('sid', job.sid) +
    key('dispatchState', 'DONE') +
    key('isDone', '1') +
    key('isFailed', '0') +
    key('isFinalized', '0') +
    key('doneProgress', '1.00000') +
    key('eventCount', String(job.eventCount)) +
    key('resultCount', String(job.resultCount)) +
    `<s:key name="eai:acl"><s:dict>${key('owner', 'nobody')}${key('app', 'search')}${key('sharing', 'global')}</s:dict></s:key>` +
    `</s:dict></content></entry>\n`
  );
}
