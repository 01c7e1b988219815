/**
 * Overview of a scope (everything, a namespace, a repository): entries per day stacked by
 * kind (Quay's /aggregatelogs), totals against the previous period, the busiest names
 * (from the rollups), the busiest hours, the top kinds, and the log table.
 * Clicking a bar, a name or a kind drills down.
 */
import { Anchor, Breadcrumbs, Button, Card, Group, Select, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { get, withQuery } from '../api.ts';
import { useAsync, Show } from '../components/Async.tsx';
import { Chart } from '../components/Chart.tsx';
import { Heatmap } from '../components/Heatmap.tsx';
import { RangePicker } from '../components/RangePicker.tsx';
import { TopList } from '../components/TopList.tsx';
import { LogTable, type LogFilters } from './LogTable.tsx';
import { OTHER, PALETTE } from '../palette.ts';
import { go, hrefFor } from '../route.ts';
import { basePath, type Scope, scopeQuery, scopeTitle } from '../scope.ts';
import { type DayRange, daysOf, type Preset, presetRange, previousRange, rangeQuery } from '../time.ts';

interface Aggregate {
  aggregated: { kind: string; count: number; datetime: string }[];
}

/** Totals per day and per kind from an /aggregatelogs answer. */
export function summarise(a: Aggregate, range: DayRange) {
  const days = daysOf(range);
  const byKind = new Map<string, number>();
  const byDayKind = new Map<string, Map<string, number>>();
  let total = 0;
  for (const r of a.aggregated) {
    const day = new Date(Date.parse(r.datetime)).toISOString().slice(0, 10);
    total += r.count;
    byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + r.count);
    const m = byDayKind.get(day) ?? new Map<string, number>();
    m.set(r.kind, (m.get(r.kind) ?? 0) + r.count);
    byDayKind.set(day, m);
  }
  const kinds = [...byKind.entries()].sort((x, y) => y[1] - x[1]);
  return { days, kinds, byDayKind, total };
}

const fmt = (n: number) => n.toLocaleString('en-US');

