/** An ECharts chart (tree-shaken: bar, line, heat map; canvas renderer). */
import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import type { EChartsCoreOption } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useLayoutEffect, useRef } from 'react';

echarts.use([BarChart, LineChart, HeatmapChart, GridComponent, LegendComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

export interface ChartClick {
  seriesName?: string;
  name?: string;
  value?: unknown;
  dataIndex?: number;
}

export function Chart({
  option,
  className = 'ql-chart',
  label,
  onClick,
}: {
  option: EChartsCoreOption;
  className?: string;
  /** What the chart shows, for screen readers (the data table below it has the numbers). */
  label: string;
  onClick?: (e: ChartClick) => void;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const click = useRef(onClick);
  click.current = onClick;

  // Layout effects: the chart is disposed before React removes its element.
  useLayoutEffect(() => {
    const c = echarts.init(el.current!, undefined, { renderer: 'canvas' });
    chart.current = c;
    c.on('click', (e) => click.current?.(e as ChartClick));
    const ro = new ResizeObserver(() => {
      if (!c.isDisposed()) c.resize();
    });
    ro.observe(el.current!);
    return () => {
      ro.disconnect();
      // Stop a progressive paint still in flight first (its next frame would find no painter):
      // a repaint of the emptied chart replaces it and finishes at once.
      c.clear();
      c.getZr().refreshImmediately();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useLayoutEffect(() => {
    if (chart.current && !chart.current.isDisposed()) chart.current.setOption(option, { notMerge: true });
  }, [option]);

  return <div ref={el} className={className} role="img" aria-label={label} />;
}
