/**
 * The SPL parser on its own: Quay's exact strings parse to the query they mean (escaping,
 * kind exclusions as a set, the two-space filterless forms), and everything else is
 * refused with a message naming what is unsupported.
 */
import { describe, expect, it } from 'vitest';
import { parseSpl } from '../src/spl/parse.ts';
import { aggregateSpl, countSpl, exportSpl, lookupSpl, USER_EXCLUDED_KINDS } from './splunkQuay.ts';

describe('parseSpl', () => {
  it.each([null, 'quay_logs'])('reads every template Quay builds (index %s)', (index) => {
    const idx = index ? { index } : {};
    expect(parseSpl(lookupSpl(index, {}))).toEqual({ ...idx, excludeKinds: [], command: 'sorted' });
    expect(parseSpl(lookupSpl(index, { namespace: 'org', performer: 'alice' }))).toEqual({ ...idx, account: 'org', performer: 'alice', excludeKinds: [], command: 'sorted' });
    expect(parseSpl(lookupSpl(index, { namespace: 'bob', filterKinds: USER_EXCLUDED_KINDS }))).toEqual({
      ...idx, account: 'bob', excludeKinds: [...USER_EXCLUDED_KINDS].sort(), command: 'sorted',
    });
    expect(parseSpl(aggregateSpl(index, {}))).toEqual({ ...idx, excludeKinds: [], command: 'countByKindDay' });
    expect(parseSpl(aggregateSpl(index, { namespace: 'ns', repository: 'repo' }))).toEqual({ ...idx, account: 'ns', repository: 'repo', excludeKinds: [], command: 'countByKindDay' });
    expect(parseSpl(countSpl(index, { namespace: 'ns', repository: 'repo' }))).toEqual({ ...idx, account: 'ns', repository: 'repo', excludeKinds: [], command: 'count' });
    expect(parseSpl(exportSpl(index, { namespace: 'ns' }))).toEqual({ ...idx, account: 'ns', excludeKinds: [], command: 'events' });
  });

  it("undoes Quay's escaping of backslashes and quotes, and keeps * literal", () => {
    expect(parseSpl(lookupSpl(null, { namespace: 'a\\b"c', performer: 'x*' }))).toMatchObject({ account: 'a\\b"c', performer: 'x*' });
  });

  it('takes kind exclusions in any order and number as one set', () => {
    const a = parseSpl(lookupSpl(null, { namespace: 'u', filterKinds: USER_EXCLUDED_KINDS }));
    const b = parseSpl(lookupSpl(null, { namespace: 'u', filterKinds: [...USER_EXCLUDED_KINDS].reverse().concat('service_key_create') }));
    expect(b).toEqual(a);
  });

  it.each([
    ['search account="a" | head 5', 'the command head at position 21'],
    ['search account="a" | sort _time', 'expected -_time after sort'],
    ['search account="a" | stats count by kind', 'stats count by … is supported only after eval'],
    ['search account="a" | eval log_date=strftime(_time, "%Y") | stats count by kind, log_date', 'only strftime(_time, "%Y-%m-%d") is supported'],
    ['search account="a" account="b"', 'account= is given twice'],
    ['search sourcetype="x" account="a"', 'the term sourcetype=…'],
    ['search account!="a" | sort -_time', 'account supports only ='],
    ['search account="a', 'is not closed'],
    ['search account="a\\n"', 'the escape \\n'],
    ['search account="a" [search x]', 'the character "["'],
    ['search index=quay_logs ', 'an export of the whole index'],
    ['search account="a" | sort -_time | stats count', 'unexpected |'],
  ])('refuses %s', (spl, message) => {
    expect(() => parseSpl(spl)).toThrow(`Unsupported SPL: `);
    expect(() => parseSpl(spl)).toThrow(message);
  });
});