export function Overview({ scope }: { scope: Scope }) {
  const [preset, setPreset] = useState<Preset>('30d');
  const [range, setRange] = useState<DayRange>(() => presetRange('30d'));
  const [filters, setFilters] = useState<LogFilters>({});
  const [showTable, setShowTable] = useState(false);
  const [source, setSource] = useState<string | null>(null);
  const base = basePath(scope);
  const sq = { ...scopeQuery(scope), ...(source ? { source } : {}) };

  const [agg] = useAsync(
    async () => {
      const [now, before] = await Promise.all([
        get<Aggregate>(withQuery(`${base}/aggregatelogs`, { ...sq, ...rangeQuery(range) })),
        get<Aggregate>(withQuery(`${base}/aggregatelogs`, { ...sq, ...rangeQuery(previousRange(range)) })),
      ]);
      return { now: summarise(now, range), before: summarise(before, previousRange(range)) };
    },
    [base, JSON.stringify(sq), range.from, range.to],
  );
  const [sources] = useAsync(
    () => get<{ top: { name: string; count: number }[] }>(withQuery(`${topBaseOf(scope, base)}/toplogs`, { ...rangeQuery(range), by: 'source', limit: '50' })),
    [base, range.from, range.to],
  );

  const chart = useMemo(() => {
    if (agg.status !== 'ok') return null;
    const { days, kinds, byDayKind } = agg.data.now;
    const shown = kinds.slice(0, PALETTE.length).map(([k]) => k);
    const rest = new Set(kinds.slice(PALETTE.length).map(([k]) => k));
    const series = shown.map((k, i) => ({
      name: k,
      type: 'bar',
      stack: 'all',
      progressive: 0,
      color: PALETTE[i],
      emphasis: { focus: 'series' },
      data: days.map((d) => byDayKind.get(d)?.get(k) ?? 0),
    }));
    if (rest.size > 0) {
      series.push({
        name: 'other kinds',
        type: 'bar',
        stack: 'all',
        progressive: 0,
        color: OTHER,
        emphasis: { focus: 'series' },
        data: days.map((d) => [...(byDayKind.get(d)?.entries() ?? [])].filter(([k]) => rest.has(k)).reduce((s, [, n]) => s + n, 0)),
      });
    }
    return {
      animation: false,
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 56, right: 16, top: 40, bottom: 32 },
      xAxis: { type: 'category', data: days },
      yAxis: { type: 'value' },
      series,
    };
  }, [agg]);

  const title = scopeTitle(scope);
  const crumbs = [<Anchor key="all" href={hrefFor({ page: 'overview' })}>Overview</Anchor>];
  if (scope.kind !== 'superuser' || scope.namespace) {
    crumbs.push(
      <Anchor key="ns" href={hrefFor({ page: 'namespace', namespace: scope.namespace! })}>
        {scope.namespace}
      </Anchor>,
    );
  }
  if (scope.kind === 'repo') crumbs.push(<Text key="repo">{scope.repository}</Text>);

  const drillName = (by: 'namespace' | 'repository' | 'performer', name: string) => {
    if (by === 'namespace') go({ page: 'namespace', namespace: name });
    else if (by === 'repository') {
      if (scope.kind === 'superuser' && !scope.namespace) {
        const [ns, ...rest] = name.split('/');
        go({ page: 'repository', namespace: ns!, repository: rest.join('/') });
      } else go({ page: 'repository', namespace: scope.namespace!, repository: name });
    } else setFilters((f) => ({ ...f, performer: name }));
  };

  const ranks: ('namespace' | 'repository' | 'performer')[] =
    scope.kind === 'repo' ? ['performer'] : scope.kind === 'superuser' && !scope.namespace ? ['namespace', 'repository', 'performer'] : ['repository', 'performer'];
  const topBase = topBaseOf(scope, base);

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <div>
          <Breadcrumbs>{crumbs}</Breadcrumbs>
          <Title order={2} data-testid="page-title">
            {title}
          </Title>
        </div>
        <Group gap="sm" align="flex-end" wrap="wrap">
          <Select
            label="Source"
            size="xs"
            w={180}
            placeholder="All sources"
            clearable
            data={sources.status === 'ok' ? sources.data.top.map((t) => ({ value: t.name, label: `${t.name} (${t.count.toLocaleString('en-US')})` })) : []}
            value={source}
            onChange={setSource}
            data-testid="source-select"
          />
          <RangePicker
            preset={preset}
            range={range}
            onChange={(p, r) => {
              setPreset(p);
              setRange(r);
            }}
          />
        </Group>
      </Group>
      <Show state={agg} what="the aggregate counts">
        {({ now, before }) => {
          const change = before.total === 0 ? null : ((now.total - before.total) / before.total) * 100;
          return (
            <>
              <SimpleGrid cols={{ base: 1, sm: 3 }}>
                <Card withBorder>
                  <Text size="sm" c="dimmed">
                    Entries {range.from} – {range.to} (UTC)
                  </Text>
                  <Text size="xl" fw={700} data-testid="total">
                    {fmt(now.total)}
                  </Text>
                </Card>
                <Card withBorder>
                  <Text size="sm" c="dimmed">
                    Previous {daysOf(range).length} days
                  </Text>
                  <Text size="xl" fw={700} data-testid="previous-total">
                    {fmt(before.total)}
                  </Text>
                </Card>
                <Card withBorder>
                  <Text size="sm" c="dimmed">
                    Change
                  </Text>
                  <Text size="xl" fw={700} data-testid="change">
                    {change === null ? '—' : `${change >= 0 ? '▲ +' : '▼ '}${change.toFixed(1)} %`}
                  </Text>
                </Card>
              </SimpleGrid>
              <Card withBorder>
                <Group justify="space-between" mb="xs">
                  <Title order={3} size="h4">
                    Entries per day, by kind
                  </Title>
                  <Button variant="subtle" size="xs" onClick={() => setShowTable((v) => !v)} aria-expanded={showTable}>
                    {showTable ? 'Hide data table' : 'Show data table'}
                  </Button>
                </Group>
                {now.total === 0 ? (
                  <Text c="dimmed" data-testid="empty-chart">
                    No entries in this range. Pick a longer range, or check the Pipeline page to see whether logs are arriving.
                  </Text>
                ) : (
                  chart && (
                    <Chart
                      option={chart}
                      label={`Entries per day by kind, ${range.from} to ${range.to}`}
                      onClick={(e) => {
                        // A bar drills down to its day and kind: the whole page narrows to that day.
                        if (e.seriesName && e.seriesName !== 'other kinds') setFilters((f) => ({ ...f, kind: e.seriesName }));
                        if (e.name && /^\d{4}-\d{2}-\d{2}$/.test(e.name)) {
                          setPreset('custom');
                          setRange({ from: e.name, to: e.name });
                        }
                      }}
                    />
                  )
                )}
                {showTable && (
                  <Table striped data-testid="chart-table" aria-label="Entries per day">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Day (UTC)</Table.Th>
                        <Table.Th ta="right">Entries</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {now.days.map((d) => (
                        <Table.Tr key={d} data-day={d}>
                          <Table.Td>{d}</Table.Td>
                          <Table.Td ta="right">{fmt([...(now.byDayKind.get(d)?.values() ?? [])].reduce((s, n) => s + n, 0))}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                )}
              </Card>
              <SimpleGrid cols={{ base: 1, md: 2, xl: 4 }}>
                <TopList
                  title="Top kinds"
                  rows={now.kinds.slice(0, 10).map(([name, count]) => ({ name, count }))}
                  onPick={(kind) => setFilters((f) => ({ ...f, kind }))}
                  testId="top-kinds"
                />
                {ranks.map((by) => (
                  <TopList
                    key={by}
                    title={`Top ${by === 'repository' ? 'repositories' : `${by}s`}`}
                    path={withQuery(`${topBase}/toplogs`, { ...rangeQuery(range), by, source })}
                    robots={by === 'performer'}
                    onPick={(name) => drillName(by, name)}
                    testId={`top-${by}`}
                  />
                ))}
              </SimpleGrid>
            </>
          );
        }}
      </Show>
      <Heatmap path={withQuery(`${topBase}/logheatmap`, { ...rangeQuery(range), source })} />
      <LogTable scope={scope} range={range} filters={filters} onFilters={setFilters} source={source} />
    </Stack>
  );
}

/** Top-N and heat map of a superuser's namespace page come from the organization routes. */
function topBaseOf(scope: Scope, base: string): string {
  return scope.kind === 'superuser' && scope.namespace ? `/api/v1/organization/${encodeURIComponent(scope.namespace)}` : base;
}
