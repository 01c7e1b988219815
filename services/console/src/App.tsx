import { AppShell, Badge, Burger, Button, Group, NavLink, ScrollArea, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useCallback, useEffect, useState } from 'react';
import { api, getToken, setToken, whenUnauthorized } from './api.ts';
import { Banners } from './components/Banners.tsx';
import { hrefFor, type Route, useRoute } from './route.ts';
import { type Me, MeContext, readableNamespaces } from './session.ts';
import { AccessView } from './views/AccessView.tsx';
import { ExportsView } from './views/ExportsView.tsx';
import { MessagesView } from './views/MessagesView.tsx';
import { Overview } from './views/Overview.tsx';
import { PipelineView } from './views/PipelineView.tsx';
import { SignIn } from './views/SignIn.tsx';

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(() => getToken() !== null);

  const signOut = useCallback(() => {
    setToken(null);
    setMe(null);
  }, []);

  useEffect(() => {
    whenUnauthorized(signOut);
    if (!getToken()) return;
    api<Me>('GET', '/api/v1/user/')
      .then(setMe)
      .catch(() => setToken(null))
      .finally(() => setChecking(false));
  }, [signOut]);

  if (checking) return null;
  if (!me) {
    return (
      <SignIn
        onSignedIn={(token, who) => {
          setToken(token);
          setMe(who);
        }}
      />
    );
  }
  return (
    <MeContext.Provider value={me}>
      <Shell me={me} onSignOut={signOut} />
    </MeContext.Provider>
  );
}

function Shell({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const route = useRoute();
  const [opened, { toggle }] = useDisclosure();
  const link = (r: Route, label: string, active: boolean) => (
    <NavLink key={hrefFor(r)} href={hrefFor(r)} label={label} active={active} aria-current={active ? 'page' : undefined} />
  );
  const namespaces = me.super_user ? [] : readableNamespaces(me);
  const routeKey = hrefFor(route);

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={1} size="h3">
              quaylogs
            </Title>
            <Text c="dimmed" size="sm" visibleFrom="sm">
              usage logs of your Quay registries
            </Text>
          </Group>
          <Group gap="sm">
            <Text size="sm" data-testid="signed-in-as">
              {me.username}
            </Text>
            {me.super_user && <Badge variant="light">superuser</Badge>}
            <Button variant="default" size="xs" onClick={onSignOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        <ScrollArea>
          {link({ page: 'overview' }, me.super_user ? 'Overview' : 'Home', route.page === 'overview')}
          {namespaces.map((ns) =>
            link({ page: 'namespace', namespace: ns }, ns, (route.page === 'namespace' || route.page === 'repository') && route.namespace === ns),
          )}
          {me.super_user && link({ page: 'pipeline' }, 'Pipeline', route.page === 'pipeline')}
          {link({ page: 'exports' }, 'Exports', route.page === 'exports')}
          {link({ page: 'access' }, 'Access', route.page === 'access')}
          {me.super_user && link({ page: 'messages' }, 'Messages', route.page === 'messages')}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        <Banners routeKey={routeKey} />
        <Page route={route} me={me} />
      </AppShell.Main>
    </AppShell>
  );
}

function Page({ route, me }: { route: Route; me: Me }) {
  switch (route.page) {
    case 'overview':
      return me.super_user ? <Overview key="all" scope={{ kind: 'superuser' }} /> : <Home me={me} />;
    case 'namespace':
      return <Overview key={`ns:${route.namespace}`} scope={{ kind: 'org', namespace: route.namespace }} />;
    case 'repository':
      return <Overview key={`repo:${route.namespace}/${route.repository}`} scope={{ kind: 'repo', namespace: route.namespace, repository: route.repository }} />;
    case 'pipeline':
      return me.super_user ? <PipelineView /> : <Denied />;
    case 'exports':
      return <ExportsView />;
    case 'access':
      return <AccessView />;
    case 'messages':
      return me.super_user ? <MessagesView /> : <Denied />;
  }
}

function Denied() {
  return <Text>This page is for superusers. Ask a quaylogs superuser if you need it.</Text>;
}

function Home({ me }: { me: Me }) {
  const namespaces = readableNamespaces(me);
  return (
    <>
      <Title order={2} mb="sm">
        Your namespaces
      </Title>
      <Text mb="md" c="dimmed">
        You can read the usage logs of these namespaces{me.repositories.length ? ' and repositories' : ''}.
      </Text>
      {namespaces.map((ns) => (
        <NavLink key={ns} href={hrefFor({ page: 'namespace', namespace: ns })} label={ns} data-testid="home-namespace" />
      ))}
      {me.repositories.map((r) => {
        const [ns, ...rest] = r.split('/');
        return <NavLink key={r} href={hrefFor({ page: 'repository', namespace: ns!, repository: rest.join('/') })} label={r} />;
      })}
    </>
  );
}
