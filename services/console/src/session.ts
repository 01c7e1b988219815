import { createContext, useContext } from 'react';

export interface Me {
  username: string;
  email: string;
  super_user: boolean;
  organizations: { name: string }[];
  repositories: string[];
}

export const MeContext = createContext<Me | null>(null);

export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('not signed in');
  return me;
}

/** The namespaces this principal may read: their own, their organizations, their repositories' namespaces. */
export function readableNamespaces(me: Me): string[] {
  const set = new Set<string>([me.username, ...me.organizations.map((o) => o.name)]);
  return [...set].sort();
}
