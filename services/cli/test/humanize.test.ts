import { describe, expect, it } from 'vitest';
import { humanDuration } from '../src/humanize.ts';

describe('quaylogs status shows lag the way people read it', () => {
  it.each([
    [0, '0 s'],
    [12, '12 s'],
    [250, '4 min 10 s'],
    [3 * 3600 + 5 * 60 + 7, '3 h 5 min'],
    [3 * 3600 + 20, '3 h'],
    [1_964_314, '22 d 17 h'],
    [86_400, '1 d'],
  ])('%i seconds is "%s"', (seconds, text) => {
    expect(humanDuration(seconds)).toBe(text);
  });
});
