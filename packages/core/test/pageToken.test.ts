import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken, type PageCursor } from '../src/index.ts';

const SECRET = 'test-secret-0123456789';
const SCOPE = 'org-logs|ns=myorg|repo=|performer=|kinds=|start=2024-01-01T00:00:00.000Z|end=2024-06-19T00:00:00.000Z';
const NOW = new Date('2024-06-18T12:00:00Z');
const cursor: PageCursor = {
  datetime: '2024-06-18 18:59:13.123',
  eventKey: '340282366920938463463374607431768211455',
  source: 'quay-prod',
};

describe('page tokens', () => {
  it('round-trips the cursor for the same query, secret and time', () => {
    const token = encodePageToken(cursor, SCOPE, SECRET, NOW);
    expect(decodePageToken(token, SCOPE, SECRET, NOW)).toEqual(cursor);
  });

  it('is opaque, url-safe base64 without padding, and differs on every call', () => {
    const a = encodePageToken(cursor, SCOPE, SECRET, NOW);
    const b = encodePageToken(cursor, SCOPE, SECRET, NOW);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(a).not.toContain('quay-prod');
    expect(a).not.toBe(b);
    expect(decodePageToken(b, SCOPE, SECRET, NOW)).toEqual(cursor);
  });

  it('rejects a token altered in any byte', () => {
    const raw = Buffer.from(encodePageToken(cursor, SCOPE, SECRET, NOW), 'base64url');
    for (let i = 0; i < raw.length; i += 1) {
      const copy = Buffer.from(raw);
      copy[i] = (copy[i] ?? 0) ^ 0x01;
      expect(decodePageToken(copy.toString('base64url'), SCOPE, SECRET, NOW), `byte ${i}`).toBeNull();
    }
    expect(decodePageToken(raw.subarray(0, -1).toString('base64url'), SCOPE, SECRET, NOW)).toBeNull();
  });

  it('rejects a token issued for another query (foreign scope)', () => {
    const token = encodePageToken(cursor, SCOPE, SECRET, NOW);
    expect(decodePageToken(token, SCOPE.replace('myorg', 'otherorg'), SECRET, NOW)).toBeNull();
    expect(decodePageToken(token, '', SECRET, NOW)).toBeNull();
  });

  it('rejects a token sealed with another secret', () => {
    const token = encodePageToken(cursor, SCOPE, SECRET, NOW);
    expect(decodePageToken(token, SCOPE, 'another-secret', NOW)).toBeNull();
  });

  it('expires after 2 days by default, or after the given ttl', () => {
    const token = encodePageToken(cursor, SCOPE, SECRET, NOW);
    const at = (s: number) => new Date(NOW.getTime() + s * 1000);
    expect(decodePageToken(token, SCOPE, SECRET, at(172_799))).toEqual(cursor);
    expect(decodePageToken(token, SCOPE, SECRET, at(172_800))).toBeNull();
    const short = encodePageToken(cursor, SCOPE, SECRET, NOW, 60);
    expect(decodePageToken(short, SCOPE, SECRET, at(59))).toEqual(cursor);
    expect(decodePageToken(short, SCOPE, SECRET, at(60))).toBeNull();
  });

  it('treats empty and malformed tokens as no token, without throwing', () => {
    for (const bad of [
      undefined, null, '', 'gAAAAABmcXl0', 'not a token', '!!!!', 'AQ', 'x'.repeat(5000),
      Buffer.from('{"v":1}').toString('base64url'),
    ]) {
      expect(decodePageToken(bad, SCOPE, SECRET, NOW), String(bad).slice(0, 20)).toBeNull();
    }
    expect(decodePageToken('AAAA', SCOPE, '', NOW)).toBeNull();
  });

  it('refuses to seal with an empty secret', () => {
    expect(() => encodePageToken(cursor, SCOPE, '', NOW)).toThrow();
  });
});
