/**
 * Recent exports, newest first, for the console's export lists: every export (a
 * superuser's view) or those one user requested. Reads ids only; callers load each
 * export with getExport (lists are short).
 */
import type { ClickHouseStore } from '../store.ts';

export async function listRecentExportIds(
  store: ClickHouseStore,
  opts: { requestedBy?: string; limit: number },
): Promise<string[]> {
  const where = opts.requestedBy === undefined ? '' : 'WHERE requested_by = {requestedBy:String}';
  const rows = await store.query<{ export_id: string }>({
    name: 'exports.listRecent',
    sql: `SELECT export_id FROM exports FINAL ${where} ORDER BY exports.created DESC, export_id LIMIT {limit:UInt32}`,
    params: { ...(opts.requestedBy === undefined ? {} : { requestedBy: opts.requestedBy }), limit: opts.limit },
  });
  return rows.map((r) => r.export_id);
}
