/**
 * Log exports (docs/compatibility.md) and their quaylogs extensions:
 * - POST /api/v1/{user | organization/{org} | repository/{ns}/{repo}}/exportlogs — Quay's
 *   request, checks, audit entries and `{"export_id"}` answer; the export runs as a job;
 * - GET /api/v1/exportlogs/{export_id} — what happened to an export;
 * - GET /exportedlogs/{file_id} — the file, behind a signed, expiring link (no auth);
 * - /api/v1/organization/{org}/exportschedules and /api/v1/superuser/exportschedules —
 *   recurring exports (exportSchedules.ts-backed job schedulers).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JobsOptions, Queue } from 'bullmq';
import {
  getExport,
  listExportDeliveries,
  overallExportStatus,
  putExport,
  queuedExport,
  repositoryExists,
} from '@quaylogs/clickhouse';
import { formatRfc2822, resolveLogWindow, toChDateTime, NO_EXTENDED_FIELDS } from '@quaylogs/core';
import {
  AllowList,
  checkDownloadLink,
  deriveLinkKeys,
  describeExportFile,
  type ExportStore,
  isValidFileId,
  localExportStore,
  MSG_INVALID_CALLBACK_URL,
  parseSingleMailbox,
  type Resolver,
  SsrfError,
  vetUrl,
} from '@quaylogs/delivery';
import {
  closeBullmq,
  openExportQueue,
  type Redis,
  submitExportJob,
} from '@quaylogs/queue';
import type { AppContext } from '../context.ts';
import { ApiError, forbidden, invalidRequest, MessageError, notFound, unauthenticated } from '../httpErrors.ts';
import { canAdminNamespace, canAdminRepository, type Principal } from '../principal.ts';
import { pathParams, type RequestOf, stringQuery } from '../routeRegistry.ts';
import { checkWindowStorable, type ExportBody, exportRequestFromBody, extensionOptions, FORMATS, parseBody, type Scope } from './exportRequest.ts';
import { registerScheduleRoutes } from './exportSchedules.ts';

export interface ExportsPluginDeps {
  /** A producer connection (`redisForProducers`): requests fail fast when Redis is away. */
  redis: Redis;
  /** Overrides the catalog's generation job options (tests use short backoffs). */
  generateJobOptions?: Partial<JobsOptions>;
  /** The SSRF guard's resolver (tests map names to addresses); default DNS. */
  resolve?: Resolver;
  /** Where export files are read from (default QUAYLOGS_DATA_DIR/exports). */
  files?: ExportStore;
  /** How long a request waits for Redis to take the job. */
  enqueueTimeoutMs?: number;
}

const AUDIT_SOURCE = 'quaylogs';

/** Quay's ExportLogs schema, with the quaylogs extensions listed beside it. */
const EXPORT_BODY = {
  type: 'object',
  description: 'Configuration for an export logs operation',
  properties: {
    callback_url: { type: 'string', description: 'The callback URL to invoke with a link to the exported logs' },
    callback_email: { type: 'string', description: 'The e-mail address at which to e-mail a link to the exported logs' },
    starttime: { type: 'string', description: 'quaylogs: the window start when not in the query string (MM/DD/YYYY or ISO-8601)' },
    endtime: { type: 'string', description: 'quaylogs: the window end when not in the query string (MM/DD/YYYY, whole day included, or ISO-8601)' },
    format: { type: 'string', enum: FORMATS, description: "quaylogs: json (Quay's export document, default), ndjson or csv" },
    compress: { type: 'string', enum: ['gzip'], description: 'quaylogs: gzip the file' },
    kind: { type: ['string', 'array'], description: 'quaylogs: only these log kinds (comma-separated or an array)' },
    performer: { type: 'string', description: 'quaylogs: only entries performed by this user or robot' },
    repository: { type: 'string', description: 'quaylogs: only this repository of the namespace (user and organization exports)' },
  },
};
const DATE_QUERY = stringQuery({
  starttime: 'Earliest time for logs. Format: "%m/%d/%Y" in UTC.',
  endtime: 'Latest time for logs. Format: "%m/%d/%Y" in UTC.',
});

