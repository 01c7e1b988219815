/**
 * The server lane's engine process: the real ClickHouse engine (chDB) in a data directory
 * of its own, served over ClickHouse's HTTP protocol with writes on — a stand-in for a
 * ClickHouse server, so the suite can run the server backend (`CLICKHOUSE_URL`,
 * @clickhouse/client over HTTP) and split mode as separate processes. Test-only: the
 * bridge refuses writes unless NODE_ENV=test and QUAYLOGS_TEST_BRIDGE_WRITES are set.
 *
 * Environment: LANE_DATA_DIR (required), LANE_PASSWORD (required), LANE_PORT (default 0).
 * Prints `listening <port>` on stdout once it answers; SIGTERM stops it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openEngineSessions } from '@quaylogs/clickhouse';
import { createClickHouseHttpBridge } from '@quaylogs/api';

const LANE_USER = 'lane';

const dir = process.env.LANE_DATA_DIR;
const password = process.env.LANE_PASSWORD;
if (!dir || !password) throw new Error('LANE_DATA_DIR and LANE_PASSWORD are required');
mkdirSync(dir, { recursive: true });

// A ClickHouse server's default (chDB's differs), so the lane answers like a server.
const engine = await openEngineSessions({ path: join(dir, 'clickhouse'), size: 8, sessionSettings: { output_format_json_quote_64bit_integers: 1 } });
const bridge = createClickHouseHttpBridge({
  engine,
  database: 'default',
  authenticate: async (user, pass) => (user === LANE_USER && pass === password ? { username: user, superuser: true } : null),
  // With test writes on, every statement runs as sent: the read-only guard is never asked.
  guard: async () => ({ ok: false, reason: 'the server lane does not guard reads' }),
  limits: { timeoutS: 600, maxResultRows: 1_000_000_000, maxResultBytes: 8 * 1024 * 1024 * 1024 },
  testWrites: true,
});
const port = await bridge.listen(Number(process.env.LANE_PORT ?? 0), '127.0.0.1');
process.stdout.write(`listening ${port}\n`);

const stop = async () => {
  await bridge.close();
  engine.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
