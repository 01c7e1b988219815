/**
 * The Splunk REST search API that Quay's `splunk` logs model calls (through splunk-sdk
 * 2.1.0) to read its usage logs back: Quay's Usage Logs page, aggregate chart, repository
 * action counter and log exports, answered from ClickHouse.
 *
 * Under `/services/…` and `/servicesNS/{owner}/{app}/…`, each with and without a trailing
 * slash:
 *   GET  server/info                                   version (v2 job paths)
 *   POST search/jobs, search/v2/jobs                   create a job (201, its sid)
 *   GET  search[/v2]/jobs/{sid}                        status: DONE at once, resultCount
 *   POST|GET search[/v2]/jobs/{sid}/results            rows, one line of JSON
 *   POST search[/v2]/jobs/{sid}/control                action=cancel (nothing to cancel)
 *
 * `Authorization: Splunk <token>` (or `Bearer`); QUAYLOGS_SEARCH_TOKENS maps each token to
 * the one source it reads. Form bodies are parsed whatever the Content-Type (the SDK sends
 * none). Every error is Splunk's XML body, never Quay's. These routes are Splunk's, not
 * Quay's API, so (like the HEC receiver) they are not in the discovery document.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { parseSpl, type SplQuery } from '../spl/parse.ts';
import { UnsupportedSpl } from '../spl/tokens.ts';
import { sourceTokenPairs } from './hec.ts';
import { SearchAnswers } from './splunkSearchAnswers.ts';
import { decodeSid, encodeSid, LATEST_QUERYABLE_MS, parseSplunkTime, type SearchJob, UnsupportedTime } from './splunkSearchJobs.ts';
import { jobEntryXml, messageXml, serverInfoXml, sidXml, XML_TYPE } from './splunkSearchXml.ts';

const FORM_BODY_LIMIT = 64 * 1024;

/** A request refused with Splunk's XML error body. */
export class SplunkError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: 'FATAL' | 'ERROR' | 'WARN' = 'FATAL',
  ) {
    super(message);
  }
}

const notAuthenticated = () => new SplunkError(401, 'call not properly authenticated', 'WARN');
const unknownSid = (sid: string) => new SplunkError(404, `Unknown sid: ${sid.length > 40 ? `${sid.slice(0, 40)}…` : sid}`);

/** Search tokens, compared in constant time; never logged. */
export class SearchTokens {
  private readonly entries: { digest: Buffer; source: string }[] = [];

  /** `source=token,source2=token2` (the form of QUAYLOGS_HEC_TOKENS). */
  constructor(spec: string | undefined) {
    for (const { source, token } of sourceTokenPairs(spec, 'QUAYLOGS_SEARCH_TOKENS')) {
      const digest = createHash('sha256').update(token).digest();
      if (this.entries.some((e) => e.digest.equals(digest))) throw new Error(`QUAYLOGS_SEARCH_TOKENS: a token is listed twice (source ${source})`);
      this.entries.push({ digest, source });
    }
  }

  get size(): number {
    return this.entries.length;
  }

  /** The source a presented token reads, or null. Every configured token is compared. */
  sourceOf(token: string): string | null {
    const digest = createHash('sha256').update(token).digest();
    let found: string | null = null;
    for (const e of this.entries) if (timingSafeEqual(e.digest, digest)) found = e.source;
    return found;
  }
}

function authenticate(tokens: SearchTokens, req: FastifyRequest): string {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^(?:Splunk|Bearer)\s+(\S+)\s*$/i.exec(header) : null;
  const source = m ? tokens.sourceOf(m[1]!) : null;
  if (source === null) throw notAuthenticated();
  return source;
}

/** Query-string and form parameters together (the form wins), first value of each. */
function requestParams(req: FastifyRequest): Map<string, string> {
  const out = new Map<string, string>();
  const query = (req.raw.url ?? '').split('?')[1];
  for (const [k, v] of new URLSearchParams(query ?? '')) if (!out.has(k)) out.set(k, v);
  if (typeof req.body === 'string' && req.body !== '') {
    const seen = new Set<string>();
    for (const [k, v] of new URLSearchParams(req.body)) {
      if (seen.has(k)) continue;
      seen.add(k);
      out.set(k, v);
    }
  }
  return out;
}

function nonNegativeInt(params: Map<string, string>, name: string): number | undefined {
  const v = params.get(name);
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,9}$/.test(v.trim())) throw new SplunkError(400, `${name}=${v.slice(0, 40)} must be a non-negative integer`);
  return Number(v.trim());
}

function sendXml(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type(XML_TYPE).send(body);
}

function splDisplay(q: SplQuery): string {
  const terms = [
    ...(q.account !== undefined ? [`account=${JSON.stringify(q.account)}`] : []),
    ...(q.performer !== undefined ? [`performer=${JSON.stringify(q.performer)}`] : []),
    ...(q.repository !== undefined ? [`repository=${JSON.stringify(q.repository)}`] : []),
    ...q.excludeKinds.map((k) => `kind!=${JSON.stringify(k)}`),
  ];
  const tail = { events: '', sorted: ' | sort -_time', count: ' | stats count', countByKindDay: ' | stats count by kind, log_date' }[q.command];
  return `search ${terms.join(' ')}${tail}`;
}

/** Registers the search API; a no-op when no search token is configured. */
export function registerSplunkSearch(app: FastifyInstance, ctx: AppContext): void {
  const tokens = new SearchTokens(ctx.config.QUAYLOGS_SEARCH_TOKENS);
  if (tokens.size === 0) return;
  const answers = new SearchAnswers(ctx.store, ctx.now);
  for (const prefix of ['/services', '/servicesNS/:owner/:app']) {
    void app.register(async (s) => searchRoutes(s, ctx, tokens, answers), { prefix });
  }
}

