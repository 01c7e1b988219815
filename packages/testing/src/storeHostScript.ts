/**
 * The store host (storeHost.ts) started as a child: one process holding an embedded store in
 * `dir` and lending it over loopback, for tests that run several loaders or migrators as
 * separate processes against one engine (connect with remoteStore(port)).
 */
import { fileURLToPath } from 'node:url';
import { type JsonChild, spawnJsonChild } from './children.ts';

export const STORE_HOST_SCRIPT = fileURLToPath(new URL('./storeHost.ts', import.meta.url));

/** Starts a store host on `dir` (`migrate: false`: the schema is left to the test) and waits for its port. */
export async function startStoreHost(dir: string, opts: { migrate?: boolean } = {}): Promise<{ port: number; child: JsonChild }> {
  const child = spawnJsonChild(STORE_HOST_SCRIPT, [dir, ...(opts.migrate === false ? ['--no-migrate'] : [])]);
  const { port } = (await child.waitFor((l) => typeof l.port === 'number')) as { port: number };
  return { port, child };
}
