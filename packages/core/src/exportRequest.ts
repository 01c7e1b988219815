/**
 * What one export asks for, the one description every part shares: the API builds it from a
 * request (or a schedule builds it for a period), the store keeps it as the export's row
 * (`@quaylogs/clickhouse` ExportRecord = this + progress), and the generation job carries it
 * (`@quaylogs/queue` ExportSpec, its wire form, mapped by `exportSpecOf` / `exportRequestOf`).
 * Absent values are '' (as the store keeps them); times are Dates.
 */
export type ExportFormat = 'json' | 'ndjson' | 'csv';

export interface ExportRequest {
  export_id: string;
  namespace: string;
  /** '' for user and organization exports. */
  repository: string;
  requested_by: string;
  /** '' unless a schedule submitted it. */
  schedule_id: string;
  window_start: Date;
  /** Exclusive. */
  window_end: Date;
  kinds: string[];
  /** Kinds never exported (Quay's service-level kinds on user exports, as /user/logs). */
  exclude_kinds: string[];
  performer: string;
  format: ExportFormat;
  compress: '' | 'gzip';
  callback_url: string;
  callback_email: string;
}
