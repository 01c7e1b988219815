/**
 * What Quay's `splunk` logs model does with the search client, written out for tests:
 * its SPL strings (data/logs_model/splunk_logs_model.py: _build_base_query, its escaping,
 * the index prefix of splunk_search_client.py), its paging (count 21, offset += 20) and
 * its export loop (batches until empty or offset + len >= resultCount).
 */
import type { SplunkSdkClient } from './splunkSdkClient.ts';

/** Quay's _escape_spl_value: \ ⇒ \\, then " ⇒ \". */
export const escapeSpl = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

export interface QuayFilters {
  namespace?: string;
  performer?: string;
  repository?: string;
  filterKinds?: string[];
}

/** _build_base_query: terms joined by single spaces in Quay's fixed order. */
export function baseQuery(f: QuayFilters): string {
  const parts: string[] = [];
  if (f.namespace) parts.push(`account="${escapeSpl(f.namespace)}"`);
  if (f.performer) parts.push(`performer="${escapeSpl(f.performer)}"`);
  if (f.repository) parts.push(`repository="${escapeSpl(f.repository)}"`);
  for (const k of f.filterKinds ?? []) parts.push(`kind!="${escapeSpl(k)}"`);
  return parts.join(' ');
}

/** _build_search_query: the index prefix, or none. */
export const prefixed = (index: string | null, q: string) => (index ? `search index=${index} ${q}` : `search ${q}`);

export const lookupSpl = (index: string | null, f: QuayFilters) => prefixed(index, `${baseQuery(f)} | sort -_time`);
export const aggregateSpl = (index: string | null, f: QuayFilters) =>
  prefixed(index, `${baseQuery(f)} | eval log_date=strftime(_time, "%Y-%m-%d") | stats count by kind, log_date`);
export const countSpl = (index: string | null, f: QuayFilters) => `${prefixed(index, baseQuery(f))} | stats count`;
export const exportSpl = (index: string | null, f: QuayFilters) => prefixed(index, baseQuery(f));

/** Quay's six service-level kinds, excluded on the user routes (order varies per process). */
export const USER_EXCLUDED_KINDS = [
  'service_key_create', 'service_key_approve', 'service_key_delete',
  'service_key_modify', 'service_key_extend', 'service_key_rotate',
];

/** lookup_logs page after page, as Quay's UI walks them: count 21, offset += 20. */
export async function walkPages(client: SplunkSdkClient, spl: string, earliest: string, latest: string, maxPages = 10_000) {
  const pages: Record<string, unknown>[][] = [];
  let offset = 0;
  for (let n = 0; n < maxPages; n++) {
    const r = await client.search(spl, { count: 21, offset, earliest, latest });
    pages.push(r.rows.slice(0, 20));
    if (r.rows.length <= 20) break;
    offset += 20;
  }
  return pages;
}

/** yield_logs_for_export: batches at growing offsets, stopping on an empty batch or on resultCount. */
export async function exportBatches(client: SplunkSdkClient, spl: string, batch: number, earliest: string, latest: string) {
  const batches: Record<string, unknown>[][] = [];
  let offset = 0;
  for (;;) {
    const r = await client.search(spl, { count: batch, offset, earliest, latest });
    if (r.rows.length === 0) break;
    batches.push(r.rows);
    offset += r.rows.length;
    if (!(offset < r.resultCount)) break;
  }
  return batches;
}
