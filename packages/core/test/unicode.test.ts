import { describe, expect, it } from 'vitest';
import { findInvalidText, isWellFormedText, jsonDepth } from '../src/index.ts';

describe('unicode checks', () => {
  it('tells lone surrogates from pairs', () => {
    expect(isWellFormedText('plain ü 😀')).toBe(true);
    expect(isWellFormedText('\ud83d\ude00')).toBe(true);
    for (const bad of ['\ud800', '\udfff', 'a\ud83d', '\ude00b', '\ud83d\ud83d']) expect(isWellFormedText(bad)).toBe(false);
  });

  it('names the first invalid key or value by its path', () => {
    expect(findInvalidText({ a: ['x', { b: 'ok' }], c: 1 })).toBeNull();
    expect(findInvalidText({ a: ['x', { b: '\ud800' }] })).toBe('a[1].b');
    expect(findInvalidText({ ['k\udc00']: 1 }, 'body')).toBe('body.k\udc00');
    expect(findInvalidText('\ud800')).toBe('(value)');
  });

  it('measures depth without recursion (20,000 levels)', () => {
    const deep = JSON.parse('['.repeat(20_000) + ']'.repeat(20_000)) as unknown;
    expect(jsonDepth(deep)).toBe(20_000);
    expect(jsonDepth({ a: { b: [1] } })).toBe(3);
    expect(jsonDepth('x')).toBe(0);
  });
});
