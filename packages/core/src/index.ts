export * from './usageLog.ts';
export * from './dates.ts';
export * from './avatar.ts';
export * from './kinds.ts';
export * from './pageToken.ts';
export * from './quayErrors.ts';
export * from './quayLog.ts';
export * from './eventKey.ts';
