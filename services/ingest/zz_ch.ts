import { openTestStore } from '../../packages/clickhouse/test/fixtures.ts';
import { insertUsageLogs } from '@quaylogs/clickhouse';
const { store, cleanup } = await openTestStore();
const row = (k: string, dt = '2024-06-18 18:59:13.000') => ({ source: 's', namespace: 'n', repository: '', kind: 'k', performer: '', ip: '', datetime: dt, metadata: '{}', event_key: k, request_url: '', http_method: '', user_agent: '', request_id: '', auth_type: '', performer_kind: '', x_forwarded_for: '' });
await insertUsageLogs(store, [row('340282366920938463463374607431768211455'), row('5')]);
for (const keys of [['5', '340282366920938463463374607431768211455', '7'], [5n, 7n]]) {
  try {
    const r = await store.query({ name: 't', sql: 'SELECT toString(event_key) k FROM usage_logs WHERE event_key IN {keys:Array(UInt128)}', params: { keys } });
    console.log('ok', JSON.stringify(r));
  } catch (e) { console.log('err', (e as Error).message.slice(0, 200)); }
}
for (const bad of [row('340282366920938463463374607431768211456'), row('999999999999999999999999999999999999999'), row('1', '1850-01-01 00:00:00.000'), row('2', '2400-01-01 00:00:00.000')]) {
  try { await insertUsageLogs(store, [bad]); console.log('inserted', bad.event_key, bad.datetime); } catch (e) { console.log('insert err', (e as Error).message.slice(0, 200)); }
}
console.log(await store.query({ name: 't', sql: 'SELECT toString(event_key) k, datetime FROM usage_logs' }));
// dedup: same token twice, check rollup
await insertUsageLogs(store, [row('100'), row('101')], 'tok-a');
await insertUsageLogs(store, [row('100'), row('101')], 'tok-a');
console.log(await store.query({ name: 't', sql: "SELECT count() c FROM usage_logs WHERE event_key IN (100,101)" }));
console.log(await store.query({ name: 't', sql: "SELECT sum(count) c FROM usage_daily_repo WHERE namespace='n'" }));
const t0 = Date.now();
const keys = Array.from({ length: 20000 }, (_, i) => 10n ** 30n + BigInt(i));
const r = await store.query({ name: 't', sql: "SELECT event_key FROM usage_logs WHERE source IN {s:Array(String)} AND namespace IN {n:Array(String)} AND datetime BETWEEN {a:DateTime64(3,'UTC')} AND {b:DateTime64(3,'UTC')} AND event_key IN {keys:Array(UInt128)}", params: { s: ['s'], n: ['n'], a: '2024-06-18 00:00:00.000', b: '2024-06-19 00:00:00.000', keys } });
console.log('20k lookup ms', Date.now() - t0, r.length);
await cleanup();
