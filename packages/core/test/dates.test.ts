import { describe, expect, it } from 'vitest';
import {
  addUtcDays,
  formatMdy,
  formatRfc2822,
  parseChDateTime,
  parseQuayDate,
  resolveLogWindow,
  startOfUtcDay,
  toChDateTime,
} from '../src/index.ts';

const iso = (s: string) => new Date(s);

describe('parseQuayDate', () => {
  it('reads Quay MM/DD/YYYY as UTC midnight, month and day may be unpadded', () => {
    expect(parseQuayDate('01/01/2024')).toEqual({ at: iso('2024-01-01T00:00:00Z'), dateOnly: true });
    expect(parseQuayDate('1/09/2017')).toEqual({ at: iso('2017-01-09T00:00:00Z'), dateOnly: true });
    expect(parseQuayDate('6/1/2024')?.at).toEqual(iso('2024-06-01T00:00:00Z'));
    expect(parseQuayDate('02/29/2024')?.at).toEqual(iso('2024-02-29T00:00:00Z'));
  });

  it('accepts what strptime accepts around the date: trailing whitespace, a space-padded day', () => {
    expect(parseQuayDate('06/18/2024 ')?.at).toEqual(iso('2024-06-18T00:00:00Z'));
    expect(parseQuayDate('06/ 8/2024')?.at).toEqual(iso('2024-06-08T00:00:00Z'));
  });

  it('keeps years below 100 literal (no 19xx mapping)', () => {
    expect(parseQuayDate('01/01/0099')?.at.getUTCFullYear()).toBe(99);
  });

  it('reads the ISO-8601 extension: a date is a day, a date-time is an instant (UTC when no zone)', () => {
    expect(parseQuayDate('2024-01-31')).toEqual({ at: iso('2024-01-31T00:00:00Z'), dateOnly: true });
    expect(parseQuayDate('2024-01-31T10:00:00Z')).toEqual({ at: iso('2024-01-31T10:00:00Z'), dateOnly: false });
    expect(parseQuayDate('2024-01-31T10:00:00')?.at).toEqual(iso('2024-01-31T10:00:00Z'));
    expect(parseQuayDate('2024-01-31T10:00')?.at).toEqual(iso('2024-01-31T10:00:00Z'));
    expect(parseQuayDate('2024-01-31T12:00:00+02:00')?.at).toEqual(iso('2024-01-31T10:00:00Z'));
    expect(parseQuayDate('2024-01-31T05:00:00.1234-0500')?.at).toEqual(iso('2024-01-31T10:00:00.123Z'));
  });

  it('returns null for anything else, which Quay silently ignores', () => {
    for (const bad of [
      undefined, null, '', 'yesterday', '01/01/24', '2024/01/01', '02/30/2024', '02/29/2023',
      '13/01/2024', '00/10/2024', '01/32/2024', '01/00/2024', '01/01/0000', ' 01/01/2024',
      '01/01/2024 UTC', '001/01/2024', '2024-02-30', '2024-13-01', '2024-01-31T24:00:00Z',
      '2024-01-31T10:00:00+24:00', '1706695200', '01-01-2024',
    ]) {
      expect(parseQuayDate(bad), String(bad)).toBeNull();
    }
  });
});

