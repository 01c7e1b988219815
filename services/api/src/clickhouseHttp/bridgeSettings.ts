/**
 * Which URL parameters of ClickHouse's HTTP interface the bridge honours, ignores or
 * refuses. BI tools and @clickhouse/client send protocol parameters (query_id, database,
 * default_format, compression…) and a few engine settings (output formats, time zone);
 * those are fine. Any setting that would lift a limit, change what a query may do, or
 * read or write files is refused, as a ClickHouse server refuses settings to a
 * `readonly = 1` user.
 */

export interface BridgeLimits {
  /** max_execution_time, seconds. */
  timeoutS: number;
  /** max_result_rows. */
  maxResultRows: number;
  /** max_result_bytes. */
  maxResultBytes: number;
}

/** Protocol parameters: read by the bridge itself, never passed to the engine. */
const PROTOCOL = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'user',
  'password',
  'quota_key',
  'session_id', // accepted and ignored: every request is independent (documented)
  'session_timeout',
  'session_check',
  'enable_http_compression',
  'http_zlib_compression_level',
  'wait_end_of_query', // results are always buffered to the end
  'http_wait_end_of_query',
  'buffer_size',
  'http_response_buffer_size',
  'send_progress_in_http_headers', // accepted; no progress headers are sent
  'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms',
  'cancel_http_readonly_queries_on_client_close',
  'log_comment',
  // clickhouse-go (Grafana's data source) sends it with default_format=Native on every request;
  // the engine answers Native in the HTTP interface's default revision.
  'client_protocol_version',
]);

/** Engine settings that only shape output (passed through to the statement). */
const HARMLESS_EXACT = new Set([
  'date_time_output_format',
  'date_time_input_format',
  'session_timezone',
  'extremes',
  'join_use_nulls',
  'totals_mode',
  'cast_keep_nullable',
  'result_overflow_mode',
  'timeout_overflow_mode',
  'max_block_size',
  'prefer_column_name_to_alias',
  'allow_experimental_analyzer',
  'enable_analyzer',
]);
/** output_format_schema and format_schema / format_template_* name files on the server. */
const HARMLESS_PREFIX = /^(?:output_format_(?!schema$)|format_csv_|format_tsv_|format_json_|input_format_(?:json|tsv|csv)_)/;

/** Limits a client may lower but not raise (0 means "no limit" in ClickHouse, so it raises). */
const LOWERABLE: Record<string, (l: BridgeLimits) => number> = {
  max_execution_time: (l) => l.timeoutS,
  max_result_rows: (l) => l.maxResultRows,
  max_result_bytes: (l) => l.maxResultBytes,
};
/** Extra limits quaylogs does not set: any positive value only adds one. */
const ADDABLE = new Set(['max_rows_to_read', 'max_bytes_to_read', 'max_memory_usage', 'max_rows_to_group_by', 'max_columns_to_read']);

const NAME = /^[a-z_][a-z0-9_]*$/;
const VALUE = /^[A-Za-z0-9_.:+\-/ ]{0,100}$/;

export type SettingsVerdict =
  | { ok: true; settings: Record<string, string | number>; protocol: Map<string, string>; params: Record<string, string> }
  | { ok: false; setting: string; reason: string };

/**
 * Splits a request's parameters into protocol values, `param_*` values and engine settings,
 * and appends the bridge's own limits (`readonly = 1` unless writes are on).
 */
export function classifyParameters(entries: Iterable<[string, string]>, limits: BridgeLimits, opts: { writes: boolean }): SettingsVerdict {
  const protocol = new Map<string, string>();
  const params: Record<string, string> = {};
  const settings: Record<string, string | number> = {};
  for (const [name, value] of entries) {
    if (name.startsWith('param_')) {
      params[name.slice('param_'.length)] = value;
      continue;
    }
    if (PROTOCOL.has(name)) {
      protocol.set(name, value);
      continue;
    }
    if (name === 'compress' || name === 'decompress') {
      if (value === '0' || value === '') continue;
      return { ok: false, setting: name, reason: `ClickHouse's native block compression ('${name}') is not supported by this endpoint; use HTTP compression (enable_http_compression=1)` };
    }
    if (!NAME.test(name) || !VALUE.test(value)) return { ok: false, setting: name, reason: `Cannot modify '${name}' setting: invalid name or value` };
    if (name === 'readonly') {
      if (opts.writes || value === '1') continue;
      return { ok: false, setting: name, reason: "Cannot modify 'readonly' setting in readonly mode" };
    }
    if (name in LOWERABLE) {
      const n = Number(value);
      const cap = LOWERABLE[name]!(limits);
      if (!Number.isFinite(n) || n <= 0 || n > cap) {
        return { ok: false, setting: name, reason: `Setting ${name} should not be greater than ${cap} (nor 0, which means no limit)` };
      }
      settings[name] = n;
      continue;
    }
    if (ADDABLE.has(name)) {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) return { ok: false, setting: name, reason: `Setting ${name} must be a positive number here (0 means no limit)` };
      settings[name] = n;
      continue;
    }
    if (HARMLESS_EXACT.has(name) || HARMLESS_PREFIX.test(name)) {
      settings[name] = /^-?\d+$/.test(value) ? Number(value) : value;
      continue;
    }
    return { ok: false, setting: name, reason: `Cannot modify '${name}' setting in readonly mode` };
  }
  if (!opts.writes) {
    // A ClickHouse server's default, which clients such as @clickhouse/client expect (chDB's differs).
    settings.output_format_json_quote_64bit_integers ??= 1;
    // quaylogs' limits win over nothing: a client may only have lowered them above.
    settings.max_execution_time ??= limits.timeoutS;
    settings.max_result_rows ??= limits.maxResultRows;
    settings.max_result_bytes ??= limits.maxResultBytes;
    settings.result_overflow_mode ??= 'throw';
    settings.readonly = 1;
  }
  return { ok: true, settings, protocol, params };
}

/** `SETTINGS a = 1, b = 'x'` from classified settings (names and values already validated). */
export function renderSettings(settings: Record<string, string | number>): string {
  const parts = Object.entries(settings).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${v}'`}`);
  return parts.length ? ` SETTINGS ${parts.join(', ')}` : '';
}
