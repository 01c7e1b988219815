export * from './errors.ts';
export * from './rfc2822.ts';
export {
  quayGet,
  createQuayAgent,
  parseRetryAfter,
  errorDetail,
  DEFAULT_TIMEOUTS,
  DEFAULT_MAX_BODY_BYTES,
  type QuayTimeouts,
  type QuayGetOptions,
} from './http.ts';
export * from './logsPage.ts';
export * from './convert.ts';
export * from './client.ts';
