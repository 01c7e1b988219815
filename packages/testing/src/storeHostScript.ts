/** Where the store-host script is, to spawn it (spawnJsonChild(STORE_HOST_SCRIPT, [storeDir])). */
import { fileURLToPath } from 'node:url';

export const STORE_HOST_SCRIPT = fileURLToPath(new URL('./storeHost.ts', import.meta.url));
