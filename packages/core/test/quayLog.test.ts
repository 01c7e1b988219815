import { describe, expect, it } from 'vitest';
import { avatarFor, renderAggregate, renderLogEntry, type AccountInfo } from '../src/index.ts';
import { row } from '@quaylogs/testing';

const accounts = new Map<string, AccountInfo>([
  ['quayuser', { name: 'quayuser', kind: 'user', email: 'quayuser@example.com' }],
  ['myorg', { name: 'myorg', kind: 'org', email: 'admin@myorg.example.com' }],
  ['myorg+builder', { name: 'myorg+builder', kind: 'robot', email: '3f0c9a2e-robot-uuid' }],
]);

const SEED_METADATA =
  '{"username": "quayuser", "repo": "busybox", "tag": "test-two", "manifest_digest": "sha256:57583a1b9c0a7509d3417387b4f43acf80d08cdcf5266ac87987be3f8f919d5d"}';

describe('renderLogEntry', () => {
  it("renders the seed's revert_tag entry in Quay's shape and key order", () => {
    const entry = renderLogEntry(row({ kind: 'revert_tag', metadata: SEED_METADATA }), accounts, false);
    const avatar = avatarFor('quayuser', 'quayuser@example.com', 'user');
    expect(JSON.stringify(entry)).toBe(
      JSON.stringify({
        kind: 'revert_tag',
        metadata: JSON.parse(SEED_METADATA),
        ip: '192.168.1.131',
        datetime: 'Tue, 18 Jun 2024 18:59:13 -0000',
        performer: { kind: 'user', name: 'quayuser', is_robot: false, avatar },
      }),
    );
    expect(Object.keys(entry.performer?.avatar ?? {})).toEqual(['name', 'hash', 'color', 'kind']);
  });

  it('renders a robot performer as kind user, is_robot true, avatar kind robot hashed from its e-mail', () => {
    const entry = renderLogEntry(row({ performer: 'myorg+builder' }), accounts, false);
    expect(entry.performer).toEqual({
      kind: 'user',
      name: 'myorg+builder',
      is_robot: true,
      avatar: avatarFor('myorg+builder', '3f0c9a2e-robot-uuid', 'robot'),
    });
  });

  it('recognises a robot the accounts map does not know by its name, and hashes the name', () => {
    const entry = renderLogEntry(row({ performer: 'other+bot' }), accounts, false);
    expect(entry.performer).toEqual({
      kind: 'user', name: 'other+bot', is_robot: true, avatar: avatarFor('other+bot', null, 'robot'),
    });
  });

  it('omits performer for anonymous actions and renders an unknown ip as null', () => {
    const entry = renderLogEntry(row({ performer: '', ip: '', kind: 'pull_repo' }), accounts, true);
    expect(entry).not.toHaveProperty('performer');
    expect(entry.ip).toBeNull();
    expect(Object.keys(entry)).toEqual(['kind', 'metadata', 'ip', 'datetime', 'namespace']);
  });

  it('renders empty or invalid metadata as {}', () => {
    expect(renderLogEntry(row({ metadata: '' }), accounts, false).metadata).toEqual({});
    expect(renderLogEntry(row({ metadata: '{oops' }), accounts, false).metadata).toEqual({});
    expect(renderLogEntry(row({ metadata: '[1]' }), accounts, false).metadata).toEqual({});
  });

  it('keeps a kind name Quay sent even when it is not a known kind', () => {
    expect(renderLogEntry(row({ kind: 'some_future_kind' }), accounts, false).kind).toBe('some_future_kind');
  });

  it('includes namespace only when asked: org ⇒ kind org, user ⇒ kind user', () => {
    expect(renderLogEntry(row({ namespace: 'myorg' }), accounts, false)).not.toHaveProperty('namespace');
    const org = renderLogEntry(row({ namespace: 'myorg' }), accounts, true);
    expect(org.namespace).toEqual({
      kind: 'org', name: 'myorg', avatar: avatarFor('myorg', 'admin@myorg.example.com', 'org'),
    });
    expect(Object.keys(org)).toEqual(['kind', 'metadata', 'ip', 'datetime', 'performer', 'namespace']);
    const user = renderLogEntry(row({ namespace: 'quayuser' }), accounts, true);
    expect(user.namespace).toEqual({
      kind: 'user', name: 'quayuser', avatar: avatarFor('quayuser', 'quayuser@example.com', 'user'),
    });
    expect(user.namespace).not.toHaveProperty('is_robot');
  });

  it('gives a robot namespace kind user with a robot avatar', () => {
    const entry = renderLogEntry(row({ namespace: 'myorg+builder' }), accounts, true);
    expect(entry.namespace).toEqual({
      kind: 'user', name: 'myorg+builder', avatar: avatarFor('myorg+builder', '3f0c9a2e-robot-uuid', 'robot'),
    });
  });

  it('omits namespace when the account is unknown or the row has none (as Quay does)', () => {
    expect(renderLogEntry(row({ namespace: 'ghost' }), accounts, true)).not.toHaveProperty('namespace');
    expect(renderLogEntry(row({ namespace: '' }), accounts, true)).not.toHaveProperty('namespace');
  });

  it('hashes avatars with MD5 when AVATAR_KIND is gravatar', () => {
    const entry = renderLogEntry(row(), accounts, false, 'gravatar');
    expect(entry.performer?.avatar.hash).toBe(avatarFor('quayuser', 'quayuser@example.com', 'user', 'gravatar').hash);
    expect(entry.performer?.avatar.hash).toHaveLength(32);
  });
});

describe('renderAggregate', () => {
  it("renders {kind, count, datetime} with the day's UTC midnight", () => {
    const entry = renderAggregate('push_repo', 2, new Date('2024-06-18T15:42:00Z'));
    expect(JSON.stringify(entry)).toBe('{"kind":"push_repo","count":2,"datetime":"Tue, 18 Jun 2024 00:00:00 -0000"}');
  });

  it('appends extra keys after Quay’s three, never overriding them', () => {
    const entry = renderAggregate('pull_repo', 5, new Date('2024-06-18T00:00:00Z'), {
      repository: 'busybox',
      kind: 'evil',
      count: 'x',
    });
    expect(entry).toEqual({
      kind: 'pull_repo', count: 5, datetime: 'Tue, 18 Jun 2024 00:00:00 -0000', repository: 'busybox',
    });
    expect(Object.keys(entry)).toEqual(['kind', 'count', 'datetime', 'repository']);
  });
});
