/**
 * One process bringing the schema up as `quaylogs` does at start (not a test file itself):
 *
 *   node --import tsx migrateChild.ts <storePort> <redisUrl> auto|off
 *
 * It uses the store a storeHost.ts process lends (so several processes share one engine)
 * and logs every line of the schema step as JSON, then {"msg":"done"} or {"msg":"failed"}.
 */
import { remoteStore } from '@quaylogs/testing/remoteStore';
import { prepareSchema } from '../src/schema.ts';

const [port, redisUrl, mode] = process.argv.slice(2);
if (!port || !redisUrl || (mode !== 'auto' && mode !== 'off')) throw new Error('usage: migrateChild.ts <storePort> <redisUrl> auto|off');
const out = (obj: object) => process.stdout.write(`${JSON.stringify(obj)}\n`);
out({ msg: 'child: started', pid: process.pid });
try {
  await prepareSchema({ REDIS_URL: redisUrl }, remoteStore(Number(port)), mode, (line) => out({ msg: 'log', line }));
  out({ msg: 'done' });
  process.exit(0);
} catch (err) {
  out({ msg: 'failed', err: String((err as Error).message) });
  process.exit(1);
}
