/**
 * How the benchmark judges a figure against its target: what the report prints as met or
 * missed, including targets relative to another figure of the same run (I1 against I0) and
 * targets on secondary values (I4's p99.9 and max).
 */
import { describe, expect, it } from 'vitest';
import { judge, measuredSoFar } from './report.ts';
import type { Figure, Measurement, Target } from './types.ts';

const figure = (target: Target, unit: Figure['unit'] = 'events/s', better: Figure['better'] = 'higher'): Figure => ({
  id: 'I1',
  title: 'test figure',
  unit,
  better,
  target,
  unavailable: async () => null,
  measure: async () => {
    throw new Error('not run');
  },
});
const measured = (quaylogs: number, values?: Record<string, number>): Measurement => ({
  pg: null,
  quaylogs,
  check: { equal: true, detail: 'x' },
  ...(values ? { values } : {}),
});

describe('judge', () => {
  const i1Target: Target = {
    kind: 'all',
    text: '≥ 100,000 events/s and ≥ 80 % of I0',
    of: [
      { kind: 'min', value: 100_000, text: '≥ 100,000 events/s' },
      { kind: 'minOf', figure: 'I0', fraction: 0.8, text: '≥ 80 % of I0' },
    ],
  };

  it('meets a relative target only when every part holds against the same run', () => {
    expect(judge(figure(i1Target), measured(110_000), 1, new Map([['I0', 130_000]])).status).toBe('met');
    const r = judge(figure(i1Target), measured(110_000), 1, new Map([['I0', 150_000]]));
    expect(r.status).toBe('missed');
    expect(r.miss).toContain('≥ 80 % of I0 (120,000 events/s)');
    const both = judge(figure(i1Target), measured(50_000), 1, new Map([['I0', 150_000]]));
    expect(both.miss?.split('; ')).toHaveLength(2);
  });

  it('leaves a relative target unjudged (and says why) when the other figure was not measured', () => {
    const r = judge(figure(i1Target), measured(110_000), 1, new Map());
    expect(r.status).toBe('measured');
    expect(r.notes?.join(' ')).toMatch(/I0 was not measured/);
  });

  it('judges secondary values: a p99 within target with a p99.9 or a max over it is a miss', () => {
    const t: Target = {
      kind: 'all',
      text: 'p99 ≤ 5 ms, p99.9 ≤ 20 ms, none over 250 ms',
      of: [
        { kind: 'max', value: 5, text: 'p99 ≤ 5 ms' },
        { kind: 'maxValue', key: 'p99.9', value: 20, text: 'p99.9 ≤ 20 ms' },
        { kind: 'maxValue', key: 'max', value: 250, text: 'none over 250 ms' },
      ],
    };
    const fig = figure(t, 'ms', 'lower');
    expect(judge(fig, measured(3, { 'p99.9': 12, max: 90 }), 1).status).toBe('met');
    const r = judge(fig, measured(3, { 'p99.9': 12, max: 400 }), 1);
    expect(r.status).toBe('missed');
    expect(r.miss).toMatch(/none over 250 ms/);
    expect(judge(fig, measured(3), 1).status).toBe('failed');
  });

  it('a latency within a few ms of another figure (P3 against P1)', () => {
    const fig = figure({ kind: 'maxOver', figure: 'P1', plus: 3, text: '≤ 3 ms over P1' }, 'ms', 'lower');
    expect(judge(fig, measured(4), 1, new Map([['P1', 1.2]])).status).toBe('met');
    expect(judge(fig, measured(4.5), 1, new Map([['P1', 1.2]])).status).toBe('missed');
  });

  it('a missed figure says how far above its floor measured in the same run it lies', () => {
    const fig = figure({ kind: 'max', value: 5, text: '≤ 5 ms' }, 'ms', 'lower');
    const floor = (at: number) => ({ ...measured(at), floor: { value: 6, at, text: 'smallest read' } });
    const near = judge(fig, floor(7), 1);
    expect(near.status).toBe('missed');
    expect(near.miss).toMatch(/floor 6\.00 ms \(smallest read, same run\): 7\.00 ms .* 17 % over it \(within 20 %\)/);
    expect(judge(fig, floor(7.5), 1).miss).toMatch(/25 % over it \(NOT within 20 %\)/);
    // A met target needs no floor.
    expect(judge(fig, { ...measured(4), floor: { value: 3, at: 4, text: 'x' } }, 1).miss).toBeUndefined();
  });

  it('collects only figures that produced a value', () => {
    const m = measuredSoFar([
      { id: 'I0', title: '', unit: 'rows/s', status: 'measured', pg: null, quaylogs: 90_000, ratio: null, target: null, met: null, seconds: 1 },
      { id: 'I2', title: '', unit: 'ms', status: 'failed', pg: null, quaylogs: null, ratio: null, target: null, met: null, seconds: 1 },
    ]);
    expect([...m]).toEqual([['I0', 90_000]]);
  });
});
