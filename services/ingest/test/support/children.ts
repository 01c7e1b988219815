/** Moved to @quaylogs/testing/children; kept for multiLoader.test.ts until it imports from there. */
export { type JsonChild, killAllChildren, spawnJsonChild } from '@quaylogs/testing/children';
