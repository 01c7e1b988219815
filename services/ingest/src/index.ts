export { startLoader, loadOnce, ensureIngestGroup, dedupTokenFor, isTransientInsertError, INSERT_INTENTS_KEY } from './loader.ts';
export type { Loader, LoaderOptions, LoadStats } from './loader.ts';
export { listDeadLetters, replayDeadLetters, countDeadLetters, deadLetter } from './deadletter.ts';
export type { DeadLetter } from './deadletter.ts';
export { ingestStatus } from './status.ts';
export type { IngestStatus, SourceStatus } from './status.ts';
export * from './poller/index.ts';
export * from './import/index.ts';
