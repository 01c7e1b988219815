import { describe, expect, it } from 'vitest';
import { parseRetentionOverrides, parseSourcesConfig, SourcesConfigError } from '../src/poller/index.ts';

describe('QUAYLOGS_CONFIG retention_days', () => {
  it('reads per-source retention, with or without polled sources', () => {
    expect(parseRetentionOverrides('retention_days:\n  prod: 400\n  quaylogs: 0\n')).toEqual({ prod: 400, quaylogs: 0 });
    expect(parseSourcesConfig('retention_days:\n  prod: 400\n')).toEqual([]);
    expect(parseRetentionOverrides('sources: []\n')).toEqual({});
  });
  it('refuses negative or fractional days and bad source names, naming the key', () => {
    expect(() => parseRetentionOverrides('retention_days:\n  prod: -1\n')).toThrow(SourcesConfigError);
    expect(() => parseRetentionOverrides('retention_days:\n  prod: 1.5\n')).toThrow(/retention_days\.prod: must be a whole number of days/);
    expect(() => parseRetentionOverrides("retention_days:\n  \"x') OR 1\": 3\n")).toThrow(/retention_days\.x'\) OR 1: Invalid key/);
  });
});
