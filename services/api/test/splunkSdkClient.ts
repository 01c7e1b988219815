/**
 * A test client that sends exactly the HTTP requests splunk-sdk 2.1.0 sends when Quay's
 * splunk_search_client.py runs a search (Quay's data/logs_model/splunk_search_client.py;
 * splunklib binding.py / client.py / results.py at tag 2.1.0), with undici, one new
 * connection per request, to a real listening server:
 *
 *   once:        GET /services/server/info  (twice: instance type, then version)
 *   per search:  POST /services/search/v2/jobs/   form search, exec_mode, [count, offset],
 *                                                [earliest_time, latest_time]
 *                GET  /services/search/v2/jobs/{sid}
 *                POST {NS}/search/v2/jobs/{sid}/results  form output_mode=json, [count],
 *                                                [offset when > 0], segmentation=none
 *   (v1 — version below 9.0.2: no /v2, and results is a GET with a query string)
 *
 * POST bodies are form-encoded (spaces as +) and carry no Content-Type, as the SDK's do.
 * {NS} comes from the job entry's eai:acl like the SDK's _proper_namespace.
 */
import { request } from 'undici';

export interface SdkResponse {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

export class SplunkHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${/<msg[^>]*>([^<]*)<\/msg>/.exec(body)?.[1] ?? body.slice(0, 200)}`);
  }
}

/** Python's urllib.parse.urlencode: spaces as +, everything else percent-encoded. */
export function formEncode(fields: [string, string | number][]): string {
  return new URLSearchParams(fields.map(([k, v]): [string, string] => [k, String(v)])).toString();
}

/** The value of `<s:key name="…">` in an Atom entry (first match, top level or in eai:acl). */
export function atomKey(xml: string, name: string): string | undefined {
  const m = new RegExp(`<s:key name="${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}">([^<]*)</s:key>`).exec(xml);
  return m?.[1];
}

export interface SearchOptions {
  count?: number;
  offset?: number;
  earliest?: string;
  latest?: string;
}

export class SplunkSdkClient {
  /** Every request sent, in order: `METHOD path`. */
  readonly log: string[] = [];
  private v2: boolean | null = null;

  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly forceV1 = false,
  ) {}

  async send(method: 'GET' | 'POST', path: string, form?: [string, string | number][]): Promise<SdkResponse> {
    const url = new URL(path, this.base);
    const body = method === 'POST' ? formEncode(form ?? []) : undefined;
    if (method === 'GET' && form && form.length) url.search = formEncode(form);
    const headers: Record<string, string> = {
      host: url.hostname,
      'user-agent': 'splunk-sdk-python/2.1.0',
      accept: '*/*',
      authorization: `Splunk ${this.token}`,
      'accept-encoding': 'identity',
      'content-length': String(body === undefined ? 0 : Buffer.byteLength(body)),
    };
    this.log.push(`${method} ${url.pathname}${url.search}`);
    const res = await request(url, { method, headers, reset: true, ...(body !== undefined ? { body } : {}) });
    const text = await res.body.text();
    return { status: res.statusCode, text, headers: res.headers };
  }

  private async ok(method: 'GET' | 'POST', path: string, form?: [string, string | number][]): Promise<SdkResponse> {
    const r = await this.send(method, path, form);
    if (r.status >= 400) throw new SplunkHttpError(r.status, r.text);
    return r;
  }

  /** Jobs.__init__: server/info twice, then v2 when version >= 9.0.2. */
  async jobsApi(): Promise<'v1' | 'v2'> {
    if (this.v2 === null) {
      await this.ok('GET', '/services/server/info');
      const info = await this.ok('GET', '/services/server/info');
      const version = (atomKey(info.text, 'version') ?? '').split('.').map((p) => {
        if (!/^\d+$/.test(p)) throw new Error(`version part ${p} is not an integer`);
        return Number(p);
      });
      const [a = 0, b = 0, c = 0] = version;
      this.v2 = !this.forceV1 && (a > 9 || (a === 9 && (b > 0 || c >= 2)));
    }
    return this.v2 ? 'v2' : 'v1';
  }

  /** service.jobs.create + is_done + results, as ssc.search / search_with_stats / count do. */
  async run(spl: string, create: [string, string | number][], results: [string, string | number][]): Promise<{ rows: Record<string, unknown>[]; resultCount: number; sid: string }> {
    const jobs = (await this.jobsApi()) === 'v2' ? 'search/v2/jobs' : 'search/jobs';
    const created = await this.ok('POST', `/services/${jobs}/`, [['search', spl], ...create]);
    const sid = /<sid>([^<]*)<\/sid>/.exec(created.text)?.[1];
    if (!sid) throw new Error(`no sid in ${created.text}`);
    const state = await this.ok('GET', `/services/${jobs}/${encodeURIComponent(sid)}`);
    if (!state.text.includes('<entry')) throw new Error('the job state is not an <entry>');
    if (atomKey(state.text, 'isDone') !== '1') throw new Error('the job is not done at its first status request');
    const resultCount = Number.parseInt(atomKey(state.text, 'resultCount') ?? '', 10);
    if (!Number.isInteger(resultCount)) throw new Error('resultCount is not an integer');
    const owner = atomKey(state.text, 'owner');
    const app = atomKey(state.text, 'app');
    const sharing = atomKey(state.text, 'sharing');
    if (owner === undefined || app === undefined || sharing === undefined) throw new Error('the job entry has no eai:acl');
    const ns = sharing === 'global' || sharing === 'app' ? `/servicesNS/nobody/${app}` : `/servicesNS/${owner || 'nobody'}/${app || 'system'}`;
    const path = `${ns}/${jobs}/${encodeURIComponent(sid)}/results`;
    const args: [string, string | number][] = [...results, ['segmentation', 'none']];
    const r = this.v2 ? await this.ok('POST', path, args) : await this.ok('GET', path, args);
    const rows: Record<string, unknown>[] = [];
    for (const line of r.text.split('\n')) {
      if (line.trim() === '') continue;
      const doc = JSON.parse(line) as { results?: Record<string, unknown>[]; result?: Record<string, unknown> };
      if (doc.result) rows.push(doc.result);
      for (const row of doc.results ?? []) rows.push(row);
    }
    return { rows, resultCount, sid };
  }

  private static times(o: SearchOptions): [string, string][] {
    return [...(o.earliest ? [['earliest_time', o.earliest] as [string, string]] : []), ...(o.latest ? [['latest_time', o.latest] as [string, string]] : [])];
  }

  /** ssc.search: pages (count 21) and export batches. */
  search(spl: string, o: SearchOptions & { count: number; offset: number }) {
    return this.run(
      spl,
      [['exec_mode', 'normal'], ['count', o.count], ['offset', o.offset], ...SplunkSdkClient.times(o)],
      [['output_mode', 'json'], ['count', o.count], ...(o.offset > 0 ? [['offset', o.offset] as [string, number]] : [])],
    );
  }

  /** ssc.search_with_stats: the aggregate chart. */
  searchWithStats(spl: string, o: SearchOptions = {}) {
    return this.run(spl, [['exec_mode', 'normal'], ...SplunkSdkClient.times(o)], [['output_mode', 'json']]);
  }

  /** ssc.count: the repository action counter (`… | stats count`), 0 without rows. */
  async count(spl: string, o: SearchOptions = {}): Promise<number> {
    const r = await this.run(spl, [['exec_mode', 'normal'], ...SplunkSdkClient.times(o)], [['output_mode', 'json']]);
    const first = r.rows[0];
    return first && 'count' in first ? Number.parseInt(String(first.count), 10) : 0;
  }
}
