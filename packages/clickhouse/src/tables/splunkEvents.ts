/**
 * Splunk search results for usage_logs entries, rendered by ClickHouse: a JSON array of
 * `{"_raw":"…","_time":"…"}` objects, where `_raw` is the event Quay's `splunk_hec` producer
 * sends (keys sorted like Quay's `json.dumps(sort_keys=True)`, empty values null, `datetime`
 * as epoch seconds, `metadata_json` the stored object, `performer_email: null` when the entry
 * has no request URL and no HTTP method). The engine renders the text and Node only copies
 * its bytes: no row object, no JSON pass and no UTF-8 decoding per entry (an export renders
 * millions of them). The API's quayHecEvent renders the same text in TypeScript for short
 * reads; a test keeps the two equal.
 */
import type { ClickHouseStore } from '../store.ts';
import { readUsageLogsAtRaw, type SelectList, type TimeBucket } from './usageLogOffsets.ts';
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

/** Each entry's line followed by a comma: the rows' values concatenated are a JSON array's items. */
const ITEM: SelectList = {
  name: 'splunkEvents.items',
  sql: `concat('{"_raw":', toJSONString(${RAW}), ',"_time":"', replaceOne(toString(datetime), ' ', 'T'), '+00:00"},') AS item`,
  // Keep "/" as is, as JSON.stringify and Python's json.dumps do.
  settings: { output_format_json_escape_forward_slashes: 0 },
};

/**
 * `count` results from position `offset` of the window, newest first (see readUsageLogsAt),
 * as the UTF-8 text of a JSON array of `{"_raw":…,"_time":…}` objects: the engine's bytes,
 * neither decoded nor re-encoded by Node.
 */
export async function readSplunkEventsJson(
  store: ClickHouseStore,
  filter: LogFilter,
  offset: number,
  count: number,
  days: readonly TimeBucket[],
): Promise<Buffer> {
  const items = await readUsageLogsAtRaw(store, filter, offset, count, { days, select: ITEM });
  // Every item ends with a comma: the last one's becomes the closing bracket.
  if (items.length === 0) return Buffer.from('[]');
  const out = Buffer.allocUnsafe(items.length + 1);
  out[0] = 0x5b; // [
  items.copy(out, 1);
  out[out.length - 1] = 0x5d; // ]
  return out;
}
