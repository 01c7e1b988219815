export { buildApp, directAuditWriter, JSON_BODY_LIMIT } from './app.ts';
export type { BuildAppOptions } from './app.ts';
export { ensureBootstrapAdmin, BOOTSTRAP_USER } from './bootstrap.ts';
export type { AppContext, AuditWriter } from './context.ts';
export { checkReadOnlySql } from './readOnlySql.ts';
export { hashToken } from './tokenCodes.ts';
export { exportsPlugin } from './routes/exports.ts';
export { hecPlugin, parseHecTokens } from './routes/hec.ts';
export { ingestStatusPlugin } from './routes/ingestStatus.ts';
