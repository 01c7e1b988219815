/** Which part of the logs a view reads, and the API paths for it. */
export type Scope =
  | { kind: 'superuser'; namespace?: string }
  | { kind: 'org'; namespace: string }
  | { kind: 'repo'; namespace: string; repository: string };

export function basePath(s: Scope): string {
  switch (s.kind) {
    case 'superuser':
      return '/api/v1/superuser';
    case 'org':
      return `/api/v1/organization/${encodeURIComponent(s.namespace)}`;
    case 'repo':
      return `/api/v1/repository/${encodeURIComponent(s.namespace)}/${encodeURIComponent(s.repository)}`;
  }
}

/** Query parameters the scope adds (a superuser narrowing to one namespace). */
export function scopeQuery(s: Scope): Record<string, string> {
  return s.kind === 'superuser' && s.namespace ? { namespace: s.namespace } : {};
}

export function scopeTitle(s: Scope): string {
  if (s.kind === 'repo') return `${s.namespace}/${s.repository}`;
  if (s.namespace) return s.namespace;
  return 'All namespaces';
}
