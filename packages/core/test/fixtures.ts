import { NO_EXTENDED_FIELDS, type UsageLogRow } from '../src/index.ts';

/** A stored row with every optional column empty; override what the test is about. */
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
