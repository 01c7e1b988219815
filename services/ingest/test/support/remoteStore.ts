/** Moved to @quaylogs/testing/remoteStore; kept for multiLoader.test.ts until it imports from there. */
export { remoteStore } from '@quaylogs/testing/remoteStore';
