/** Moved to @quaylogs/testing (STORE_HOST_SCRIPT); kept for multiLoader.test.ts, which spawns this path. */
import '@quaylogs/testing/storeHostMain';
