/**
 * The one row factory: a stored usage-log row, rows that look like Quay's polled log, and
 * the HEC event Quay posts for one of them. Override what the test is about.
 */
import { assignContentKeys, NO_EXTENDED_FIELDS, type UsageLogRow } from '@quaylogs/core';

/** A stored row with every optional column empty. */
export function row(overrides: Partial<UsageLogRow> = {}): UsageLogRow {
  return {
    source: 'quay-prod',
    namespace: 'quayuser',
    repository: 'busybox',
    kind: 'push_repo',
    performer: 'quayuser',
    ip: '192.168.1.131',
    datetime: '2024-06-18 18:59:13.123',
    metadata: '{}',
    event_key: '1',
    ...NO_EXTENDED_FIELDS,
    ...overrides,
  };
}

let keySeq = 1000n;
/** A row of source `test` (acme/web, alice pulling) with a fresh event key on each call. */
export function logRow(over: Partial<UsageLogRow> = {}): UsageLogRow {
  keySeq += 1n;
  return row({
    source: 'test',
    namespace: 'acme',
    repository: 'web',
    kind: 'pull_repo',
    performer: 'alice',
    ip: '10.0.0.1',
    datetime: '2024-06-18 18:59:13.000',
    event_key: keySeq.toString(),
    ...over,
  });
}

/** `n` distinct polled-looking rows (content keys), `stepMs` (default 1 s) apart from `start`. */
export function quayRows(n: number, opts: { source?: string; namespace?: string; start?: Date; tag?: string; stepMs?: number } = {}): UsageLogRow[] {
  const start = opts.start ?? new Date(Date.now() - 3_600_000);
  const rows = Array.from({ length: n }, (_, i) => ({
    source: opts.source ?? 'quay-test',
    namespace: opts.namespace ?? `org${i % 3}`,
    repository: `repo${i % 7}`,
    kind: i % 5 === 0 ? 'push_repo' : 'pull_repo',
    performer: i % 4 === 0 ? `org${i % 3}+bot` : 'alice',
    ip: `10.0.${i % 250}.${i % 7}`,
    datetime: new Date(start.getTime() + i * (opts.stepMs ?? 1000)).toISOString().replace('T', ' ').replace('Z', ''),
    metadata: JSON.stringify({ tag: opts.tag ?? 'latest', n: i }),
    ...NO_EXTENDED_FIELDS,
  }));
  return assignContentKeys(rows);
}

/** The fields of one event in Quay's HEC post (`{"event": …}`): a pull by alice of acme/web, now. */
export interface HecEventFields {
  kind: string;
  account: string;
  repository: string;
  performer: string;
  ip: string;
  /** Unix seconds. */
  datetime: number;
  metadata_json?: Record<string, unknown>;
  [extra: string]: unknown;
}

export function hecEvent(over: Partial<HecEventFields> = {}): { event: HecEventFields } {
  return {
    event: { kind: 'pull_repo', account: 'acme', repository: 'web', performer: 'alice', ip: '10.0.0.9', datetime: Math.floor(Date.now() / 1000), ...over },
  };
}
