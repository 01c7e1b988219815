/**
 * Splunk search results for usage_logs entries, rendered by ClickHouse: one line per entry,
 * `{"_raw":"…","_time":"…"}`, where `_raw` is the event Quay's `splunk_hec` producer sends
 * (keys sorted like Quay's `json.dumps(sort_keys=True)`, empty values null, `datetime` as
 * epoch seconds, `metadata_json` the stored object, `performer_email: null` when the entry
 * has no request URL and no HTTP method). Rendering in the engine spares the API process
 * a row object and two JSON passes per entry: an export renders millions of them.
 * The API's quayHecEvent renders the same text in TypeScript for short reads; a test keeps
 * the two equal.
 */
import type { ClickHouseStore } from '../store.ts';
import { readUsageLogsAt, type SelectList, type TimeBucket } from './usageLogOffsets.ts';
import type { LogFilter } from './usageLogs.ts';

/** A text column as JSON: null when empty. */
const text = (col: string) => `if(${col} = '', 'null', toJSONString(${col}))`;

/** Epoch seconds of the stored time: an integer, or with the milliseconds' significant digits. */
const EPOCH_SECONDS = `if(toUnixTimestamp64Milli(datetime) % 1000 = 0,
  toString(intDiv(toUnixTimestamp64Milli(datetime), 1000)),
  concat(toString(intDiv(toUnixTimestamp64Milli(datetime), 1000)), '.',
         replaceRegexpOne(leftPad(toString(toUnixTimestamp64Milli(datetime) % 1000), 3, '0'), '0+$', '')))`;

const RAW = `concat(
  '{"account": ', ${text('namespace')}, ', "auth_type": ', ${text('auth_type')},
  ', "datetime": ', ${EPOCH_SECONDS},
  ', "http_method": ', ${text('http_method')}, ', "ip": ', ${text('ip')}, ', "kind": ', toJSONString(kind),
  ', "metadata_json": ', if(startsWith(metadata, '{'), metadata, '{}'),
  ', "namespace_name": ', ${text('namespace')}, ', "performer": ', ${text('performer')},
  if(request_url = '' AND http_method = '', ', "performer_email": null', ''),
  ', "performer_kind": ', ${text('performer_kind')}, ', "performer_username": ', ${text('performer')},
  ', "repository": ', ${text('repository')}, ', "repository_name": ', ${text('repository')},
  ', "request_id": ', ${text('request_id')}, ', "request_url": ', ${text('request_url')},
  ', "user_agent": ', ${text('user_agent')}, ', "x_forwarded_for": ', ${text('x_forwarded_for')}, '}')`;

const LINE: SelectList = {
  name: 'splunkEvents.lines',
  sql: `concat('{"_raw":', toJSONString(${RAW}), ',"_time":"', replaceOne(toString(datetime), ' ', 'T'), '+00:00"}') AS line`,
  // Keep "/" as is, as JSON.stringify and Python's json.dumps do.
  settings: { output_format_json_escape_forward_slashes: 0 },
};

/** `count` result lines from position `offset` of the window, newest first (see readUsageLogsAt). */
export async function readSplunkEventLines(
  store: ClickHouseStore,
  filter: LogFilter,
  offset: number,
  count: number,
  days: readonly TimeBucket[],
): Promise<string[]> {
  const rows = await readUsageLogsAt<{ line: string }>(store, filter, offset, count, { days, select: LINE });
  return rows.map((r) => r.line);
}
