import { openEmbeddedStore } from '@quaylogs/clickhouse';
import { renderedEntrySql, renderParams } from '../../services/exporter/src/exportSql.ts';
const store = await openEmbeddedStore({ path: '/tmp/exports-demo/clickhouse', database: 'quaylogs', readers: 1 });
const r = renderedEntrySql('json');
const where = `namespace = 'yoyodyne-legal' AND datetime >= '2026-09-01 00:00:00' AND datetime < '2026-12-04 00:00:00'`;
const params = { ...renderParams('json'), performer_names: [''], performer_texts: [''] };
const variants: Record<string, string> = {
  plainConcat: `SELECT concat(kind, metadata, ip, toString(datetime), performer) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  full: `WITH ${r.with} SELECT ${r.text} FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  metaOnly: `WITH ${r.with} SELECT if(m_ok, m, '') FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  stripOnly: `WITH ${r.with} SELECT m FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  tokensOnly: `SELECT toString(match(metadata, {re_tokens:String})) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  validJson: `SELECT toString(isValidJSON(metadata)) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  keys: `SELECT toString(length(arrayDistinct(JSONExtractKeys(metadata))) = length(JSONExtractKeys(metadata))) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  dateFmt: `SELECT formatDateTime(datetime, '%a, %d %b %Y %H:%i:%S -0000') FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
};
for (let round = 0; round < 2; round++) for (const [k, sql] of Object.entries(variants)) {
  const t = performance.now();
  const b = await store.queryRaw({ name: k, sql, params });
  console.log(round, k, Math.round(performance.now() - t), 'ms', b.length);
}
await store.close();
