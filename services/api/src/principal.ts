/**
 * Who is calling, and what they may read — Quay's rules:
 * a user reads their own namespace; organization admins their organizations;
 * repository admins their repositories; superusers everything.
 */
export interface Principal {
  username: string;
  email: string;
  superuser: boolean;
  /** Organizations this user administers. */
  organizations: ReadonlySet<string>;
  /** Repositories (`namespace/name`) this user administers. */
  repositories: ReadonlySet<string>;
  /** The app token used for this request. */
  tokenUuid: string | null;
}

/** Quay: admin of an organization, or the user's own namespace (every user administers it). */
export function canAdminNamespace(p: Principal, namespace: string): boolean {
  return p.superuser || p.username === namespace || p.organizations.has(namespace);
}

/** Quay: direct repository admin, or admin of its namespace. */
export function canAdminRepository(p: Principal, namespace: string, repository: string): boolean {
  return canAdminNamespace(p, namespace) || p.repositories.has(`${namespace}/${repository}`);
}
