/** Hash routes (no server-side routing needed; never any token in them). */
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'overview' }
  | { page: 'namespace'; namespace: string }
  | { page: 'repository'; namespace: string; repository: string }
  | { page: 'pipeline' }
  | { page: 'exports' }
  | { page: 'access' }
  | { page: 'messages' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'ns':
      return parts[1] ? { page: 'namespace', namespace: parts[1] } : { page: 'overview' };
    case 'repo':
      return parts[1] && parts[2] ? { page: 'repository', namespace: parts[1], repository: parts.slice(2).join('/') } : { page: 'overview' };
    case 'pipeline':
    case 'exports':
    case 'access':
    case 'messages':
      return { page: parts[0] };
    default:
      return { page: 'overview' };
  }
}

export function hrefFor(r: Route): string {
  switch (r.page) {
    case 'overview':
      return '#/';
    case 'namespace':
      return `#/ns/${encodeURIComponent(r.namespace)}`;
    case 'repository':
      return `#/repo/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.repository)}`;
    default:
      return `#/${r.page}`;
  }
}

export function go(r: Route): void {
  location.hash = hrefFor(r);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
