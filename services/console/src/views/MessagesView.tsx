/** Global messages (superusers): write one (plain text or markdown, with a preview), delete one. */
import { Alert, Button, Card, Group, Select, Stack, Table, Text, Textarea, Title } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { api, get } from '../api.ts';
import { Show, useAsync } from '../components/Async.tsx';
import { type GlobalMessage, MessageBody, refreshBanners } from '../components/Banners.tsx';

export function MessagesView() {
  const [messages, reload] = useAsync(() => get<{ messages: GlobalMessage[] }>('/api/v1/messages'), []);
  const [content, setContent] = useState('');
  const [mediaType, setMediaType] = useState<GlobalMessage['media_type']>('text/markdown');
  const [severity, setSeverity] = useState<GlobalMessage['severity']>('info');
  const [error, setError] = useState<string | null>(null);

  async function post(e: FormEvent) {
    e.preventDefault();
    if (!content.trim()) return setError('Write the message first.');
    try {
      await api('POST', '/api/v1/messages', { message: { content, media_type: mediaType, severity } });
      setContent('');
      setError(null);
      reload();
      refreshBanners();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  async function remove(uuid: string) {
    await api('DELETE', `/api/v1/message/${encodeURIComponent(uuid)}`).catch((err: Error) => setError(err.message));
    reload();
    refreshBanners();
  }

  return (
    <Stack>
      <Title order={2}>Global messages</Title>
      <Text c="dimmed">Every signed-in user sees these as banners on every page.</Text>
      <Card withBorder component="form" onSubmit={post} noValidate aria-label="New message">
        <Stack>
          <Textarea label="Message" autosize minRows={3} value={content} onChange={(e) => setContent(e.currentTarget.value)} data-testid="message-content" />
          <Group>
            <Select
              label="Format"
              data={[
                { value: 'text/markdown', label: 'Markdown' },
                { value: 'text/plain', label: 'Plain text' },
              ]}
              value={mediaType}
              onChange={(v) => v && setMediaType(v as GlobalMessage['media_type'])}
              allowDeselect={false}
            />
            <Select
              label="Severity"
              data={['info', 'warning', 'error']}
              value={severity}
              onChange={(v) => v && setSeverity(v as GlobalMessage['severity'])}
              allowDeselect={false}
              data-testid="message-severity"
            />
          </Group>
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <Group>
            <Button type="submit">Post message</Button>
          </Group>
        </Stack>
      </Card>
      <Show state={messages} what="messages">
        {({ messages: list }) =>
          list.length === 0 ? (
            <Text c="dimmed">No messages.</Text>
          ) : (
            <Table>
              <Table.Tbody>
                {list.map((m) => (
                  <Table.Tr key={m.uuid} data-testid="message-row">
                    <Table.Td>{m.severity}</Table.Td>
                    <Table.Td>
                      <MessageBody m={m} />
                    </Table.Td>
                    <Table.Td>
                      <Button size="compact-xs" color="red" variant="light" onClick={() => void remove(m.uuid)}>
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
    </Stack>
  );
}
