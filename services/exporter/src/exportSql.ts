/**
 * ClickHouse renders the export entries: one SELECT produces, per row, the exact bytes the
 * Node renderer (exportFormats.ts) writes for that row, so the exporter copies bytes instead
 * of decoding rows and encoding entries.
 *
 * The stored metadata text is spliced in as it is once it is brought to the form
 * `JSON.stringify(JSON.parse(text))` has: whitespace between tokens is dropped (Quay's own
 * `json.dumps` writes `", "` and `": "`), and the text must then pass a check that proves
 * parsing and re-serialising would not change it — valid UTF-8, a JSON object, every string
 * escaped as JavaScript escapes it, numbers JavaScript prints the same way, no key that is an
 * array index (JavaScript moves those first), no key twice in one object. For Quay's document
 * (`json`), escapes of non-ASCII characters (`\u00e9`, as Python writes them) are kept: the
 * document escapes every non-ASCII character anyway, and the exporter escapes raw non-ASCII
 * bytes of a page in Node. A row that fails any check — or whose kind, ip or performer could
 * not be spliced as they are — comes out as a NUL-delimited JSON record of its fields instead,
 * which the exporter renders with the Node renderer: output stays byte-identical, and only
 * unusual rows pay for it.
 *
 * Performer objects (avatar hash and colour, robot flag) depend on account data and on
 * Unicode case folding; they are rendered once per distinct performer in Node, with the same
 * code as `/logs`, and handed to the SELECT as two parallel arrays.
 */
import type { ExportFormat } from './exportFormats.ts';

/** Printable ASCII except `"` and `\`: a string that is its own JSON string body. */
const PLAIN_TEXT = '^[ !#-\\[\\]-~]*$';
/** A JSON string whose escapes are the ones JavaScript writes (controls only, short forms first). */
const JS_STRING_BODY = '(?:[^"\\\\\\x00-\\x1f]|\\\\["\\\\bfnrt]|\\\\u000[0-7bef]|\\\\u001[0-9a-f])';
/** As above, plus lower-case escapes of non-ASCII UTF-16 units (the document's own form). */
const ASCII_STRING_BODY = '(?:[^"\\\\\\x00-\\x1f]|\\\\["\\\\bfnrt]|\\\\u000[0-7bef]|\\\\u001[0-9a-f]|\\\\u00[89a-f][0-9a-f]|\\\\u0[1-9a-f][0-9a-f]{2}|\\\\u[1-9a-f][0-9a-f]{3})';
/**
 * Numbers JavaScript prints back unchanged: integers of up to 15 digits, decimals of up to
 * 14 significant digits without trailing zeros, no exponent, no `-0`. Each token takes the
 * delimiter after it, so a longer number cannot pass as a shorter one.
 */
const JS_NUMBER = '(?:0|-?[1-9][0-9]{0,14}|-?(?:0|[1-9][0-9]{0,7})\\.[0-9]{0,5}[1-9])[,}\\]]';
const tokens = (stringBody: string) => `^(?:"${stringBody}*"|${JS_NUMBER}|[{}\\[\\]:,]|true|false|null)*$`;
/** Strings are kept whole; whitespace runs between tokens are dropped. */
const BETWEEN_TOKENS = '("(?:[^"\\\\]|\\\\.)*")|[ \\t\\n\\r]+';
/** A key JavaScript would move to the front of its object (an array index; conservatively all digits). */
const INDEX_KEY = '"[0-9]+":';
const CSV_SPECIAL = '[",\\r\\n]';

/** The regular expressions, bound as typed parameters. */
export function renderParams(format: ExportFormat): Record<string, string> {
  return {
    re_plain: PLAIN_TEXT,
    re_tokens: tokens(format === 'json' ? ASCII_STRING_BODY : JS_STRING_BODY),
    re_ws: BETWEEN_TOKENS,
    re_index_key: INDEX_KEY,
    re_csv: CSV_SPECIAL,
  };
}

const uniqueKeys = (x: string) => `length(arrayDistinct(JSONExtractKeys(${x}))) = length(JSONExtractKeys(${x}))`;

/** The metadata as `JSON.stringify` would write it (`m`) and whether that is proven (`m_ok`). */
const METADATA = `
  if(metadata = '', '{}', metadata) AS m0,
  if(match(m0, '[ \\t\\n\\r]'), replaceRegexpAll(m0, {re_ws:String}, '\\\\1'), m0) AS m,
  (startsWith(m, '{') AND isValidUTF8(m) AND match(m, {re_tokens:String}) AND NOT match(m, {re_index_key:String})
    AND isValidJSON(m) AND ${uniqueKeys('m')}
    AND (countSubstrings(m, '{') = 1 OR arrayAll(v -> position(v, '{') = 0 OR (startsWith(v, '{') AND countSubstrings(v, '{') = 1 AND ${uniqueKeys('v')}),
                                                arrayMap(kv -> kv.2, JSONExtractKeysAndValuesRaw(m))))) AS m_ok`;

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
