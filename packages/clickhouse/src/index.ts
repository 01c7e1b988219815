export * from './store.ts';
export { openEmbeddedStore } from './embedded.ts';
export { openServerStore } from './server.ts';
export { openStore, embeddedPath } from './createStore.ts';
export { migrate, loadMigrations, splitStatements, DEFAULT_MIGRATIONS_DIR } from './migrate.ts';
export * from './tables/usageLogs.ts';
export * from './tables/aggregates.ts';
export * from './tables/identity.ts';
export * from './tables/accounts.ts';
