export { startLoader, loadOnce, dedupTokenFor, isTransientInsertError, INSERT_INTENTS_KEY, WRITERS_QUIESCED_KEY, LOADER_MEMBERS_KEY, leaseKeyOf } from './loader.ts';
export type { Loader, LoaderOptions, LoadStats } from './loader.ts';
export { quiesceWriters } from './loader/quiesceWriters.ts';
export { listDeadLetters, replayDeadLetters, countDeadLetters, deadLetter } from './deadletter.ts';
export type { DeadLetter } from './deadletter.ts';
export { ingestStatus, pendingEntries } from './status.ts';
export type { IngestStatus, SourceStatus } from './status.ts';
export * from './poller/index.ts';
export * from './import/index.ts';
