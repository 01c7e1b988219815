export { startPoller, pollBackoff, schedulerId, POLL_BACKOFF_TYPE } from './poller.ts';
export type { Poller, PollerOptions } from './poller.ts';
export { loadRetentionOverrides, loadSourcesConfig, parseRetentionOverrides, parseSourcesConfig, SourcesConfigError } from './sourcesConfig.ts';
export type { PollSource } from './sourcesConfig.ts';
export { pollSource, PollError, targetsOf, checkpointNamespace } from './pollSource.ts';
export type { PollContext, PollResult, NamespaceResult, PollerLogger } from './pollSource.ts';
export { walkDay, PagingError } from './dayWalk.ts';
export type { DayBatch, DayWalkOptions, DayWalkResult } from './dayWalk.ts';
