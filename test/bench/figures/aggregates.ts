/**
 * Q1–Q6: aggregate counts by kind and day.
 * PostgreSQL: Quay's get_aggregated_log_counts (lookups + one GROUP BY over logentry3).
 * quaylogs: aggregateUsageLogs, the function behind /aggregatelogs.
 */
import { aggregateUsageLogs, type LogFilter } from '@quaylogs/clickhouse';
import { compareAggregates } from '../compare.ts';
import { type BenchData, naiveUtc, type Window } from '../dataset.ts';
import { statementFloor } from '../floors.ts';
import { explainAnalyze } from '../pg/database.ts';
import { aggregateSql, getRepository, getUser, getUserOrOrg, quayAggregate, type QuayLogFilter, type ResolvedFilter } from '../pg/quayQueries.ts';
import { profileStatements, recordingStore } from '../quaylogsStore.ts';
import { timePair } from '../timing.ts';
import type { BenchContext, Figure, FigureId, Measurement, Target } from '../types.ts';

interface Question {
  window: Window;
  namespace?: string;
  repository?: { namespace: string; name: string };
  performer?: string;
  describe: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function aggregateFigure(id: FigureId, title: string, target: Target, pick: (d: BenchData) => Question, extraNotes: string[] = []): Figure {
  return {
    id,
    title,
    unit: 'ms',
    better: 'lower',
    target,
    unavailable: async () => null,
    async measure(ctx: BenchContext): Promise<Measurement> {
      const q = pick(ctx.data);
      const pgFilter: QuayLogFilter = {
        start: naiveUtc(q.window.start),
        end: naiveUtc(q.window.end),
        ...(q.namespace !== undefined ? { namespace: q.namespace } : {}),
        ...(q.repository !== undefined ? { repository: q.repository } : {}),
        ...(q.performer !== undefined ? { performer: q.performer } : {}),
      };
      // Quay's repository route filters by repository only; quaylogs scopes it to its namespace.
      const qlFilter: LogFilter = {
        start: q.window.start,
        end: q.window.end,
        ...(q.namespace !== undefined ? { namespace: q.namespace } : {}),
        ...(q.repository !== undefined ? { namespace: q.repository.namespace, repository: q.repository.name } : {}),
        ...(q.performer !== undefined ? { performer: q.performer } : {}),
      };
      const r = await timePair({
        runs: ctx.opts.runs,
        pg: () => quayAggregate(ctx.pg, pgFilter),
        quaylogs: () => aggregateUsageLogs(ctx.store, qlFilter),
        check: (a, b) => compareAggregates(a, b, ctx.data.ids.kindName),
      });

      // Profiles: PostgreSQL's plan for the GROUP BY, the statements quaylogs issued.
      const resolved: ResolvedFilter = {
        start: pgFilter.start,
        end: pgFilter.end,
      };
      if (q.repository) resolved.repositoryId = (await getRepository(ctx.pg, q.repository.namespace, q.repository.name))!.id;
      if (q.performer) resolved.performerId = (await getUser(ctx.pg, q.performer))!.id;
      if (q.namespace && !q.repository) resolved.accountId = (await getUserOrOrg(ctx.pg, q.namespace))!.id;
      const sql = aggregateSql(resolved);
      const pgPlan = await explainAnalyze(ctx.pg, sql.sql, sql.params);
      const rec = recordingStore(ctx.store);
      await aggregateUsageLogs(rec.store, qlFilter);
      const qlProfile = await profileStatements(ctx.storePath, rec.specs);
      // The rollup body's statement reduced to one count of one row: the floor of any aggregate.
      const { floor, note } = await statementFloor(ctx.store, ctx.opts.runs, () => aggregateUsageLogs(ctx.store, qlFilter), rec.specs, 'count');

      return {
        ...r, // pg, quaylogs, their runs and the answer check
        notes: [q.describe, ...extraNotes, note],
        floor,
        profile: { pg: pgPlan, quaylogs: qlProfile },
      };
    },
  };
}

const TRUE_DATE = 'PostgreSQL groups by CAST(datetime AS date); Quay groups by EXTRACT(day FROM datetime) (day of month) — same cost, comparable answers';

export const aggregateFigures: Figure[] = [
  aggregateFigure('Q1', 'aggregate, largest namespace, 30 days', { kind: 'ratio', min: 100, text: '≥ 100×' }, (d) => ({
    window: d.last30,
    namespace: d.subjects.top.namespace,
    describe: `namespace ${d.subjects.top.namespace} (${fmt(d.subjects.top.rows)} entries in 30 days)`,
  }), [TRUE_DATE]),
  aggregateFigure('Q2', 'aggregate, mid-size namespace, 30 days', { kind: 'ratio', min: 5, text: '≥ 5×' }, (d) => ({
    window: d.last30,
    namespace: d.subjects.mid.namespace,
    describe: `namespace ${d.subjects.mid.namespace} (${fmt(d.subjects.mid.rows)} entries in 30 days, closest to 1 % of the window)`,
  })),
  aggregateFigure('Q3', 'aggregate, one repository, 30 days', { kind: 'ratio', min: 5, text: '≥ 5×' }, (d) => ({
    window: d.last30,
    repository: { namespace: d.subjects.repository.namespace, name: d.subjects.repository.name },
    describe: `repository ${d.subjects.repository.namespace}/${d.subjects.repository.name} (${fmt(d.subjects.repository.rows)} entries in 30 days)`,
  })),
  aggregateFigure('Q4', 'aggregate, one performer, 30 days', { kind: 'ratio', min: 5, text: '≥ 5×' }, (d) => ({
    window: d.last30,
    namespace: d.subjects.performer.namespace,
    performer: d.subjects.performer.name,
    describe: `performer ${d.subjects.performer.name} in ${d.subjects.performer.namespace} (${fmt(d.subjects.performer.rows)} entries in 30 days; Quay's org route with ?performer=)`,
  })),
  aggregateFigure('Q5', 'aggregate, all namespaces, 30 days', { kind: 'ratio', min: 50, text: '≥ 50×' }, (d) => ({
    window: d.last30,
    describe: `all namespaces (${fmt(d.rowsIn30)} entries in 30 days; Quay's superuser aggregate)`,
  })),
  aggregateFigure('Q6', 'aggregate, all namespaces, 90 days', { kind: 'ratio', min: 50, text: '≥ 50×' }, (d) => ({
    window: d.last90,
    describe: `all namespaces (${fmt(d.rowsIn90)} entries in 90 days)`,
  }), ["Quay refuses aggregate ranges over 31 days (InvalidLogsDateRangeError); PostgreSQL here runs Quay's statement over 90 days"]),
];
