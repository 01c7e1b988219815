/** Recent exports with their status, attempts and last error; a download link once delivered. */
import { Anchor, Badge, Button, Table, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { get } from '../api.ts';
import { When } from './When.tsx';

export interface ExportSummary {
  export_id: string;
  status: 'queued' | 'running' | 'delivering' | 'delivered' | 'failed';
  namespace: string;
  repository: string | null;
  requested_by: string;
  format: string;
  created: string;
  attempts: number;
  last_error: string | null;
  rows: number;
  bytes: number;
}

const COLOR: Record<ExportSummary['status'], string> = { queued: 'gray', running: 'blue', delivering: 'cyan', delivered: 'teal', failed: 'red' };

export function StatusBadge({ status }: { status: ExportSummary['status'] }) {
  return (
    <Badge color={COLOR[status]} variant="light" data-testid="export-status">
      {status}
    </Badge>
  );
}

function Download({ id }: { id: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  if (url) {
    return (
      <Anchor href={url} data-testid="export-download" download>
        Download
      </Anchor>
    );
  }
  return (
    <Button
      size="compact-xs"
      variant="default"
      onClick={() =>
        get<{ exported_data_url: string | null }>(`/api/v1/exportlogs/${encodeURIComponent(id)}`).then(
          (s) => (s.exported_data_url ? setUrl(s.exported_data_url) : setErr('The link has expired.')),
          (e: Error) => setErr(e.message),
        )
      }
    >
      {err ?? 'Get link'}
    </Button>
  );
}

export function ExportList({ refreshMs = 3000 }: { refreshMs?: number }) {
  const [list, setList] = useState<ExportSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    const load = () =>
      get<{ exports: ExportSummary[] }>('/api/v1/exportlogs').then(
        (r) => alive && (setList(r.exports), setError(null)),
        (e: Error) => alive && setError(e.message),
      );
    void load();
    const t = setInterval(load, refreshMs);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [refreshMs]);
  if (error) return <Text c="red">Could not load exports: {error}</Text>;
  if (!list) return <Text c="dimmed">Loading exports…</Text>;
  if (list.length === 0) return <Text c="dimmed">No exports yet. Request one on the Exports page.</Text>;
  return (
    <Table.ScrollContainer minWidth={700}>
      <Table striped data-testid="export-list">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Requested (UTC)</Table.Th>
            <Table.Th>Of</Table.Th>
            <Table.Th>By</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th ta="right">Rows</Table.Th>
            <Table.Th ta="right">Attempts</Table.Th>
            <Table.Th>Last error</Table.Th>
            <Table.Th>File</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {list.map((e) => (
            <Table.Tr key={e.export_id} data-export-id={e.export_id}>
              <Table.Td>
                <When value={e.created} />
              </Table.Td>
              <Table.Td>{e.repository ? `${e.namespace}/${e.repository}` : e.namespace}</Table.Td>
              <Table.Td>{e.requested_by}</Table.Td>
              <Table.Td>
                <StatusBadge status={e.status} />
              </Table.Td>
              <Table.Td ta="right">{e.rows.toLocaleString('en-US')}</Table.Td>
              <Table.Td ta="right">{e.attempts}</Table.Td>
              <Table.Td>{e.last_error ?? '—'}</Table.Td>
              <Table.Td>{e.status === 'delivered' ? <Download id={e.export_id} /> : '—'}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
