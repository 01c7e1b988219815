import { Alert, Center, Loader } from '@mantine/core';
import { type DependencyList, type ReactNode, useEffect, useState } from 'react';

export type AsyncState<T> = { status: 'loading' } | { status: 'error'; error: string } | { status: 'ok'; data: T };

/** Runs `load` whenever `deps` change; the latest run wins. */
export function useAsync<T>(load: () => Promise<T>, deps: DependencyList): [AsyncState<T>, () => void] {
  const [state, setState] = useState<AsyncState<T>>({ status: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    setState((s) => (s.status === 'ok' ? s : { status: 'loading' }));
    load().then(
      (data) => alive && setState({ status: 'ok', data }),
      (err: Error) => alive && setState({ status: 'error', error: err.message }),
    );
    return () => {
      alive = false;
    };
    // deps are the caller's (plus the reload tick), as in a React effect
  }, [...deps, tick]);
  return [state, () => setTick((t) => t + 1)];
}

/** Loading spinner, an error that says what happened, or the content. */
export function Show<T>({ state, children, what }: { state: AsyncState<T>; children: (data: T) => ReactNode; what: string }) {
  if (state.status === 'loading')
    return (
      <Center p="md">
        <Loader size="sm" aria-label={`Loading ${what}`} />
      </Center>
    );
  if (state.status === 'error')
    return (
      <Alert color="red" title={`Could not load ${what}`} role="alert">
        {state.error} Try again, or check that quaylogs is running and that your token may read this.
      </Alert>
    );
  return <>{children(state.data)}</>;
}
