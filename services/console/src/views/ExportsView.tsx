/** Exports: request one (range, filters, format, callback URL and/or e-mail), watch it progress, download it. */
import { Alert, Anchor, Button, Card, Group, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { type FormEvent, useEffect, useState } from 'react';
import { api, get } from '../api.ts';
import { ExportList, type ExportSummary, StatusBadge } from '../components/ExportList.tsx';
import { Schedules } from '../components/Schedules.tsx';
import { readableNamespaces, useMe } from '../session.ts';
import { mdy, presetRange, todayUtc } from '../time.ts';

interface ExportStatus {
  export_id: string;
  status: ExportSummary['status'];
  rows: number;
  bytes: number;
  exported_data_url: string | null;
  generation: { last_error: string | null };
  channels: Record<string, { status: string; last_error: string | null; attempts: number }>;
}

export function ExportsView() {
  const me = useMe();
  const namespaces = readableNamespaces(me);
  const initial = presetRange('7d');
  const [namespace, setNamespace] = useState(me.super_user ? '' : (namespaces[0] ?? ''));
  const [repository, setRepository] = useState('');
  const [from, setFrom] = useState(initial.from);
  const [to, setTo] = useState(initial.to);
  const [kind, setKind] = useState('');
  const [performer, setPerformer] = useState('');
  const [format, setFormat] = useState<string | null>('json');
  const [callbackUrl, setCallbackUrl] = useState('');
  const [email, setEmail] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [current, setCurrent] = useState<ExportStatus | null>(null);

  useEffect(() => {
    if (!current || current.status === 'delivered' || current.status === 'failed') return;
    const t = setTimeout(() => {
      get<ExportStatus>(`/api/v1/exportlogs/${encodeURIComponent(current.export_id)}`).then(setCurrent, (e: Error) => setError(e.message));
    }, 1000);
    return () => clearTimeout(t);
  }, [current]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!namespace.trim()) return setError('Name the namespace to export.');
    if (!callbackUrl.trim() && !email.trim()) return setError('Give a callback URL or an e-mail address (or both): that is where the link goes.');
    const path = repository.trim()
      ? `/api/v1/repository/${encodeURIComponent(namespace.trim())}/${encodeURIComponent(repository.trim())}/exportlogs`
      : `/api/v1/organization/${encodeURIComponent(namespace.trim())}/exportlogs`;
    setBusy(true);
    try {
      const body = {
        starttime: mdy(from),
        endtime: mdy(to),
        ...(format ? { format } : {}),
        ...(kind.trim() ? { kind: kind.trim() } : {}),
        ...(performer.trim() ? { performer: performer.trim() } : {}),
        ...(callbackUrl.trim() ? { callback_url: callbackUrl.trim() } : {}),
        ...(email.trim() ? { callback_email: email.trim() } : {}),
      };
      const { export_id } = await api<{ export_id: string }>('POST', path, body);
      setCurrent(await get<ExportStatus>(`/api/v1/exportlogs/${encodeURIComponent(export_id)}`));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Stack>
      <Title order={2}>Exports</Title>
      <Card withBorder component="form" onSubmit={submit} noValidate aria-label="Request an export">
        <Title order={3} size="h4" mb="sm">
          Request an export
        </Title>
        <SimpleGrid cols={{ base: 1, md: 3 }}>
          {me.super_user ? (
            <TextInput label="Namespace" required value={namespace} onChange={(e) => setNamespace(e.currentTarget.value)} data-testid="export-namespace" />
          ) : (
            <Select label="Namespace" required data={namespaces} value={namespace} onChange={(v) => setNamespace(v ?? '')} allowDeselect={false} />
          )}
          <TextInput label="Repository (optional)" value={repository} onChange={(e) => setRepository(e.currentTarget.value)} />
          <Select
            label="Format"
            data={[
              { value: 'json', label: "Quay's export document (JSON)" },
              { value: 'ndjson', label: 'NDJSON (one entry a line)' },
              { value: 'csv', label: 'CSV' },
            ]}
            value={format}
            onChange={setFormat}
            allowDeselect={false}
          />
          <TextInput type="date" label="From (UTC)" value={from} max={to} onChange={(e) => e.currentTarget.value && setFrom(e.currentTarget.value)} />
          <TextInput type="date" label="To (UTC, included)" value={to} min={from} max={todayUtc()} onChange={(e) => e.currentTarget.value && setTo(e.currentTarget.value)} />
          <TextInput label="Kinds (optional)" placeholder="pull_repo,push_repo" value={kind} onChange={(e) => setKind(e.currentTarget.value)} />
          <TextInput label="Performer (optional)" value={performer} onChange={(e) => setPerformer(e.currentTarget.value)} />
          <TextInput label="Callback URL" placeholder="https://hooks.example.com/quaylogs" value={callbackUrl} onChange={(e) => setCallbackUrl(e.currentTarget.value)} data-testid="export-callback" />
          <TextInput label="E-mail" type="email" placeholder="you@example.com" value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
        </SimpleGrid>
        {error && (
          <Alert color="red" mt="sm" role="alert" data-testid="export-error">
            {error}
          </Alert>
        )}
        <Group mt="md">
          <Button type="submit" loading={busy}>
            Request export
          </Button>
        </Group>
      </Card>
      {current && (
        <Card withBorder data-testid="current-export">
          <Group gap="sm">
            <Text>
              Export <code>{current.export_id}</code>
            </Text>
            <StatusBadge status={current.status} />
            <Text size="sm" c="dimmed">
              {current.rows.toLocaleString('en-US')} entries, {current.bytes.toLocaleString('en-US')} bytes
            </Text>
          </Group>
          {Object.entries(current.channels).map(([channel, c]) => (
            <Text size="sm" key={channel}>
              {channel}: {c.status} after {c.attempts} attempt{c.attempts === 1 ? '' : 's'}
              {c.last_error ? ` — ${c.last_error}` : ''}
            </Text>
          ))}
          {current.generation.last_error && <Text c="red">{current.generation.last_error}</Text>}
          {current.exported_data_url && (
            <Anchor href={current.exported_data_url} data-testid="current-export-download">
              Download the file
            </Anchor>
          )}
        </Card>
      )}
      <Card withBorder>
        <Title order={3} size="h4" mb="xs">
          {me.super_user ? 'Recent exports' : 'Your recent exports'}
        </Title>
        <ExportList />
      </Card>
      <Card withBorder>
        <Title order={3} size="h4" mb="xs">
          Recurring exports
        </Title>
        <Schedules namespace={namespace.trim()} superuser={me.super_user} />
      </Card>
    </Stack>
  );
}
