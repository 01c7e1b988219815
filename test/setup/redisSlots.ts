/** Worker slots with a private redis-server each (vitest's maxWorkers is 2; spare slots cost little). */
export const REDIS_SLOTS = 4;

/** The key under which the global setup provides the servers' ports to test files. */
export const REDIS_PORTS_KEY = 'quaylogsRedisPorts';

declare module 'vitest' {
  export interface ProvidedContext {
    quaylogsRedisPorts: number[];
  }
}
