import { describe, expect, it } from 'vitest';
import { assignContentKeys, NO_EXTENDED_FIELDS } from '@quaylogs/core';
import { accountsFromEntry, parseRfc2822, quayEntryToRow, quayLogEntrySchema } from '../src/index.ts';

// An entry as Quay's superuser listing sends it.
const SPEC_ENTRY = {
  kind: 'revert_tag',
  metadata: { username: 'quayuser', repo: 'busybox', tag: 'test-two', manifest_digest: 'sha256:abc' },
  ip: '192.168.1.131',
  datetime: 'Tue, 18 Jun 2024 18:59:13 -0000',
  performer: {
    kind: 'user',
    name: 'quayuser',
    is_robot: false,
    avatar: { name: 'quayuser', hash: 'b28d', color: '#17becf', kind: 'user' },
  },
  namespace: { kind: 'org', name: 'myorg', avatar: { name: 'myorg', hash: '00', color: '#969696', kind: 'org' } },
};

describe('parseRfc2822', () => {
  it("reads Quay's formatdate output to the second, in UTC", () => {
    expect(parseRfc2822('Tue, 18 Jun 2024 18:59:13 -0000')?.toISOString()).toBe('2024-06-18T18:59:13.000Z');
    expect(parseRfc2822('Wed, 19 Jun 2024 00:00:00 -0000')?.toISOString()).toBe('2024-06-19T00:00:00.000Z');
  });
  it('applies numeric offsets and accepts GMT, no weekday and one-digit days', () => {
    expect(parseRfc2822('Tue, 18 Jun 2024 20:59:13 +0200')?.toISOString()).toBe('2024-06-18T18:59:13.000Z');
    expect(parseRfc2822('1 Jan 2024 00:00:00 GMT')?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });
  it('rejects what is not a date', () => {
    expect(parseRfc2822('2024-06-18T18:59:13Z')).toBeNull();
    expect(parseRfc2822('Fri, 30 Feb 2024 00:00:00 -0000')).toBeNull();
    expect(parseRfc2822('Tue, 18 Foo 2024 18:59:13 -0000')).toBeNull();
    expect(parseRfc2822('')).toBeNull();
  });
});

describe('quayEntryToRow', () => {
  it('maps every field of a superuser-listing entry, keeping the .000 of a seconds-only datetime', () => {
    const row = quayEntryToRow(quayLogEntrySchema.parse(SPEC_ENTRY), { source: 'prod' });
    expect(row).toEqual({
      source: 'prod',
      namespace: 'myorg',
      repository: 'busybox',
      kind: 'revert_tag',
      performer: 'quayuser',
      ip: '192.168.1.131',
      datetime: '2024-06-18 18:59:13.000',
      metadata: JSON.stringify(SPEC_ENTRY.metadata),
      ...NO_EXTENDED_FIELDS,
    });
  });

  it('uses the listed namespace over the entry, and empty strings for anonymous entries without ip or repo', () => {
    const entry = quayLogEntrySchema.parse({ kind: 'pull_repo', metadata: {}, ip: null, datetime: 'Mon, 01 Jan 2024 00:00:00 -0000' });
    const row = quayEntryToRow(entry, { source: 's', namespace: 'acme' });
    expect(row).toMatchObject({ namespace: 'acme', performer: '', ip: '', repository: '', metadata: '{}', datetime: '2024-01-01 00:00:00.000' });
  });

  it('falls back to metadata.namespace on a superuser entry whose account is gone, and null metadata is {}', () => {
    const entry = quayLogEntrySchema.parse({ kind: 'push_repo', metadata: { namespace: 'old', repo: 'r' }, ip: '1.2.3.4', datetime: 'Mon, 01 Jan 2024 10:00:00 -0000' });
    expect(quayEntryToRow(entry, { source: 's' })).toMatchObject({ namespace: 'old', repository: 'r' });
    const bare = quayLogEntrySchema.parse({ kind: 'x', metadata: null, datetime: 'Mon, 01 Jan 2024 10:00:00 -0000' });
    expect(quayEntryToRow(bare, { source: 's' }).metadata).toBe('{}');
  });

  it('keeps unknown kinds and robot performers as Quay names them', () => {
    const entry = quayLogEntrySchema.parse({
      kind: 'unknown',
      metadata: {},
      ip: '10.0.0.1',
      datetime: 'Mon, 01 Jan 2024 10:00:00 -0000',
      performer: { kind: 'user', name: 'acme+ci', is_robot: true, avatar: { name: 'acme+ci', hash: 'ff', color: '#a55194', kind: 'robot' } },
    });
    const row = quayEntryToRow(entry, { source: 's', namespace: 'acme' });
    expect(row).toMatchObject({ kind: 'unknown', performer: 'acme+ci' });
    expect(accountsFromEntry(entry)).toEqual([{ name: 'acme+ci', kind: 'robot', email: null }]);
  });

  it('rejects an entry whose datetime is not a Quay date', () => {
    const entry = quayLogEntrySchema.parse({ kind: 'x', metadata: {}, datetime: 'yesterday' });
    expect(() => quayEntryToRow(entry, { source: 's' })).toThrow(/RFC-2822/);
  });

  it('gives the same content key to the same entry read twice, whatever its metadata key order', () => {
    const a = quayEntryToRow(quayLogEntrySchema.parse(SPEC_ENTRY), { source: 'prod' });
    const reordered = { ...SPEC_ENTRY, metadata: { tag: 'test-two', repo: 'busybox', manifest_digest: 'sha256:abc', username: 'quayuser' } };
    const b = quayEntryToRow(quayLogEntrySchema.parse(reordered), { source: 'prod' });
    expect(assignContentKeys([a])[0]!.event_key).toBe(assignContentKeys([b])[0]!.event_key);
  });

  it('reports namespace accounts of superuser entries: orgs and users', () => {
    expect(accountsFromEntry(quayLogEntrySchema.parse(SPEC_ENTRY))).toEqual([
      { name: 'quayuser', kind: 'user', email: null },
      { name: 'myorg', kind: 'org', email: null },
    ]);
  });
});
