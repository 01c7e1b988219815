/**
 * Scheduled exports (a quaylogs extension): POST/GET/DELETE
 * /api/v1/organization/{org}/exportschedules and the superuser form. Each period is
 * exported once, by the exporter's job schedulers (services/exporter/src/scheduleJobs.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Queue } from 'bullmq';
import {
  deleteSchedule,
  getSchedule,
  lastScheduleRun,
  listSchedules,
  putSchedule,
  type ScheduleRecord,
} from '@quaylogs/clickhouse';
import { formatRfc2822 } from '@quaylogs/core';
import {
  removeExportScheduler,
  exportSchedulerId,
  upsertExportScheduler,
} from '@quaylogs/queue';
import type { AppContext } from '../context.ts';
import { forbidden, invalidRequest, notFound, unauthenticated } from '../httpErrors.ts';
import { canAdminNamespace, type Principal } from '../principal.ts';
import { pathParams } from '../routeRegistry.ts';
import { type ExportBody, extensionOptions, FORMATS, parseBody, pyRepr } from './exportRequest.ts';

const SCHEDULE_BODY = {
  type: 'object',
  description: 'A recurring export: every period (the previous day, week, or cron period, UTC) is exported once.',
  properties: {
    every: { type: 'string', enum: ['daily', 'weekly'], description: 'daily (00:00 UTC, the previous day) or weekly (Monday 00:00 UTC, the previous week)' },
    cron: { type: 'string', description: 'Or a 5-field cron pattern (UTC); the period is from its previous occurrence to this one' },
    namespace: { type: 'string', description: 'The namespace (superuser form only)' },
    repository: { type: 'string', description: 'Only this repository of the namespace' },
    callback_url: { type: 'string', description: 'Callback URL (as exportlogs)' },
    callback_email: { type: 'string', description: 'E-mail address (as exportlogs)' },
    format: { type: 'string', enum: FORMATS },
    compress: { type: 'string', enum: ['gzip'] },
    kind: { type: ['string', 'array'], description: 'Only these log kinds' },
    performer: { type: 'string', description: 'Only entries performed by this user or robot' },
  },
} as const;

const PRESETS = { daily: '0 0 * * *', weekly: '0 0 * * 1' } as const;
const CRON = /^\s*\S+(\s+\S+){4}\s*$/;

export function registerScheduleRoutes(
  app: FastifyInstance,
  ctx: AppContext,
  queue: Queue,
  checkDestinations: (b: { callback_url?: string | undefined; callback_email?: string | undefined }) => Promise<void>,
): void {
  async function view(s: ScheduleRecord) {
    const last = await lastScheduleRun(ctx.store, s.schedule_id);
    const scheduler = await queue.getJobScheduler(exportSchedulerId(s.schedule_id)).catch(() => undefined);
    const next = scheduler?.next ? new Date(Number(scheduler.next)) : null;
    return {
      id: s.schedule_id,
      namespace: s.namespace,
      repository: s.repository || null,
      every: s.every,
      cron: s.pattern,
      format: s.format,
      compress: s.compress || null,
      callback_url: s.callback_url || null,
      callback_email: s.callback_email || null,
      filters: { kind: s.kinds, performer: s.performer || null },
      created_by: s.created_by,
      created: formatRfc2822(s.created),
      next_run: next ? formatRfc2822(next) : null,
      last_period: last ? { start_time: formatRfc2822(last.window_start), end_time: formatRfc2822(last.window_end), export_id: last.export_id } : null,
    };
  }

  async function create(req: FastifyRequest, reply: FastifyReply, p: Principal, namespace: string) {
    const raw = parseBody(req.body) as ExportBody & { every?: unknown; cron?: unknown };
    if (raw.every !== undefined && typeof raw.every !== 'string') throw invalidRequest(`${pyRepr(raw.every)} is not of type 'string'`);
    if (raw.cron !== undefined && typeof raw.cron !== 'string') throw invalidRequest(`${pyRepr(raw.cron)} is not of type 'string'`);
    if ((raw.every === undefined) === (raw.cron === undefined)) throw invalidRequest("give either 'every' (daily or weekly) or 'cron'");
    let every: ScheduleRecord['every'];
    let pattern: string;
    if (raw.every !== undefined) {
      if (raw.every !== 'daily' && raw.every !== 'weekly') throw invalidRequest("every must be 'daily' or 'weekly'");
      every = raw.every;
      pattern = PRESETS[raw.every];
    } else {
      if (!CRON.test(raw.cron as string)) throw invalidRequest('cron must be a 5-field cron pattern (minute hour day month weekday), in UTC');
      every = 'cron';
      pattern = (raw.cron as string).trim().replace(/\s+/g, ' ');
    }
    if (!raw.callback_url && !raw.callback_email) throw invalidRequest('a schedule needs callback_url or callback_email');
    await checkDestinations(raw);
    const options = extensionOptions(raw, 'organization');
    const schedule: ScheduleRecord = {
      schedule_id: randomUUID(),
      namespace,
      repository: options.repository ?? '',
      created_by: p.username,
      every,
      pattern,
      kinds: options.kinds,
      performer: options.performer ?? '',
      format: options.format,
      compress: options.compress ?? '',
      callback_url: raw.callback_url || '',
      callback_email: raw.callback_email || '',
      created: new Date(),
    };
    try {
      await upsertExportScheduler(queue, schedule);
    } catch (err) {
      const message = (err as Error).message ?? '';
      if (every === 'cron') throw invalidRequest(`invalid cron pattern: ${message.split('\n')[0]}`);
      throw err;
    }
    await putSchedule(ctx.store, schedule);
    return reply.code(201).send(await view(schedule));
  }

  async function remove(reply: FastifyReply, s: ScheduleRecord | null) {
    if (!s) throw notFound();
    await deleteSchedule(ctx.store, s);
    await removeExportScheduler(queue, s.schedule_id);
    return reply.code(204).send();
  }

  const orgParams = { orgname: 'The name of the organization' };
  const scheduleParams = { ...orgParams, schedule_id: 'The schedule id' };
  const common = { tag: 'logs', extension: true as const, scope: 'org:admin' };
  async function orgAdmin(req: FastifyRequest<{ Params: { orgname: string } }>): Promise<{ p: Principal; org: string }> {
    const p = await ctx.auth.principal(req);
    if (!p) throw unauthenticated();
    const { orgname } = req.params;
    if (!canAdminNamespace(p, orgname)) throw forbidden();
    return { p, org: orgname };
  }

  ctx.registry.define(
    app,
    {
      ...common,
      method: 'POST',
      url: '/api/v1/organization/:orgname/exportschedules',
      operationId: 'createOrgExportSchedule',
      description: 'quaylogs: creates a recurring export of the organization’s logs.',
      params: pathParams(orgParams),
      body: SCHEDULE_BODY,
      bodyCheckedByHandler: true,
      bodyName: 'ExportSchedule',
    },
    async (req, reply) => {
      const { p, org } = await orgAdmin(req);
      return create(req, reply, p, org);
    },
  );
  ctx.registry.define(
    app,
    {
      ...common,
      method: 'GET',
      url: '/api/v1/organization/:orgname/exportschedules',
      operationId: 'listOrgExportSchedules',
      description: 'quaylogs: the organization’s recurring exports.',
      params: pathParams(orgParams),
    },
    async (req) => {
      const { org } = await orgAdmin(req);
      return { schedules: await Promise.all((await listSchedules(ctx.store, org)).map(view)) };
    },
  );
  ctx.registry.define(
    app,
    {
      ...common,
      method: 'DELETE',
      url: '/api/v1/organization/:orgname/exportschedules/:schedule_id',
      operationId: 'deleteOrgExportSchedule',
      description: 'quaylogs: deletes a recurring export.',
      params: pathParams(scheduleParams),
      success: { status: 204,
      description: 'Deleted' },
    },
    async (req, reply) => {
      const { org } = await orgAdmin(req);
      const s = await getSchedule(ctx.store, req.params.schedule_id);
      return remove(reply, s && s.namespace === org ? s : null);
    },
  );

  const su = { tag: 'superuser', extension: true as const, scope: 'super:user' };
  async function superuser(req: FastifyRequest): Promise<Principal> {
    const p = await ctx.auth.principal(req);
    if (!p) throw unauthenticated();
    if (!p.superuser) throw forbidden();
    return p;
  }
  ctx.registry.define(
    app,
    {
      ...su,
      method: 'POST',
      url: '/api/v1/superuser/exportschedules',
      operationId: 'createExportSchedule',
      description: 'quaylogs: creates a recurring export of any namespace (body `namespace`).',
      body: SCHEDULE_BODY,
      bodyCheckedByHandler: true,
      bodyName: 'ExportSchedule',
    },
    async (req, reply) => {
      const p = await superuser(req);
      const body = req.body;
      const ns = typeof body === 'object' && body !== null && 'namespace' in body ? body.namespace : undefined;
      if (typeof ns !== 'string' || ns.trim() === '') throw invalidRequest('namespace is required');
      return create(req, reply, p, ns.trim());
    },
  );
  ctx.registry.define(
    app,
    { ...su, method: 'GET', url: '/api/v1/superuser/exportschedules', operationId: 'listExportSchedules', description: 'quaylogs: every recurring export.' },
    async (req) => {
      await superuser(req);
      return { schedules: await Promise.all((await listSchedules(ctx.store)).map(view)) };
    },
  );
  ctx.registry.define(
    app,
    {
      ...su,
      method: 'DELETE',
      url: '/api/v1/superuser/exportschedules/:schedule_id',
      operationId: 'deleteExportSchedule',
      description: 'quaylogs: deletes any recurring export.',
      params: pathParams({ schedule_id: 'The schedule id' }),
      success: { status: 204,
      description: 'Deleted' },
    },
    async (req, reply) => {
      await superuser(req);
      return remove(reply, await getSchedule(ctx.store, req.params.schedule_id));
    },
  );
}
