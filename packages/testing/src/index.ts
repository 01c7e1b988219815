/**
 * @quaylogs/testing: the fixtures every test file uses, so none reaches into another
 * package's src or test directory. Subpath exports: `/up` (spawned `quaylogs up`),
 * `/children` (JSON-logging child processes), `/quaySim` (a simulated Quay), `/serverLane`.
 */
export { QUAYLOGS_BIN, REPO_ROOT, repoPath } from './paths.ts';
export { dataTables, openTestStore, resetStore, TEST_BACKEND, type TestStore } from './store.ts';
export { type FileStore, type FileStoreAndRedis, useStoreAndRedis, useTestStore } from './hooks.ts';
export { flushTestRedis, testRedis, testRedisBase, testRedisDb, testRedisUrl } from './redis.ts';
export { hecEvent, type HecEventFields, logRow, quayRows, row } from './rows.ts';
export { ADMIN_TOKEN, type ApiTarget, call, mdy, notFoundBody, requiresAuthentication, type Res, unauthorized, userWithToken } from './http.ts';
