/** Pipeline health for superusers: sources, the ingest stream, dead letters (with replay), export jobs. */
import { Alert, Button, Card, Code, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { api, get } from '../api.ts';
import { ExportList } from '../components/ExportList.tsx';
import { Sparkline } from '../components/Sparkline.tsx';
import { When } from '../components/When.tsx';
import { ago } from '../time.ts';

interface Status {
  generated_at: string;
  sources: { source: string; last_entry_time: string; last_received_at: string; lag_seconds: number; entries_last_hour: number }[];
  stream: { length: number; pending: number; undelivered: number | null; oldest_pending_ms: number; consumers: { name: string; pending: number; idle_ms: number }[] };
  dead_letters: number;
}

interface DeadLetters {
  total: number;
  dead_letters: { id: string; original_id: string; reason: string; consumer: string; at: string; payload: string; payload_bytes: number }[];
}

function usePoll<T>(path: string, ms: number): [T | null, string | null, () => void] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    const load = () =>
      get<T>(path).then(
        (d) => alive && (setData(d), setError(null)),
        (e: Error) => alive && setError(e.message),
      );
    void load();
    const t = setInterval(load, ms);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [path, ms, tick]);
  return [data, error, () => setTick((x) => x + 1)];
}

export function PipelineView() {
  const [status, statusError, reloadStatus] = usePoll<Status>('/api/v1/superuser/ingest', 5000);
  const [daily] = usePoll<{ days: { source: string; day: string; count: number }[] }>('/api/v1/superuser/sourcedaily?days=14', 60_000);
  const [dead, deadError, reloadDead] = usePoll<DeadLetters>('/api/v1/superuser/deadletters?limit=50', 5000);
  const [open, setOpen] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  async function replay(body: { ids: string[] } | { all: true }) {
    const r = await api<{ replayed: number }>('POST', '/api/v1/superuser/deadletters/replay', body);
    setNote(`${r.replayed} dead letter${r.replayed === 1 ? '' : 's'} put back into the ingest stream.`);
    reloadDead();
    reloadStatus();
  }

  return (
    <Stack>
      <Title order={2}>Pipeline</Title>
      {statusError && <Alert color="red">Could not read the ingest status: {statusError}</Alert>}
      {status && (
        <SimpleGrid cols={{ base: 2, md: 4 }}>
          <Stat label="Stream length (not yet stored)" value={status.stream.length} />
          <Stat label="Pending (delivered to a loader)" value={status.stream.pending} />
          <Stat label="Loaders" value={status.stream.consumers.length} />
          <Stat label="Dead letters" value={status.dead_letters} testId="dead-letter-count" />
        </SimpleGrid>
      )}
      <Card withBorder>
        <Title order={3} size="h4" mb="xs">
          Sources
        </Title>
        {status && status.sources.length === 0 && <Text c="dimmed">No source has stored an entry yet. Configure the HEC receiver, a poller or an import.</Text>}
        {status && status.sources.length > 0 && (
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Source</Table.Th>
                <Table.Th>Newest entry (UTC)</Table.Th>
                <Table.Th>Lag</Table.Th>
                <Table.Th ta="right">Entries, last hour</Table.Th>
                <Table.Th>Entries per day, last 14 days</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {status.sources.map((s) => (
                <Table.Tr key={s.source}>
                  <Table.Td>{s.source}</Table.Td>
                  <Table.Td>
                    <When value={s.last_entry_time} />
                  </Table.Td>
                  <Table.Td>{ago(s.lag_seconds)}</Table.Td>
                  <Table.Td ta="right">{s.entries_last_hour.toLocaleString('en-US')}</Table.Td>
                  <Table.Td>{daily && <Sparkline values={last14(daily.days, s.source)} label={`Entries per day of ${s.source}, last 14 days`} />}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
      <Card withBorder data-testid="dead-letters">
        <Group justify="space-between" mb="xs">
          <Title order={3} size="h4">
            Dead letters
          </Title>
          {dead && dead.total > 0 && (
            <Button size="xs" color="orange" onClick={() => void replay({ all: true })}>
              Replay all ({dead.total})
            </Button>
          )}
        </Group>
        {note && (
          <Alert color="teal" mb="xs" data-testid="replay-note" withCloseButton onClose={() => setNote(null)}>
            {note}
          </Alert>
        )}
        {deadError && <Alert color="red">Could not read dead letters: {deadError}</Alert>}
        {dead && dead.total === 0 && (
          <Text c="dimmed" data-testid="no-dead-letters">
            No dead letters: every entry the loader took was stored.
          </Text>
        )}
        {dead && dead.dead_letters.length > 0 && (
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Given up (UTC)</Table.Th>
                <Table.Th>Reason</Table.Th>
                <Table.Th>Payload</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {dead.dead_letters.map((d) => (
                <Table.Tr key={d.id} data-testid="dead-letter">
                  <Table.Td>
                    <When value={d.at} />
                  </Table.Td>
                  <Table.Td>{d.reason}</Table.Td>
                  <Table.Td>
                    <Button variant="subtle" size="compact-xs" onClick={() => setOpen(open === d.id ? null : d.id)} aria-expanded={open === d.id}>
                      {open === d.id ? 'Hide' : 'Show'} {d.payload_bytes.toLocaleString('en-US')} bytes
                    </Button>
                    {open === d.id && <Code block className="ql-pre">{d.payload}</Code>}
                  </Table.Td>
                  <Table.Td>
                    <Button size="compact-sm" onClick={() => void replay({ ids: [d.id] })}>
                      Replay
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
      <Card withBorder>
        <Title order={3} size="h4" mb="xs">
          Export jobs
        </Title>
        <ExportList refreshMs={5000} />
      </Card>
    </Stack>
  );
}

function Stat({ label, value, testId }: { label: string; value: number; testId?: string }) {
  return (
    <Card withBorder>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={testId}>
        {value.toLocaleString('en-US')}
      </Text>
    </Card>
  );
}

function last14(days: { source: string; day: string; count: number }[], source: string): number[] {
  const by = new Map(days.filter((d) => d.source === source).map((d) => [d.day, d.count]));
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  return Array.from({ length: 14 }, (_, i) => by.get(new Date(today - (13 - i) * 86_400_000).toISOString().slice(0, 10)) ?? 0);
}