function rfcOrNull(d: Date | null): string | null {
  return d ? formatRfc2822(d) : null;
}

/** Appended to Quay's generic refusal: how an operator admits a private callback target. */
export const SSRF_HINT =
  ' (private, loopback and reserved addresses are refused; the quaylogs operator can allow a host or CIDR with QUAYLOGS_SSRF_ALLOWED_HOSTS)';

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

export function exportsPlugin(deps: ExportsPluginDeps) {
  return async (app: FastifyInstance, ctx: AppContext): Promise<void> => {
    const queue: Queue = openExportQueue(deps.redis, deps.generateJobOptions);
    app.addHook('onClose', async () => {
      await closeBullmq(queue);
    });
    const files = deps.files ?? localExportStore(ctx.config.QUAYLOGS_DATA_DIR);
    const keys = deriveLinkKeys(ctx.secret);
    const allowList = AllowList.parse(ctx.config.QUAYLOGS_SSRF_ALLOWED_HOSTS);
    const ssrf = { allowList, ...(deps.resolve ? { resolve: deps.resolve } : {}) };
    const enqueueTimeoutMs = deps.enqueueTimeoutMs ?? 5_000;

    async function withTimeout<T>(what: Promise<T>): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the export queue did not answer in time')), enqueueTimeoutMs);
      });
      try {
        return await Promise.race([what, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }

    /** Quay's `_validate_callback_url`: blocked ⇒ a generic message, format problems verbatim. */
    async function checkCallbackUrl(url: string): Promise<void> {
      try {
        await vetUrl(url, ssrf);
      } catch (err) {
        if (!(err instanceof SsrfError)) throw err;
        if (err.kind === 'format') throw invalidRequest(err.message);
        // The caller learns only that the target is refused (no topology); the operator
        // reads why in the log, and the answer names the setting that admits a host.
        app.log.warn({ callback_host: hostOf(url), reason: err.message }, 'export callback URL refused by the SSRF guard');
        throw invalidRequest(`${MSG_INVALID_CALLBACK_URL}${SSRF_HINT}`);
      }
    }

    async function checkDestinations(body: { callback_url?: string | undefined; callback_email?: string | undefined }): Promise<void> {
      if (body.callback_url) await checkCallbackUrl(body.callback_url);
      if (body.callback_email) {
        if (parseSingleMailbox(body.callback_email) === null) throw invalidRequest('Invalid callback e-mail');
        if (!ctx.config.QUAYLOGS_SMTP_URL) throw invalidRequest('E-mail delivery is not configured on this server (QUAYLOGS_SMTP_URL)');
      }
    }

    async function audit(
      req: FastifyRequest,
      performer: string,
      namespace: string,
      kind: 'export_logs_success' | 'export_logs_failure',
      metadata: Record<string, unknown>,
    ): Promise<void> {
      await ctx.audit.write([
        {
          source: AUDIT_SOURCE,
          namespace,
          repository: '', // Quay does not link the repository (repo exports show in the namespace's log)
          kind,
          performer,
          ip: req.ip,
          datetime: toChDateTime(new Date()),
          metadata: JSON.stringify(metadata),
          ...NO_EXTENDED_FIELDS,
        },
      ]);
    }

    function auditFailure(req: FastifyRequest, p: Principal, namespace: string, body: ExportBody, error: string, repo: string | null) {
      return audit(req, p.username, namespace, 'export_logs_failure', {
        'date/time': Math.floor(Date.now() / 1000),
        error,
        url: body.callback_url || null,
        email: body.callback_email || null,
        ...(repo ? { repo } : {}),
      });
    }

    /** Quay's `_queue_logs_export` and the audit entries around it. */
    async function queueExport(
      req: FastifyRequest<{ Querystring: { starttime?: string; endtime?: string } }>,
      p: Principal,
      scope: Scope,
      namespace: string,
      repo: string | null,
      body: ExportBody,
    ): Promise<string> {
      const q = req.query;
      let target: { repository: string | null; options: ReturnType<typeof extensionOptions>; window: { start: Date; end: Date } };
      let failure = 'invalid request';
      // Dates the store cannot hold are refused before anything (even the failure audit) is written.
      checkWindowStorable(resolveLogWindow(q.starttime ?? body.starttime, q.endtime ?? body.endtime));
      try {
        await checkDestinations(body);
        const options = extensionOptions(body, scope);
        // Quay reads the dates from the query string only; quaylogs also takes them from the body.
        const window = resolveLogWindow(q.starttime ?? body.starttime, q.endtime ?? body.endtime);
        if (window.end < window.start) {
          failure = 'Invalid time span selected';
          throw invalidRequest(failure);
        }
        target = { repository: repo ?? options.repository, options, window };
      } catch (err) {
        if (err instanceof ApiError) await auditFailure(req, p, namespace, body, failure, repo);
        throw err;
      }
      const exportId = randomUUID();
      const { options, window } = target;
      const request = exportRequestFromBody(body, options, {
        exportId,
        scope,
        namespace,
        repository: target.repository,
        requestedBy: p.username,
        window,
      });
      const record = queuedExport(request);
      await putExport(ctx.store, record);
      try {
        await withTimeout(submitExportJob(queue, request));
      } catch (err) {
        req.log.error({ err, export_id: exportId }, 'export could not be queued');
        await putExport(ctx.store, { ...record, status: 'failed', outcome: 'failed', last_error: 'could not be queued', updated: new Date() });
        throw new MessageError(503, 'The export could not be queued; please try again later');
      }
      await audit(req, p.username, namespace, 'export_logs_success', {
        'date/time': Math.floor(Date.now() / 1000),
        export_id: exportId,
        message: 'queued for export',
        url: body.callback_url || null,
        email: body.callback_email || null,
        ...(repo ? { repo } : {}),
      });
      return exportId;
    }

    // The body is checked in the handler, in Quay's order relative to the permission check.
    const exportDoc = (url: string, operationId: string, description: string, scopeName: string) =>
      ({
        method: 'POST',
        url,
        operationId,
        tag: 'logs',
        description,
        scope: scopeName,
        querystring: DATE_QUERY,
        body: EXPORT_BODY,
        bodyCheckedByHandler: true,
        bodyName: 'ExportLogs',
        success: { status: 200, description: 'Successful invocation' },
      }) as const;

    ctx.registry.define(
      app,
      exportDoc('/api/v1/user/exportlogs', 'exportUserLogs', 'Returns the aggregated logs for the current user.', 'user:admin'),
      async (req) => {
        const p = await ctx.auth.principal(req);
        if (!p) throw unauthenticated();
        const body = parseBody(req.body);
        return { export_id: await queueExport(req, p, 'user', p.username, null, body) };
      },
    );

    const orgParams = { orgname: 'The name of the organization' };
    ctx.registry.define(
      app,
      {
        ...exportDoc('/api/v1/organization/:orgname/exportlogs', 'exportOrgLogs', 'Exports the logs for the specified organization.', 'org:admin'),
        params: pathParams(orgParams),
      },
      async (req) => {
        const p = await ctx.auth.principal(req);
        const body = parseBody(req.body);
        const { orgname } = req.params;
        if (!p) throw unauthenticated();
        if (!canAdminNamespace(p, orgname)) {
          // Quay writes this into the organization's log although the caller may not read it.
          await auditFailure(req, p, orgname, body, 'unauthorized', null);
          throw forbidden();
        }
        return { export_id: await queueExport(req, p, 'organization', orgname, null, body) };
      },
    );

    const repoParams = { namespace: 'The namespace of the repository', repo: 'The name of the repository' };
    ctx.registry.define(
      app,
      {
        ...exportDoc('/api/v1/repository/:namespace/:repo/exportlogs', 'exportRepoLogs', 'Queues an export of the logs for the specified repository.', 'repo:admin'),
        params: pathParams(repoParams),
      },
      async (req) => {
        const p = await ctx.auth.principal(req);
        if (!p) throw unauthenticated();
        const { namespace, repo } = req.params;
        if (!canAdminRepository(p, namespace, repo)) throw forbidden();
        const body = parseBody(req.body);
        if (!(await repositoryExists(ctx.store, namespace, repo))) {
          await auditFailure(req, p, namespace, body, 'non-existent repository', repo);
          throw notFound();
        }
        return { export_id: await queueExport(req, p, 'repository', namespace, repo, body) };
      },
    );

    // ---- status ----

    ctx.registry.define(
      app,
      {
        method: 'GET',
        url: '/api/v1/exportlogs/:export_id',
        operationId: 'getExportStatus',
        tag: 'logs',
        extension: true,
        description: 'quaylogs: the status of a log export: generation, rows, bytes, each delivery channel, and the download link while it is valid.',
        scope: 'org:admin',
        params: pathParams({ export_id: 'The export id returned by exportlogs' }),
      },
      async (req) => {
        const p = await ctx.auth.principal(req);
        if (!p) throw unauthenticated();
        const { export_id } = req.params;
        const e = await getExport(ctx.store, export_id);
        if (!e) throw notFound();
        const allowed = e.repository ? canAdminRepository(p, e.namespace, e.repository) : canAdminNamespace(p, e.namespace);
        if (!allowed) throw forbidden();
        const deliveries = await listExportDeliveries(ctx.store, export_id);
        const linkValid = e.link_url !== '' && e.link_expires !== null && e.link_expires.getTime() > Date.now();
        const channels: Record<string, unknown> = {};
        for (const d of deliveries) {
          channels[d.channel] = {
            target: d.target,
            status: d.status,
            reports: d.reports,
            attempts: d.attempts,
            last_error: d.last_error || null,
            ...(d.channel === 'callback' ? { last_status_code: d.last_status_code || null, webhook_id: d.webhook_id } : {}),
            next_attempt: rfcOrNull(d.next_attempt),
            delivered_at: rfcOrNull(d.delivered_at),
          };
        }
        for (const [channel, target] of [['callback', e.callback_url], ['email', e.callback_email]] as const) {
          if (target && !(channel in channels)) channels[channel] = { target, status: 'pending', attempts: 0, last_error: null };
        }
        return {
          export_id: e.export_id,
          status: overallExportStatus(e, deliveries),
          namespace: e.namespace,
          repository: e.repository || null,
          start_time: formatRfc2822(e.window_start),
          end_time: formatRfc2822(e.window_end),
          format: e.format,
          compress: e.compress || null,
          filters: { kind: e.kinds, performer: e.performer || null },
          requested_by: e.requested_by,
          schedule_id: e.schedule_id || null,
          created: formatRfc2822(e.created),
          updated: formatRfc2822(e.updated),
          generation: { status: e.status, outcome: e.outcome || null, attempts: e.attempts, last_error: e.last_error || null },
          rows: e.rows,
          bytes: e.bytes,
          exported_data_url: linkValid ? e.link_url : null,
          expires: linkValid ? formatRfc2822(e.link_expires!) : null,
          channels,
        };
      },
    );

    // ---- the file (Quay's /exportedlogs/<file id>, no auth: the signed link is the credential) ----

    const fileSchema = { params: pathParams({ file_id: 'Export file id' }), querystring: stringQuery({ expires: 'Unix seconds', signature: 'Link signature' }) };
    app.route<RequestOf<typeof fileSchema>>({
      method: 'GET',
      url: '/exportedlogs/:file_id',
      schema: fileSchema,
      handler: async (req, reply) => {
        const { file_id } = req.params;
        const query = req.query;
        if (!isValidFileId(file_id)) throw notFound();
        const check = checkDownloadLink(file_id, query, keys);
        if (check === 'invalid') throw notFound();
        if (check === 'expired') throw new MessageError(410, 'This download link has expired');
        const e = await getExport(ctx.store, file_id.slice(0, 36));
        const file = e && e.file_id === file_id ? await files.open(file_id) : null;
        if (!e || !file) throw notFound();
        const desc = describeExportFile(e.export_id, e.format, e.compress === 'gzip');
        return reply
          .header('content-type', desc.contentType)
          .header('content-length', String(file.size))
          .header('content-disposition', `attachment; filename="${desc.filename}"`)
          .header('cache-control', 'private, no-store')
          .send(file.stream);
      },
    });

    // ---- scheduled exports ----
    registerScheduleRoutes(app, ctx, queue, checkDestinations);
  };
}

