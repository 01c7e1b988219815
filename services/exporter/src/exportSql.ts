/**
 * ClickHouse renders the export entries: one SELECT produces, per row, the exact bytes the
 * Node renderer (exportFormats.ts) writes for that row, so the exporter copies bytes instead
 * of decoding rows and encoding entries.
 *
 * The stored metadata text is brought to the form `JSON.stringify(JSON.parse(text))` has by
 * ClickHouse's own JSON parser and writer (JSONExtractRaw: compact, keys in order, `\u00e9`
 * as Quay's Python writes it decoded), then checked for the few things JavaScript would
 * write differently (METADATA, NOT_AS_JS). Quay's document (`json`) escapes every non-ASCII
 * character: the exporter does that for a page's raw non-ASCII bytes in Node. A row that
 * fails a check — or whose kind, ip or performer could not be spliced as they are — comes
 * out as a NUL-delimited JSON record of its fields instead, which the exporter renders with
 * the Node renderer: output stays byte-identical, and only unusual rows pay for it.
 *
 * Performer objects (avatar hash and colour, robot flag) depend on account data and on
 * Unicode case folding; they are rendered once per distinct performer in Node, with the same
 * code as `/logs`, and handed to the SELECT as two parallel arrays.
 */
import type { ExportFormat } from './exportFormats.ts';

/** Printable ASCII except `"` and `\`: a string that is its own JSON string body. */
const PLAIN_TEXT = '^[ !#-\\[\\]-~]*$';
/**
 * What ClickHouse's compact form (JSONExtractRaw) may hold that `JSON.stringify(JSON.parse())`
 * would write differently — matched anywhere, so text inside strings can only send a row to
 * Node, never let a difference through:
 * - a key that is an array index (JavaScript moves those first; conservatively all digits);
 * - 16 digits in a row (an integer beyond 2^53 loses digits in JavaScript);
 * - a number with an exponent (ClickHouse writes `1e21`, JavaScript `1e+21`), below 1e-6
 *   (JavaScript switches to exponent notation there), or `-0` (JavaScript writes `0`);
 * - an escape with upper-case hex digits (ClickHouse writes `\u001F`, JavaScript `\u001f`);
 * - for ndjson and csv, the escapes of U+2028 and U+2029 (JavaScript writes them raw; Quay's
 *   document escapes every non-ASCII character anyway).
 */
const NOT_AS_JS = [
  '"[0-9]+":',
  '[0-9]{16}',
  '[:,\\[]-?[0-9][0-9.]*[eE][-+]?[0-9]+[,}\\]]',
  '[:,\\[]-?0\\.000000',
  '[:,\\[]-0[,}\\]]',
  '\\\\u[0-9a-f]{0,3}[A-F]',
];
const CSV_SPECIAL = '[",\\r\\n]';

/** The regular expressions, bound as typed parameters. */
export function renderParams(format: ExportFormat): Record<string, string> {
  return {
    re_plain: PLAIN_TEXT,
    re_not_as_js: (format === 'json' ? NOT_AS_JS : [...NOT_AS_JS, '\\\\u202[89]']).join('|'),
    re_key: KEY,
    re_csv: CSV_SPECIAL,
  };
}

/**
 * Every key (the group) of a compact text that holds no escaped quote, so that every `"`
 * delimits a string: `{"` and `,"` then occur only where a key (or an array's string element,
 * which `":` never follows) begins, so the matches are exactly the keys.
 */
const KEY = '[{,]("[^"]*"):';

/**
 * The metadata as `JSON.stringify(JSON.parse(text))` would write it (`m`) and whether that is
 * proven (`m_ok`). JSONExtractRaw parses the text (strictly: invalid JSON, invalid UTF-8 and
 * lone surrogates give '') and writes it back compact, keys in their order, escapes as
 * JavaScript writes them but for the cases NOT_AS_JS catches. JavaScript keeps one member
 * per key (the last value, in the first place); text where any key appears twice — in one
 * object or, conservatively, anywhere — goes to Node, and so does text with an escaped
 * quote (where KEY would not find every key).
 */
const METADATA = `
  if(metadata = '', '{}', JSONExtractRaw(metadata)) AS m,
  extractAll(m, {re_key:String}) AS m_keys,
  (startsWith(m, '{') AND isValidUTF8(m) AND NOT match(m, {re_not_as_js:String}) AND position(m, '\\\\"') = 0
    AND arrayUniq(m_keys) = length(m_keys)) AS m_ok`;

const PERFORMER = `if(performer = '', '', transform(performer, {performer_names:Array(String)}, {performer_texts:Array(String)}, '')) AS p`;

/** The fields the Node renderer needs, for a row ClickHouse does not render. */
const FALLBACK = `concat('\\0', toJSONString(tuple(toString(kind), performer, ip, toString(datetime), metadata, namespace, repository)), '\\0')`;

const csvField = (x: string) => `if(match(${x}, {re_csv:String}), concat('"', replaceAll(${x}, '"', '""'), '"'), ${x})`;
const csvSafe = (x: string) => `(isValidUTF8(${x}) AND position(${x}, '\\0') = 0)`;

/**
 * `WITH <with> SELECT <text> FROM usage_logs …` renders an entry of `format` from each row
 * (one String column: RawBLOB writes every selected column, so the helpers live in WITH). For `json` each entry ends with `,`, for `ndjson` with a newline, for
 * `csv` with CRLF, as the Node formatters write them. Parameters: `renderParams(format)`,
 * `performer_names` and `performer_texts` (see `performerTexts`).
 */
export function renderedEntrySql(format: ExportFormat): { with: string; text: string } {
  if (format === 'csv') {
    const ok = `m_ok AND (performer = '' OR p != '') AND ${['toString(kind)', 'namespace', 'repository', 'ip'].map(csvSafe).join(' AND ')}`;
    const line = `concat(replaceOne(toString(datetime), ' ', 'T'), 'Z', ',', ${csvField('toString(kind)')}, ',', ${csvField('namespace')}, ',',
      ${csvField('repository')}, ',', if(performer = '', ',', p), ',', ${csvField('ip')}, ',', ${csvField('m')}, '\\r\\n')`;
    return { with: `${METADATA}, ${PERFORMER}`, text: `if(${ok}, ${line}, ${FALLBACK})` };
  }
  const ok = `m_ok AND (performer = '' OR p != '') AND match(kind, {re_plain:String}) AND match(ip, {re_plain:String})`;
  const entry = `concat('{"kind":"', kind, '","metadata":', m, ',"ip":', if(ip = '', 'null', concat('"', ip, '"')),
    ',"datetime":"', formatDateTime(datetime, '%a, %d %b %Y %H:%i:%S -0000'), '"', if(performer = '', '', concat(',"performer":', p)), '}', ${format === 'json' ? "','" : "'\\n'"})`;
  return { with: `${METADATA}, ${PERFORMER}`, text: `if(${ok}, ${entry}, ${FALLBACK})` };
}

/** The fields of a row ClickHouse left to Node, in FALLBACK's order. */
export type FallbackFields = [kind: string, performer: string, ip: string, datetime: string, metadata: string, namespace: string, repository: string];
