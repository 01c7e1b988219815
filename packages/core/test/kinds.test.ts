import { describe, expect, it } from 'vitest';
import { LOG_KINDS, SERVICE_LEVEL_LOG_KINDS, isKnownKind } from '../src/index.ts';

describe('log kinds', () => {
  it("lists Quay's 146 kinds once each, in Quay's order", () => {
    expect(LOG_KINDS).toHaveLength(146);
    expect(new Set(LOG_KINDS).size).toBe(146);
    expect(LOG_KINDS[0]).toBe('user_create');
    expect(LOG_KINDS[21]).toBe('push_repo');
    expect(LOG_KINDS[30]).toBe('revert_tag');
    expect(LOG_KINDS[145]).toBe('org_mirror_repo_creation_failed');
  });

  it('names the six service-key kinds hidden from user logs, all of them known kinds', () => {
    expect([...SERVICE_LEVEL_LOG_KINDS].sort()).toEqual([
      'service_key_approve', 'service_key_create', 'service_key_delete',
      'service_key_extend', 'service_key_modify', 'service_key_rotate',
    ]);
    for (const kind of SERVICE_LEVEL_LOG_KINDS) expect(isKnownKind(kind)).toBe(true);
  });

  it('tells known kinds from others', () => {
    expect(isKnownKind('pull_repo')).toBe(true);
    expect(isKnownKind('some_future_kind')).toBe(false);
    expect(isKnownKind('toString')).toBe(false);
    expect(isKnownKind('')).toBe(false);
  });
});
