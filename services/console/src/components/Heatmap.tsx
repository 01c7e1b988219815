import { Card, Text, Title } from '@mantine/core';
import { useMemo } from 'react';
import { get } from '../api.ts';
import { HEAT } from '../palette.ts';
import { Show, useAsync } from './Async.tsx';
import { Chart } from './Chart.tsx';

const DOW = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const HOURS = Array.from({ length: 24 }, (_, h) => `${String(h).padStart(2, '0')}:00`);

/** Busiest hours: UTC day of week × hour. */
export function Heatmap({ path }: { path: string }) {
  const [state] = useAsync(() => get<{ cells: { dow: number; hour: number; count: number }[] }>(path), [path]);
  const option = useMemo(() => {
    if (state.status !== 'ok') return null;
    const cells = state.data.cells;
    const max = Math.max(1, ...cells.map((c) => c.count));
    return {
      animation: false,
      tooltip: { position: 'top' },
      grid: { left: 48, right: 16, top: 8, bottom: 64 },
      xAxis: { type: 'category', data: HOURS, splitArea: { show: true } },
      yAxis: { type: 'category', data: DOW, inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, inRange: { color: HEAT } },
      series: [{ name: 'Entries', type: 'heatmap', progressive: 0, data: cells.map((c) => [c.hour, c.dow - 1, c.count]) }],
    };
  }, [state]);
  return (
    <Card withBorder>
      <Title order={3} size="h4" mb="xs">
        Busiest hours (UTC)
      </Title>
      <Show state={state} what="the busiest hours">
        {(data) =>
          data.cells.length === 0 ? (
            <Text c="dimmed">No entries in this range.</Text>
          ) : (
            option && <Chart option={option} className="ql-chart-small" label="Entries by day of week and hour of day, UTC" />
          )
        }
      </Show>
    </Card>
  );
}
