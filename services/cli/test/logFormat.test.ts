import { loadConfig } from '@quaylogs/config';
import { describe, expect, it } from 'vitest';
import { logFormat } from '../src/logger.ts';

describe('log lines: human-readable on a terminal, JSON for collectors', () => {
  it('auto follows whether stdout is a terminal; pretty and json force it', () => {
    expect(logFormat(loadConfig({}), true)).toBe('pretty');
    expect(logFormat(loadConfig({}), false)).toBe('json');
    expect(logFormat(loadConfig({ QUAYLOGS_LOG_FORMAT: 'json' }), true)).toBe('json');
    expect(logFormat(loadConfig({ QUAYLOGS_LOG_FORMAT: 'pretty' }), false)).toBe('pretty');
  });
  it('a bad QUAYLOGS_LOG_FORMAT is refused with the allowed values', () => {
    expect(() => loadConfig({ QUAYLOGS_LOG_FORMAT: 'xml' })).toThrow(/QUAYLOGS_LOG_FORMAT: .*"auto"\|"pretty"\|"json"/);
  });
});
