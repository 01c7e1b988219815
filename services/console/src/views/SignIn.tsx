import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import type { Me } from '../session.ts';

export function SignIn({ onSignedIn }: { onSignedIn: (token: string, me: Me) => void }) {
  const [token, setTokenValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const t = token.trim();
    if (!t) {
      setError('Paste a quaylogs token first.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const me = await api<Me>('GET', '/api/v1/user/', undefined, { token: t });
      onSignedIn(t, me);
    } catch (err) {
      const status = (err as { status?: number }).status;
      setError(
        status === 401
          ? 'That token was not accepted. Use the token in data/admin-token, or an app token a superuser created for you.'
          : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w={440} component="main">
        <form onSubmit={submit} noValidate>
          <Stack>
            <Title order={1} size="h2">
              Sign in to quaylogs
            </Title>
            <Text size="sm" c="dimmed">
              Use the bootstrap token (in <code>data/admin-token</code> after <code>npm start</code>) or an app token. It is kept only in this browser
              tab.
            </Text>
            <PasswordInput
              label="Token"
              value={token}
              onChange={(e) => setTokenValue(e.currentTarget.value)}
              autoFocus
              autoComplete="off"
              error={error ? ' ' : undefined}
              data-testid="token-input"
            />
            {error && (
              <Alert color="red" role="alert" data-testid="signin-error">
                {error}
              </Alert>
            )}
            <Button type="submit" loading={busy}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
