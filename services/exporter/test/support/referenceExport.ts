/**
 * The reference export: what the exporter wrote before ClickHouse rendered the entries —
 * every row of the window read as a JS object, in (datetime, event_key) order, and rendered
 * by the Node renderer (exportFormats.ts: Quay's entry object, JSON.stringify, ASCII escaping
 * for the document, RFC 4180 for CSV). Export files must equal it byte for byte.
 */
import { findAccounts, type ClickHouseStore, type LogFilter, USAGE_LOG_COLUMNS, whereFor } from '@quaylogs/clickhouse';
import type { UsageLogRow } from '@quaylogs/core';
import { type DocumentDetails, EntryRenderer, type ExportFormat, formatterFor } from '../../src/exportFormats.ts';

export async function referenceExport(
  store: ClickHouseStore,
  filter: LogFilter,
  format: ExportFormat,
  details: DocumentDetails,
  hashKind: 'local' | 'gravatar' = 'local',
): Promise<{ bytes: Buffer; rows: number }> {
  const where = whereFor(filter);
  const rows = await store.query<UsageLogRow>({
    name: 'test.referenceExport',
    sql: `SELECT ${USAGE_LOG_COLUMNS.join(', ')} FROM usage_logs WHERE ${where.sql} ORDER BY datetime, event_key`,
    params: where.params,
  });
  const accounts = await findAccounts(store, rows.map((r) => r.performer));
  const renderer = new EntryRenderer(accounts, hashKind);
  const fmt = formatterFor(format, details);
  let text = fmt.head();
  for (const row of rows) text += fmt.entry(row, renderer.render(row));
  text += fmt.tail();
  return { bytes: Buffer.from(text), rows: rows.length };
}
