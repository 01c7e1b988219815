import { useMemo } from 'react';
import { PALETTE } from '../palette.ts';
import { Chart } from './Chart.tsx';

/** A small line of daily counts (oldest first). */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const option = useMemo(
    () => ({
      animation: false,
      grid: { left: 2, right: 2, top: 2, bottom: 2 },
      xAxis: { type: 'category', show: false, data: values.map((_, i) => i) },
      yAxis: { type: 'value', show: false, min: 0 },
      series: [{ type: 'line', data: values, symbol: 'none', progressive: 0, lineStyle: { width: 1.5, color: PALETTE[0] }, areaStyle: { color: PALETTE[4], opacity: 0.3 } }],
    }),
    [values],
  );
  return <Chart option={option} className="ql-spark" label={label} />;
}
