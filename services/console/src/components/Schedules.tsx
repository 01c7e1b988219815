/** Recurring exports of a namespace: list, create (daily / weekly / cron, UTC), delete. */
import { Alert, Button, Group, Select, Table, Text, TextInput } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { api, get } from '../api.ts';
import { Show, useAsync } from './Async.tsx';
import { When } from './When.tsx';

interface Schedule {
  id: string;
  namespace: string;
  repository: string | null;
  every: string;
  cron: string;
  format: string;
  callback_url: string | null;
  callback_email: string | null;
  next_run: string | null;
  last_period: { start_time: string; export_id: string } | null;
}

export function Schedules({ namespace, superuser }: { namespace: string; superuser: boolean }) {
  const path = superuser && !namespace ? '/api/v1/superuser/exportschedules' : `/api/v1/organization/${encodeURIComponent(namespace)}/exportschedules`;
  const [list, reload] = useAsync(() => (namespace || superuser ? get<{ schedules: Schedule[] }>(path) : Promise.resolve({ schedules: [] })), [path]);
  const [every, setEvery] = useState<string | null>('daily');
  const [cron, setCron] = useState('');
  const [callbackUrl, setCallbackUrl] = useState('');
  const [email, setEmail] = useState('');
  const [error, setError] = useState<string | null>(null);

  async function create(e: FormEvent) {
    e.preventDefault();
    if (!namespace) return setError('Name the namespace first (above).');
    try {
      await api('POST', `/api/v1/organization/${encodeURIComponent(namespace)}/exportschedules`, {
        ...(every === 'cron' ? { cron } : { every }),
        ...(callbackUrl.trim() ? { callback_url: callbackUrl.trim() } : {}),
        ...(email.trim() ? { callback_email: email.trim() } : {}),
      });
      setError(null);
      reload();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  async function remove(s: Schedule) {
    await api('DELETE', `/api/v1/organization/${encodeURIComponent(s.namespace)}/exportschedules/${encodeURIComponent(s.id)}`).catch((err: Error) => setError(err.message));
    reload();
  }

  return (
    <>
      <form onSubmit={create} noValidate aria-label="New export schedule">
        <Group align="flex-end" mb="sm" wrap="wrap">
          <Select label="Every" data={[{ value: 'daily', label: 'Day (the previous day)' }, { value: 'weekly', label: 'Week (Monday, the previous week)' }, { value: 'cron', label: 'Cron pattern (UTC)' }]} value={every} onChange={setEvery} allowDeselect={false} />
          {every === 'cron' && <TextInput label="Cron" placeholder="0 6 * * *" value={cron} onChange={(e) => setCron(e.currentTarget.value)} />}
          <TextInput label="Callback URL" value={callbackUrl} onChange={(e) => setCallbackUrl(e.currentTarget.value)} />
          <TextInput label="E-mail" value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <Button type="submit" variant="default">
            Add schedule for {namespace || '…'}
          </Button>
        </Group>
      </form>
      {error && (
        <Alert color="red" mb="sm" role="alert">
          {error}
        </Alert>
      )}
      <Show state={list} what="export schedules">
        {({ schedules }) =>
          schedules.length === 0 ? (
            <Text c="dimmed">No recurring exports{namespace ? ` for ${namespace}` : ''}.</Text>
          ) : (
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Of</Table.Th>
                  <Table.Th>When (UTC cron)</Table.Th>
                  <Table.Th>Delivered to</Table.Th>
                  <Table.Th>Next run</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {schedules.map((s) => (
                  <Table.Tr key={s.id}>
                    <Table.Td>{s.repository ? `${s.namespace}/${s.repository}` : s.namespace}</Table.Td>
                    <Table.Td>
                      {s.every} <code>{s.cron}</code>
                    </Table.Td>
                    <Table.Td>{[s.callback_url, s.callback_email].filter(Boolean).join(', ')}</Table.Td>
                    <Table.Td>{s.next_run ? <When value={s.next_run} /> : '—'}</Table.Td>
                    <Table.Td>
                      <Button size="compact-xs" color="red" variant="light" onClick={() => void remove(s)}>
                        Delete
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </Show>
    </>
  );
}