function searchRoutes(s: FastifyInstance, ctx: AppContext, tokens: SearchTokens, answers: SearchAnswers): void {
  s.removeAllContentTypeParsers();
  s.addContentTypeParser('*', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_req, body, done) => done(null, body));

  s.setErrorHandler((err: FastifyError | SplunkError, req, reply) => {
    if (err instanceof SplunkError) return sendXml(reply, err.status, messageXml(err.message, err.type));
    if (err instanceof UnsupportedSpl || err instanceof UnsupportedTime) return sendXml(reply, 400, messageXml(err.message));
    const status = (err as FastifyError).statusCode ?? 500;
    if (status >= 400 && status < 500) return sendXml(reply, status, messageXml(err.message));
    req.log.error({ err }, 'splunk search request failed');
    return sendXml(reply, 500, messageXml('Internal error while running the search'));
  });
  s.setNotFoundHandler((req, reply) => sendXml(reply, 404, messageXml(`Not Found: ${req.method} ${req.url.split('?')[0]}`, 'ERROR')));

  // Credentials before anything else, on every route (server/info included).
  s.addHook('onRequest', async (req) => {
    (req as FastifyRequest & { searchSource?: string }).searchSource = authenticate(tokens, req);
  });
  const sourceOf = (req: FastifyRequest) => (req as FastifyRequest & { searchSource?: string }).searchSource!;

  const route = (method: 'GET' | 'POST', url: string, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => {
    for (const u of [url, `${url}/`]) s.route({ method, url: u, handler });
  };
  const job = (req: FastifyRequest, sid: string): SearchJob => {
    const decoded = decodeSid(sid, ctx.secret, sourceOf(req), Date.now());
    if (!decoded) throw unknownSid(sid);
    return decoded;
  };

  route('GET', '/server/info', async (_req, reply) => sendXml(reply, 200, serverInfoXml()));

  const create = async (req: FastifyRequest, reply: FastifyReply) => {
    const params = requestParams(req);
    const search = params.get('search');
    if (search === undefined || search.trim() === '') throw new SplunkError(400, 'Missing search: the search parameter is required');
    const execMode = params.get('exec_mode') ?? 'normal';
    if (execMode !== 'normal' && execMode !== 'blocking') throw new SplunkError(400, `exec_mode=${execMode.slice(0, 20)} is not supported (normal or blocking)`);
    const query = parseSpl(search);
    const earliest = parseSplunkTime(params.get('earliest_time'), 'earliest_time', 0);
    const latest = parseSplunkTime(params.get('latest_time'), 'latest_time', LATEST_QUERYABLE_MS);
    const sid = encodeSid({ source: sourceOf(req), query, earliest, latest, created: Date.now() }, ctx.secret);
    return sendXml(reply, 201, sidXml(sid));
  };
  route('POST', '/search/jobs', create);
  route('POST', '/search/v2/jobs', create);

  const status = async (req: FastifyRequest, reply: FastifyReply, sid: string) => {
    const j = job(req, sid);
    const counts = await answers.jobCounts(j);
    return sendXml(reply, 200, jobEntryXml({ sid, search: splDisplay(j.query), ...counts }));
  };

  const results = async (req: FastifyRequest, reply: FastifyReply, sid: string) => {
    const j = job(req, sid);
    const params = requestParams(req);
    const mode = params.get('output_mode') ?? 'json';
    if (mode !== 'json') throw new SplunkError(400, `output_mode=${mode.slice(0, 20)} is not supported (json only)`);
    const offset = nonNegativeInt(params, 'offset') ?? 0;
    const count = nonNegativeInt(params, 'count');
    const page = await answers.jobResults(j, offset, count);
    // One line: the SDK parses the body line by line (JSON.stringify escapes every newline).
    const head = `{"preview":false,"init_offset":${offset},"messages":[],"fields":${JSON.stringify(page.fields.map((name) => ({ name })))},"results":`;
    const body = page.json
      ? Buffer.concat([Buffer.from(head), page.json, Buffer.from('}\n')])
      : `${head}${JSON.stringify(page.results)}}\n`;
    return reply.code(200).type('application/json; charset=UTF-8').send(body);
  };

  const control = async (req: FastifyRequest, reply: FastifyReply, sid: string) => {
    job(req, sid);
    const action = requestParams(req).get('action') ?? '';
    if (!['cancel', 'finalize', 'pause', 'unpause', 'touch', 'setttl', 'setpriority'].includes(action)) {
      throw new SplunkError(400, `action=${action.slice(0, 20)} is not supported`);
    }
    // A job is finished as soon as it exists: there is never anything to stop.
    return sendXml(reply, 200, messageXml(action === 'cancel' ? 'Search job cancelled.' : `Search job ${action}: nothing to do.`, 'INFO'));
  };

  // `{sid}[/]`, `{sid}/results[/]`, `{sid}/control[/]`. A wildcard rather than a `:sid`
  // parameter: a sid carries its whole query and is longer than the router's parameter limit.
  const jobPath = async (req: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
    const rest = req.params['*'].replace(/\/$/, '');
    const [sid = '', step = '', ...more] = rest.split('/');
    if (sid !== '' && more.length === 0) {
      if (step === '' && req.method === 'GET') return status(req, reply, sid);
      if (step === 'results') return results(req, reply, sid);
      if (step === 'control' && req.method === 'POST') return control(req, reply, sid);
    }
    throw new SplunkError(404, `Not Found: ${req.method} ${req.url.split('?')[0]}`, 'ERROR');
  };
  for (const jobs of ['/search/jobs/*', '/search/v2/jobs/*']) s.route({ method: ['GET', 'POST'], url: jobs, handler: jobPath });
}
