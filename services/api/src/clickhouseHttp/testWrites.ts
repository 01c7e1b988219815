/**
 * The test suite's server lane: the bridge with writes on, so the suite can run the
 * server backend (`CLICKHOUSE_URL`) and split mode against the real engine without a
 * ClickHouse server. Production cannot turn it on by accident: it takes both
 * NODE_ENV=test and QUAYLOGS_TEST_BRIDGE_WRITES set to the phrase below, it is not part
 * of quaylogs' configuration, and no command passes `testWrites`; only test code does.
 */
export const TEST_WRITES_PHRASE = 'i-know-this-is-a-test';

export function testWritesAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NODE_ENV === 'test' && env.QUAYLOGS_TEST_BRIDGE_WRITES === TEST_WRITES_PHRASE;
}

export function assertTestWritesAllowed(env: NodeJS.ProcessEnv = process.env): void {
  if (!testWritesAllowed(env)) {
    throw new Error(
      `the ClickHouse HTTP bridge accepts writes only in the test suite (NODE_ENV=test and QUAYLOGS_TEST_BRIDGE_WRITES=${TEST_WRITES_PHRASE})`,
    );
  }
}
