import { openEmbeddedStore } from '@quaylogs/clickhouse';
import { renderedEntrySql, renderParams } from '../../services/exporter/src/exportSql.ts';
const store = await openEmbeddedStore({ path: '/tmp/exports-demo/clickhouse', database: 'quaylogs', readers: 1 });
const r = renderedEntrySql('json');
const where = `namespace = 'yoyodyne-legal' AND datetime >= '2026-11-01 00:00:00' AND datetime < '2026-12-04 00:00:00'`;
const params = { ...renderParams('json'), performer_names: [''], performer_texts: [''] };
const noFb = r.text.replace(/concat\('\\0', toJSONString[^]*\)$/, "''");
const okOnly = `WITH ${r.with} SELECT toString(m_ok) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`;
const entryOnly = `WITH ${r.with} SELECT ${r.text.replace(/^if\(m_ok AND/, 'if(1 AND')} FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`;
const variants: Record<string, string> = {
  simpleKeys: `WITH if(metadata = '', '{}', JSONExtractRaw(metadata)) AS m, extractAll(m, '[{,]"[^"]*":') AS ks SELECT toString(startsWith(m, '{') AND isValidUTF8(m) AND NOT match(m, {re_not_as_js:String}) AND position(m, '\\\\"') = 0 AND arrayUniq(ks) = length(ks)) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  countOnly: `WITH if(metadata = '', '{}', JSONExtractRaw(metadata)) AS m SELECT toString(startsWith(m, '{') AND isValidUTF8(m) AND NOT match(m, {re_not_as_js:String}) AND countMatches(m, '[{,]"[^"]*":') > 0) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  okNoDup: `WITH if(metadata = '', '{}', JSONExtractRaw(metadata)) AS m SELECT toString(startsWith(m, '{') AND isValidUTF8(m) AND NOT match(m, {re_not_as_js:String})) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  okTopDup: `WITH if(metadata = '', '{}', JSONExtractRaw(metadata)) AS m SELECT toString(startsWith(m, '{') AND isValidUTF8(m) AND NOT match(m, {re_not_as_js:String}) AND arrayUniq(JSONExtractKeys(m)) = JSONLength(m)) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  okOnly, entryOnly,
  noFallback: `WITH ${r.with} SELECT ${noFb} FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  plainConcat: `SELECT concat(kind, metadata, ip, toString(datetime), performer) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  full: `WITH ${r.with} SELECT ${r.text} FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  extractRaw: `SELECT JSONExtractRaw(metadata) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  notAsJs: `SELECT toString(match(metadata, {re_not_as_js:String})) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  keys: `SELECT toString(length(arrayDistinct(JSONExtractKeys(metadata))) = length(JSONExtractKeys(metadata))) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  utf8: `SELECT toString(isValidUTF8(metadata)) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
  nested: `SELECT toString(countSubstrings(metadata, '{') = 1) FROM usage_logs WHERE ${where} ORDER BY datetime, event_key`,
};
const only = process.argv.slice(2);
for (let round = 0; round < 4; round++) for (const [k, sql] of Object.entries(variants)) {
  if (only.length && !only.includes(k)) continue;
  const t = performance.now();
  const b = await store.queryRaw({ name: k, sql, params });
  console.log(round, k, Math.round(performance.now() - t), 'ms', b.length);
}
await store.close();
