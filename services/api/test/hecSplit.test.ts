/**
 * Splitting a HEC body into events: Splunk's batch form one object per line (the fast
 * path), objects back to back or spread over lines (the scanner), and the number of the
 * first bad event either way.
 */
import { describe, expect, it } from 'vitest';
import { HecError, splitHecBody } from '../src/routes/hec.ts';

const ev = (kind: string) => ({ event: { kind, metadata_json: { note: 'a "quoted" {brace}\\n and\na newline escape' } }, sourcetype: 'access_combined' });

function errorIndex(body: string): number | undefined {
  try {
    splitHecBody(body);
  } catch (err) {
    if (err instanceof HecError) return err.eventNumber;
    throw err;
  }
  return undefined;
}

describe('splitHecBody', () => {
  it('reads one object per line, objects back to back, and objects spread over several lines alike', () => {
    const events = [ev('a'), ev('b'), ev('c')];
    const kinds = (body: string) => splitHecBody(body).map((e) => (e as { event: { kind: string } }).event.kind);
    expect(kinds(events.map((e) => JSON.stringify(e)).join('\n'))).toEqual(['a', 'b', 'c']);
    expect(kinds(`\r\n${events.map((e) => JSON.stringify(e)).join('\r\n')}\r\n\n`)).toEqual(['a', 'b', 'c']);
    expect(kinds(events.map((e) => JSON.stringify(e)).join(''))).toEqual(['a', 'b', 'c']);
    expect(kinds(events.map((e) => JSON.stringify(e, null, 2)).join('\n'))).toEqual(['a', 'b', 'c']);
    // Mixed: two objects on one line, then one per line.
    expect(kinds(`${JSON.stringify(events[0])} ${JSON.stringify(events[1])}\n${JSON.stringify(events[2])}`)).toEqual(['a', 'b', 'c']);
  });

  it('names the first bad event whichever way the body is laid out', () => {
    const good = JSON.stringify(ev('a'));
    expect(errorIndex(`${good}\n${good}\n{"event": oops}\n${good}`)).toBe(2);
    expect(errorIndex(`${good}\n[${good}]`)).toBe(1);
    expect(errorIndex(`${good}\n42`)).toBe(1);
    expect(errorIndex(`${JSON.stringify(ev('a'), null, 2)}\n{"event": {"kind": `)).toBe(1);
  });
});
