/**
 * The three export formats, as text builders over stored rows:
 * - `json`: Quay's export document (docs/compatibility.md) — export_id, details, the
 *   log entries (Quay's entry shape, non-ASCII escaped like Python's json.dumps), then
 *   the `{"terminator": true}` entry that ends every Quay export;
 * - `ndjson`: one Quay log entry per line, nothing else;
 * - `csv`: RFC 4180, one row per entry (ISO-8601 time with milliseconds).
 */
import {
  type AccountInfo,
  formatRfc2822,
  NO_EXTENDED_FIELDS,
  type QuayLogEntry,
  type QuayPerformer,
  renderLogEntry,
  type UsageLogRow,
} from '@quaylogs/core';

export type ExportFormat = 'json' | 'ndjson' | 'csv';

export interface DocumentDetails {
  exportId: string;
  start: Date;
  /** Exclusive end of the window. */
  end: Date;
  namespace: string;
  repository: string | null;
}

/** Python's `ensure_ascii`: every non-ASCII UTF-16 unit as `\uXXXX`. */
export function asciiJson(json: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(json)) return json;
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `json.dumps` of a flat object with Python's default separators (`", "`, `": "`). */
export function pythonFlatJson(obj: Record<string, string | number | boolean | null>): string {
  const parts = Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return asciiJson(`{${parts.join(', ')}}`);
}

/**
 * Renders stored rows as Quay log entries. The performer object (with its avatar hash)
 * is built once per performer name and reused, since a namespace has few performers.
 */
export class EntryRenderer {
  private readonly performers = new Map<string, QuayPerformer>();
  private static readonly NO_ACCOUNTS: ReadonlyMap<string, AccountInfo> = new Map();

  constructor(
    private readonly accounts: ReadonlyMap<string, AccountInfo>,
    private readonly hashKind: 'local' | 'gravatar',
  ) {}

  render(row: UsageLogRow): QuayLogEntry {
    const entry = renderLogEntry(row.performer === '' ? row : { ...row, performer: '' }, EntryRenderer.NO_ACCOUNTS, false, this.hashKind);
    if (row.performer !== '') entry.performer = this.performer(row.performer);
    return entry;
  }

  /** The performer object of an entry performed by `name`. */
  performer(name: string): QuayPerformer {
    let performer = this.performers.get(name);
    if (performer === undefined) {
      performer = renderLogEntry({ ...NO_ROW, performer: name }, this.accounts, false, this.hashKind).performer!;
      if (this.performers.size >= 100_000) this.performers.clear();
      this.performers.set(name, performer);
    }
    return performer;
  }
}

const NO_ROW: UsageLogRow = {
  source: '', namespace: '', repository: '', kind: '', performer: '', ip: '', datetime: '1970-01-01 00:00:00.000', metadata: '', event_key: '0', ...NO_EXTENDED_FIELDS,
};

export interface Formatter {
  readonly contentType: string;
  readonly extension: string;
  head(): string;
  entry(row: UsageLogRow, entry: QuayLogEntry): string;
  tail(): string;
}

/** Quay's document: the header and footer are laid out as Quay's worker writes them. */
function quayDocument(d: DocumentDetails): Formatter {
  return {
    contentType: 'application/json',
    extension: 'json',
    head() {
      const details = pythonFlatJson({
        start_time: formatRfc2822(d.start),
        // Quay shows the last instant covered (its end is "+1 day − 1 ms"); so do we.
        end_time: formatRfc2822(new Date(d.end.getTime() - 1)),
        namespace: d.namespace,
        repository: d.repository,
      });
      return `{\n      "export_id": ${JSON.stringify(d.exportId)},\n      "details": ${details},\n      "logs": [\n    `;
    },
    entry(_row, entry) {
      return `${asciiJson(JSON.stringify(entry))},`;
    },
    tail() {
      return '\n        {"terminator": true}]\n      }';
    },
  };
}

function ndjson(): Formatter {
  return {
    contentType: 'application/x-ndjson',
    extension: 'ndjson',
    head: () => '',
    entry: (_row, entry) => `${JSON.stringify(entry)}\n`,
    tail: () => '',
  };
}

export const CSV_COLUMNS = ['datetime', 'kind', 'namespace', 'repository', 'performer', 'performer_is_robot', 'ip', 'metadata'] as const;

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** `2024-06-18 18:59:13.123` ⇒ `2024-06-18T18:59:13.123Z`. */
function isoFromCh(datetime: string): string {
  return `${datetime.replace(' ', 'T')}Z`;
}

function csv(): Formatter {
  return {
    contentType: 'text/csv; charset=utf-8',
    extension: 'csv',
    head: () => `${CSV_COLUMNS.join(',')}\r\n`,
    entry(row, entry) {
      const fields = [
        isoFromCh(row.datetime),
        entry.kind,
        row.namespace,
        row.repository,
        entry.performer?.name ?? '',
        entry.performer ? String(entry.performer.is_robot) : '',
        entry.ip ?? '',
        JSON.stringify(entry.metadata),
      ];
      return `${fields.map(csvField).join(',')}\r\n`;
    },
    tail: () => '',
  };
}

export function formatterFor(format: ExportFormat, details: DocumentDetails): Formatter {
  switch (format) {
    case 'json':
      return quayDocument(details);
    case 'ndjson':
      return ndjson();
    case 'csv':
      return csv();
  }
}
