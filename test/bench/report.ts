/**
 * Turns measurements into results (ratio, target met or missed and by how much)
 * and renders the table.
 */
import type { Figure, FigureResult, Measurement } from './types.ts';

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

export function judge(fig: Figure, m: Measurement, seconds: number): FigureResult {
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
    seconds,
  };
  if (!m.check.equal) return { ...base, status: 'failed', reason: `answers differ: ${m.check.detail}` };
  const t = fig.target;
  if (!t) return base;
  if (t.kind === 'ratio') {
    if (ratio === null) return { ...base, status: 'failed', reason: 'no ratio: a side has no value' };
    const met = ratio >= t.min;
    if (met) return { ...base, status: 'met', met };
    const factor = t.min / ratio;
    return {
      ...base,
      status: 'missed',
      met,
      miss: `${fmtRatio(ratio)} against ${t.text}: quaylogs must get ${factor.toFixed(2)}× faster (${fmtValue(fig.better === 'lower' ? (m.pg ?? 0) / t.min : (m.pg ?? 0) * t.min, fig.unit)} or better)`,
    };
  }
  const v = m.quaylogs;
  if (v === null) return { ...base, status: 'failed', reason: 'quaylogs has no value' };
  const met = t.kind === 'max' ? v <= t.value : v >= t.value;
  if (met) return { ...base, status: 'met', met };
  const by = Math.abs(v - t.value);
  return {
    ...base,
    status: 'missed',
    met,
    miss: `${fmtValue(v, fig.unit)} against ${t.text}: off by ${fmtValue(by, fig.unit)} (${((by / t.value) * 100).toFixed(0)} %)`,
  };
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