describe('resolveLogWindow', () => {
  const now = iso('2024-06-18T18:59:13.500Z');

  it("adds one day to endtime so the named day is included (Quay's crossyear test)", () => {
    const { start, end } = resolveLogWindow('12/01/2016', '1/09/2017', now);
    expect(formatRfc2822(start)).toBe('Thu, 01 Dec 2016 00:00:00 -0000');
    expect(formatRfc2822(end)).toBe('Tue, 10 Jan 2017 00:00:00 -0000');
  });

  it('echoes the seed example 01/01/2024–06/18/2024 as Mon 01 Jan – Wed 19 Jun', () => {
    const { start, end } = resolveLogWindow('01/01/2024', '06/18/2024', now);
    expect(formatRfc2822(start)).toBe('Mon, 01 Jan 2024 00:00:00 -0000');
    expect(formatRfc2822(end)).toBe('Wed, 19 Jun 2024 00:00:00 -0000');
  });

  it('defaults to (now − 24 h, now + 24 h), keeping the time of day', () => {
    expect(resolveLogWindow(undefined, undefined, now)).toEqual({
      start: iso('2024-06-17T18:59:13.500Z'),
      end: iso('2024-06-19T18:59:13.500Z'),
    });
  });

  it('ignores garbage and uses the defaults instead', () => {
    expect(resolveLogWindow('2024/01/01', 'soon', now)).toEqual(resolveLogWindow(undefined, undefined, now));
    expect(resolveLogWindow('', '', now)).toEqual(resolveLogWindow(undefined, undefined, now));
  });

  it('defaults each bound independently', () => {
    expect(resolveLogWindow('06/01/2024', undefined, now)).toEqual({
      start: iso('2024-06-01T00:00:00Z'),
      end: iso('2024-06-19T18:59:13.500Z'),
    });
    expect(resolveLogWindow(undefined, '06/10/2024', now)).toEqual({
      start: iso('2024-06-17T18:59:13.500Z'),
      end: iso('2024-06-11T00:00:00Z'),
    });
  });

  it('adds a day to an ISO date end, but takes an ISO date-time end exactly', () => {
    expect(resolveLogWindow('2024-01-01', '2024-01-31', now).end).toEqual(iso('2024-02-01T00:00:00Z'));
    expect(resolveLogWindow('2024-01-01T06:00:00Z', '2024-01-31T10:00:00Z', now)).toEqual({
      start: iso('2024-01-01T06:00:00Z'),
      end: iso('2024-01-31T10:00:00Z'),
    });
  });

  it('lets the caller see end < start (Quay: 400) and end == start (Quay: empty window)', () => {
    const reversed = resolveLogWindow('02/02/2020', '01/01/2020', now);
    expect(reversed.end.getTime()).toBeLessThan(reversed.start.getTime());
    const empty = resolveLogWindow('01/02/2024', '01/01/2024', now);
    expect(empty.end.getTime()).toBe(empty.start.getTime());
  });
});

describe('formatting', () => {
  it('formats RFC-2822 like Quay: English names, padded day, seconds truncated, literal -0000', () => {
    expect(formatRfc2822(iso('2024-06-18T18:59:13.999Z'))).toBe('Tue, 18 Jun 2024 18:59:13 -0000');
    expect(formatRfc2822(iso('2024-01-01T00:00:00Z'))).toBe('Mon, 01 Jan 2024 00:00:00 -0000');
  });

  it('formats MM/DD/YYYY in UTC', () => {
    expect(formatMdy(iso('2024-06-18T23:59:59.999Z'))).toBe('06/18/2024');
    expect(formatMdy(iso('2017-01-09T00:00:00Z'))).toBe('01/09/2017');
  });

  it('writes and reads the ClickHouse DateTime64(3) text form', () => {
    const at = iso('2024-06-18T18:59:13.123Z');
    expect(toChDateTime(at)).toBe('2024-06-18 18:59:13.123');
    expect(toChDateTime(iso('2024-06-18T18:59:13Z'))).toBe('2024-06-18 18:59:13.000');
    expect(parseChDateTime('2024-06-18 18:59:13.123')).toEqual(at);
    expect(parseChDateTime('2024-06-18 18:59:13')).toEqual(iso('2024-06-18T18:59:13Z'));
    expect(parseChDateTime('2024-06-18 18:59:13.123456')).toEqual(at);
    expect(parseChDateTime(toChDateTime(at))).toEqual(at);
  });

  it('rejects text that is not a ClickHouse datetime', () => {
    for (const bad of ['', '2024-06-18T18:59:13Z', '2024-02-30 00:00:00', 'now']) {
      expect(() => parseChDateTime(bad), bad).toThrow(RangeError);
    }
  });
});

describe('UTC day arithmetic', () => {
  it('finds midnight UTC and shifts whole days', () => {
    expect(startOfUtcDay(iso('2024-06-18T18:59:13.123Z'))).toEqual(iso('2024-06-18T00:00:00Z'));
    expect(startOfUtcDay(iso('1969-12-31T23:00:00Z'))).toEqual(iso('1969-12-31T00:00:00Z'));
    expect(addUtcDays(iso('2024-02-28T12:00:00Z'), 1)).toEqual(iso('2024-02-29T12:00:00Z'));
    expect(addUtcDays(iso('2024-03-01T00:00:00Z'), -1)).toEqual(iso('2024-02-29T00:00:00Z'));
  });
});
