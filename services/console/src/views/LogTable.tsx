/**
 * The log table: Quay's /logs pages, one after another through `next_page` (endless
 * paging), filtered by kind, performer and repository; a row opens its full metadata,
 * and "Copy API request" copies the equivalent curl command.
 */
import { Alert, Badge, Button, Card, Code, CopyButton, Drawer, Group, Loader, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { curlFor, get, withQuery } from '../api.ts';
import { describe, isRobot } from '../describe.ts';
import { When } from '../components/When.tsx';
import { basePath, type Scope, scopeQuery } from '../scope.ts';
import { type DayRange, rangeQuery } from '../time.ts';

export interface LogFilters {
  kind?: string;
  performer?: string;
  repository?: string;
}

interface LogEntry {
  kind: string;
  metadata: Record<string, unknown>;
  ip: string | null;
  datetime: string;
  performer?: { name: string; kind: string; is_robot: boolean };
  namespace?: { name: string };
}

interface Page {
  logs: LogEntry[];
  next_page?: string;
}

export function LogTable({
  scope,
  range,
  filters,
  onFilters,
  source = null,
}: {
  scope: Scope;
  range: DayRange;
  filters: LogFilters;
  onFilters: (f: LogFilters) => void;
  /** Only entries of this source (registry). */
  source?: string | null;
}) {
  const [rows, setRows] = useState<LogEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<LogEntry | null>(null);
  const generation = useRef(0);
  const sentinel = useRef<HTMLDivElement>(null);

  const query = {
    ...scopeQuery(scope),
    ...rangeQuery(range),
    source,
    kind: filters.kind,
    ...(scope.kind !== 'repo' ? { performer: filters.performer, repository: filters.repository } : {}),
  };
  const path = withQuery(`${basePath(scope)}/logs`, query);

  async function load(token: string | null) {
    const gen = generation.current;
    setLoading(true);
    try {
      const page = await get<Page>(token ? withQuery(`${basePath(scope)}/logs`, { ...query, next_page: token }) : path);
      if (gen !== generation.current) return;
      setRows((r) => (token ? [...r, ...page.logs] : page.logs));
      setNext(page.next_page ?? null);
      setError(null);
    } catch (err) {
      if (gen === generation.current) setError((err as Error).message);
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  }

  useEffect(() => {
    generation.current += 1;
    setRows([]);
    setNext(null);
    void load(null);
    // deps are the caller's (plus the reload tick), as in a React effect
  }, [path]);

  // Endless paging: the next page loads when the end of the table scrolls into view.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !next) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !loading) void load(next);
    });
    io.observe(el);
    return () => io.disconnect();
    // deps are the caller's (plus the reload tick), as in a React effect
  }, [next, loading]);

  const filterInput = (key: keyof LogFilters, label: string, placeholder: string) => (
    <FilterInput key={`${key}:${filters[key] ?? ''}`} label={label} placeholder={placeholder} value={filters[key] ?? ''} onCommit={(v) => onFilters({ ...filters, [key]: v || undefined })} />
  );

  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm" align="flex-end" wrap="wrap">
        <Title order={3} size="h4">
          Log entries
        </Title>
        <Group gap="xs" align="flex-end" wrap="wrap">
          {filterInput('kind', 'Kind', 'e.g. pull_repo')}
          {scope.kind !== 'repo' && filterInput('performer', 'Performer', 'user or robot')}
          {scope.kind !== 'repo' && (scope.kind === 'org' || scope.namespace) && filterInput('repository', 'Repository', 'name')}
          <CopyButton value={curlFor(path)}>
            {({ copied, copy }) => (
              <Button variant="default" size="xs" onClick={copy} data-testid="copy-api">
                {copied ? 'Copied' : 'Copy API request'}
              </Button>
            )}
          </CopyButton>
        </Group>
      </Group>
      {error && (
        <Alert color="red" role="alert" mb="sm" title="Could not load log entries">
          {error}
        </Alert>
      )}
      <Table.ScrollContainer minWidth={800}>
        <Table striped highlightOnHover data-testid="log-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Time (UTC)</Table.Th>
              <Table.Th>What happened</Table.Th>
              <Table.Th>Performer</Table.Th>
              <Table.Th>IP</Table.Th>
              <Table.Th>User agent</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r, i) => {
              const performer = r.performer?.name ?? null;
              const ua = (r.metadata['user-agent'] ?? r.metadata.user_agent ?? '') as string;
              return (
                <Table.Tr
                  key={i}
                  className="ql-row"
                  tabIndex={0}
                  data-testid="log-row"
                  data-kind={r.kind}
                  data-datetime={r.datetime}
                  data-performer={performer ?? ''}
                  onClick={() => setOpen(r)}
                  onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), setOpen(r))}
                  aria-label={`Entry ${i + 1}: ${r.kind}; press Enter for details`}
                >
                  <Table.Td>
                    <When value={r.datetime} />
                  </Table.Td>
                  <Table.Td className="ql-what">{describe(r.kind, { ...r.metadata, namespace: r.metadata.namespace ?? r.namespace?.name }, performer)}</Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <span>{performer ?? '—'}</span>
                      {performer && (r.performer?.is_robot || isRobot(performer)) && (
                        <Badge size="xs" variant="outline">
                          robot
                        </Badge>
                      )}
                    </Group>
                  </Table.Td>
                  <Table.Td className="ql-mono ql-nowrap">{r.ip ?? '—'}</Table.Td>
                  <Table.Td className="ql-ua" title={ua}>
                    {ua || '—'}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {!loading && rows.length === 0 && !error && (
        <Text c="dimmed" p="md" data-testid="empty-logs">
          No log entries match. Widen the date range or clear the filters.
        </Text>
      )}
      <div ref={sentinel} />
      <Group justify="center" p="sm">
        {loading && <Loader size="sm" aria-label="Loading more entries" />}
        {!loading && next && (
          <Button variant="default" onClick={() => void load(next)} data-testid="load-more">
            Load more
          </Button>
        )}
        {!loading && !next && rows.length > 0 && (
          <Text size="sm" c="dimmed" data-testid="end-of-logs">
            {rows.length.toLocaleString('en-US')} entries — that is all.
          </Text>
        )}
      </Group>
      <Drawer opened={open !== null} onClose={() => setOpen(null)} position="right" size="lg" title="Log entry">
        {open && (
          <>
            <Text fw={600} mb="xs" className="ql-what">
              {describe(open.kind, open.metadata, open.performer?.name ?? null)}
            </Text>
            <Text size="sm" mb="xs">
              <When value={open.datetime} /> · kind <Code>{open.kind}</Code>
            </Text>
            <Code block data-testid="entry-json">
              {JSON.stringify(open, null, 2)}
            </Code>
          </>
        )}
      </Drawer>
    </Card>
  );
}

/** A filter that applies on Enter or when it loses focus. */
function FilterInput({ label, placeholder, value, onCommit }: { label: string; placeholder: string; value: string; onCommit: (v: string) => void }) {
  const [v, setV] = useState(value);
  return (
    <TextInput
      size="xs"
      label={label}
      placeholder={placeholder}
      value={v}
      onChange={(e) => setV(e.currentTarget.value)}
      onBlur={() => v.trim() !== value && onCommit(v.trim())}
      onKeyDown={(e) => e.key === 'Enter' && onCommit(v.trim())}
    />
  );
}
