export * from './redis.ts';
export * from './ingestStream.ts';
export * from './queueCatalog.ts';
export * from './logGenerations.ts';
export * from './groupAppend.ts';
export * from './lease.ts';
