/** Access: your app tokens (create, see once, revoke); for superusers, quaylogs users and their grants. */
import { Alert, Badge, Button, Card, Code, CopyButton, Group, Stack, Switch, Table, Text, TextInput, Title } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { api, get } from '../api.ts';
import { Show, useAsync } from '../components/Async.tsx';
import { When } from '../components/When.tsx';
import { useMe } from '../session.ts';

interface Token {
  uuid: string;
  title: string;
  created: string;
  last_accessed: string | null;
  expiration: string | null;
}

function NewCode({ code, onDone }: { code: string; onDone: () => void }) {
  return (
    <Alert color="teal" title="Copy this token now: it is shown only once" data-testid="new-token">
      <Code block>{code}</Code>
      <Group mt="xs">
        <CopyButton value={code}>{({ copied, copy }) => <Button size="xs" onClick={copy}>{copied ? 'Copied' : 'Copy'}</Button>}</CopyButton>
        <Button size="xs" variant="default" onClick={onDone}>
          Done
        </Button>
      </Group>
    </Alert>
  );
}

export function AccessView() {
  const me = useMe();
  const [tokens, reload] = useAsync(() => get<{ tokens: Token[] }>('/api/v1/user/apptoken'), []);
  const [title, setTitle] = useState('');
  const [code, setCode] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function create(e: FormEvent) {
    e.preventDefault();
    if (!title.trim()) return setError('Give the token a title, e.g. "laptop" or "CI".');
    try {
      const r = await api<{ token: { token_code: string } }>('POST', '/api/v1/user/apptoken', { title: title.trim() });
      setCode(r.token.token_code);
      setTitle('');
      setError(null);
      reload();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  async function revoke(uuid: string) {
    await api('DELETE', `/api/v1/user/apptoken/${encodeURIComponent(uuid)}`).catch((err: Error) => setError(err.message));
    reload();
  }

  return (
    <Stack>
      <Title order={2}>Access</Title>
      <Card withBorder>
        <Title order={3} size="h4" mb="xs">
          Your app tokens
        </Title>
        <form onSubmit={create} noValidate>
          <Group align="flex-end" mb="sm">
            <TextInput label="New token title" value={title} onChange={(e) => setTitle(e.currentTarget.value)} />
            <Button type="submit">Create token</Button>
          </Group>
        </form>
        {error && (
          <Alert color="red" mb="sm" role="alert">
            {error}
          </Alert>
        )}
        {code && <NewCode code={code} onDone={() => setCode(null)} />}
        <Show state={tokens} what="your tokens">
          {({ tokens: list }) =>
            list.length === 0 ? (
              <Text c="dimmed">No tokens yet.</Text>
            ) : (
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Title</Table.Th>
                    <Table.Th>Created</Table.Th>
                    <Table.Th>Last used</Table.Th>
                    <Table.Th>Expires</Table.Th>
                    <Table.Th />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {list.map((t) => (
                    <Table.Tr key={t.uuid}>
                      <Table.Td>{t.title}</Table.Td>
                      <Table.Td>
                        <When value={t.created} />
                      </Table.Td>
                      <Table.Td>{t.last_accessed ? <When value={t.last_accessed} /> : 'never'}</Table.Td>
                      <Table.Td>{t.expiration ? <When value={t.expiration} /> : 'never'}</Table.Td>
                      <Table.Td>
                        <Button size="compact-xs" color="red" variant="light" onClick={() => void revoke(t.uuid)} aria-label={`Revoke ${t.title}`}>
                          Revoke
                        </Button>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )
          }
        </Show>
      </Card>
      {me.super_user && <Users />}
    </Stack>
  );
}

interface User {
  username: string;
  email: string;
  super_user: boolean;
  organizations: string[];
  repositories: string[];
}

function Users() {
  const [users, reload] = useAsync(() => get<{ users: User[] }>('/api/v1/superuser/users/'), []);
  const [form, setForm] = useState({ username: '', email: '', superuser: false });
  const [error, setError] = useState<string | null>(null);
  const [code, setCode] = useState<string | null>(null);

  async function create(e: FormEvent) {
    e.preventDefault();
    try {
      await api('POST', '/api/v1/superuser/users', { username: form.username.trim(), email: form.email.trim(), superuser: form.superuser });
      setForm({ username: '', email: '', superuser: false });
      setError(null);
      reload();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  async function grants(u: User, orgs: string, repos: string) {
    const split = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
    await api('PUT', `/api/v1/superuser/users/${encodeURIComponent(u.username)}/grants`, { organizations: split(orgs), repositories: split(repos) }).then(
      () => reload(),
      (err: Error) => setError(err.message),
    );
  }

  async function token(u: User) {
    await api<{ token: { token_code: string } }>('POST', `/api/v1/superuser/users/${encodeURIComponent(u.username)}/apptoken`, { title: 'created in the console' }).then(
      (r) => setCode(r.token.token_code),
      (err: Error) => setError(err.message),
    );
  }

  return (
    <Card withBorder>
      <Title order={3} size="h4" mb="xs">
        Users and grants
      </Title>
      <form onSubmit={create} noValidate>
        <Group align="flex-end" mb="sm">
          <TextInput label="Username" value={form.username} onChange={(e) => setForm({ ...form, username: e.currentTarget.value })} />
          <TextInput label="E-mail" type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.currentTarget.value })} />
          <Switch label="Superuser" checked={form.superuser} onChange={(e) => setForm({ ...form, superuser: e.currentTarget.checked })} />
          <Button type="submit">Create user</Button>
        </Group>
      </form>
      {error && (
        <Alert color="red" mb="sm" role="alert">
          {error}
        </Alert>
      )}
      {code && <NewCode code={code} onDone={() => setCode(null)} />}
      <Show state={users} what="users">
        {({ users: list }) => (
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>User</Table.Th>
                <Table.Th>Administers organizations</Table.Th>
                <Table.Th>Administers repositories</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((u) => (
                <UserRow key={u.username} u={u} onGrants={grants} onToken={token} />
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Show>
    </Card>
  );
}

function UserRow({ u, onGrants, onToken }: { u: User; onGrants: (u: User, o: string, r: string) => void; onToken: (u: User) => void }) {
  const [orgs, setOrgs] = useState(u.organizations.join(', '));
  const [repos, setRepos] = useState(u.repositories.join(', '));
  return (
    <Table.Tr>
      <Table.Td>
        {u.username} {u.super_user && <Badge size="xs">superuser</Badge>}
        <Text size="xs" c="dimmed">
          {u.email}
        </Text>
      </Table.Td>
      <Table.Td>
        <TextInput size="xs" aria-label={`Organizations ${u.username} administers`} value={orgs} onChange={(e) => setOrgs(e.currentTarget.value)} />
      </Table.Td>
      <Table.Td>
        <TextInput size="xs" aria-label={`Repositories ${u.username} administers`} value={repos} onChange={(e) => setRepos(e.currentTarget.value)} />
      </Table.Td>
      <Table.Td className="ql-nowrap">
        <Button size="compact-xs" variant="default" onClick={() => onGrants(u, orgs, repos)} mr={4}>
          Save grants
        </Button>
        <Button size="compact-xs" variant="default" onClick={() => onToken(u)}>
          New token
        </Button>
      </Table.Td>
    </Table.Tr>
  );
}
