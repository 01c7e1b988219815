/**
 * Turns measurements into results (ratio, target met or missed and by how much)
 * and renders the table.
 */
import type { Figure, FigureId, FigureResult, Measurement, Target } from './types.ts';

/** How many times better quaylogs is than PostgreSQL (>1: quaylogs better). */
export function ratioOf(fig: Pick<Figure, 'better'>, m: Pick<Measurement, 'pg' | 'quaylogs'>): number | null {
  if (m.pg === null || m.quaylogs === null || !(m.pg > 0) || !(m.quaylogs > 0)) return null;
  return fig.better === 'lower' ? m.pg / m.quaylogs : m.quaylogs / m.pg;
}

export function fmtRatio(r: number): string {
  if (r >= 100) return `${Math.round(r)}×`;
  if (r >= 10) return `${r.toFixed(1)}×`;
  return `${r.toFixed(2)}×`;
}

export function fmtValue(v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return '—';
  if (unit === 'ms') return v >= 100 ? `${Math.round(v).toLocaleString('en-US')} ms` : v >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`;
  if (unit === 'bytes/row') return `${v.toFixed(1)} B/row`;
  if (unit === 'MB') return `${v.toFixed(1)} MB`;
  return `${Math.round(v).toLocaleString('en-US')} ${unit}`;
}

/**
 * `earlier`: the quaylogs values of the figures measured before this one in the same run,
 * for targets relative to another figure (I1 against I0).
 */
export function judge(fig: Figure, m: Measurement, seconds: number, earlier: ReadonlyMap<FigureId, number> = new Map()): FigureResult {
  const ratio = ratioOf(fig, m);
  const base: FigureResult = {
    id: fig.id,
    title: fig.title,
    unit: fig.unit,
    status: 'measured',
    pg: m.pg,
    quaylogs: m.quaylogs,
    ratio,
    target: fig.target?.text ?? null,
    met: null,
    check: m.check,
    ...(m.pgRuns ? { pgRuns: m.pgRuns } : {}),
    ...(m.quaylogsRuns ? { quaylogsRuns: m.quaylogsRuns } : {}),
    ...(m.notes ? { notes: m.notes } : {}),
    ...(m.profile ? { profile: m.profile } : {}),
    ...(m.floor ? { floor: m.floor } : {}),
    seconds,
  };
  if (!m.check.equal) return { ...base, status: 'failed', reason: `answers differ: ${m.check.detail}` };
  const t = fig.target;
  if (!t) return base;
  const parts = t.kind === 'all' ? t.of : [t];
  const misses: string[] = [];
  const unjudged: string[] = [];
  for (const part of parts) {
    const verdict = judgePart(fig, m, ratio, part, earlier);
    if (verdict.failed) return { ...base, status: 'failed', reason: verdict.failed };
    if (verdict.unjudged) unjudged.push(verdict.unjudged);
    if (verdict.miss) misses.push(verdict.miss);
  }
  if (misses.length) {
    if (m.floor) misses.push(floorVerdict(fig, m.floor));
    return { ...base, status: 'missed', met: false, miss: misses.join('; ') };
  }
  if (unjudged.length) return { ...base, notes: [...(m.notes ?? []), ...unjudged] };
  return { ...base, status: 'met', met: true };
}

/** The quaylogs value of every figure measured (met, missed or without a target) so far. */
export function measuredSoFar(results: readonly FigureResult[]): Map<FigureId, number> {
  const out = new Map<FigureId, number>();
  for (const r of results) if (r.quaylogs !== null && (r.status === 'met' || r.status === 'missed' || r.status === 'measured')) out.set(r.id, r.quaylogs);
  return out;
}

type PartVerdict = { miss?: string; failed?: string; unjudged?: string };

function judgePart(
  fig: Figure,
  m: Measurement,
  ratio: number | null,
  t: Exclude<Target, { kind: 'all' }>,
  earlier: ReadonlyMap<FigureId, number>,
): PartVerdict {
  if (t.kind === 'ratio') {
    if (ratio === null) return { failed: 'no ratio: a side has no value' };
    if (ratio >= t.min) return {};
    const factor = t.min / ratio;
    return {
      miss: `${fmtRatio(ratio)} against ${t.text}: quaylogs must get ${factor.toFixed(2)}× faster (${fmtValue(fig.better === 'lower' ? (m.pg ?? 0) / t.min : (m.pg ?? 0) * t.min, fig.unit)} or better)`,
    };
  }
  const v = t.kind === 'maxValue' ? (m.values?.[t.key] ?? null) : m.quaylogs;
  if (v === null) return { failed: t.kind === 'maxValue' ? `no ${t.key} value measured` : 'quaylogs has no value' };
  let limit: number;
  let atMost: boolean;
  if (t.kind === 'minOf' || t.kind === 'maxOver') {
    const other = earlier.get(t.figure);
    if (other === undefined) return { unjudged: `target "${t.text}" not judged: ${t.figure} was not measured in this run` };
    limit = t.kind === 'minOf' ? other * t.fraction : other + t.plus;
    atMost = t.kind === 'maxOver';
  } else {
    limit = t.value;
    atMost = t.kind !== 'min';
  }
  if (atMost ? v <= limit : v >= limit) return {};
  const by = Math.abs(v - limit);
  return { miss: `${fmtValue(v, fig.unit)} against ${t.text} (${fmtValue(limit, fig.unit)}): off by ${fmtValue(by, fig.unit)} (${((by / limit) * 100).toFixed(0)} %)` };
}

/** How far above its floor a figure may lie and still count as at the floor (the 20 %). */
export const FLOOR_MARGIN = 0.2;

/** A missed figure against its floor: how far above it, in the runs interleaved with it. */
export function floorVerdict(fig: Pick<Figure, 'unit'>, floor: NonNullable<Measurement['floor']>): string {
  const over = floor.at / floor.value - 1;
  const within = over <= FLOOR_MARGIN;
  return (
    `floor ${fmtValue(floor.value, fig.unit)} (${floor.text}, same run): ${fmtValue(floor.at, fig.unit)} in the runs interleaved with it, ` +
    `${Math.round(over * 100)} % over it (${within ? 'within' : 'NOT within'} ${Math.round(FLOOR_MARGIN * 100)} %)`
  );
}

export function notMeasured(fig: Figure, reason: string): FigureResult {
  return {
    id: fig.id,
    title: fig.title,
    unit: fig.unit,
    status: 'not measured',
    pg: null,
    quaylogs: null,
    ratio: null,
    target: fig.target?.text ?? null,
    met: null,
    reason,
    seconds: 0,
  };
}

export function failed(fig: Figure, reason: string, seconds: number): FigureResult {
  return { ...notMeasured(fig, reason), status: 'failed', seconds };
}

function statusCell(r: FigureResult): string {
  switch (r.status) {
    case 'met':
      return 'yes';
    case 'missed':
      return `NO: ${r.miss}`;
    case 'measured':
      return 'no target';
    case 'not measured':
      return `not measured (${r.reason})`;
    case 'failed':
      return `FAILED (${r.reason})`;
  }
}

/** The results table, as aligned text (stdout) or Markdown. */
export function renderTable(results: readonly FigureResult[], markdown = false): string {
  const head = ['figure', 'PostgreSQL', 'quaylogs', 'ratio', 'target', 'met?'];
  const rows = results.map((r) => [
    `${r.id} ${r.title}`,
    fmtValue(r.pg, r.unit),
    fmtValue(r.quaylogs, r.unit),
    r.ratio === null ? '—' : fmtRatio(r.ratio),
    r.target ?? '—',
    statusCell(r),
  ]);
  if (markdown) {
    const esc = (s: string) => s.replace(/\|/g, '\\|');
    return [
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
    ].join('\n');
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 5 ? 0 : r[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === 5 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
