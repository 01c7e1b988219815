/**
 * The process logger: human-readable lines (pino-pretty) when stdout is a terminal, one JSON
 * object per line otherwise (for log collectors), unless QUAYLOGS_LOG_FORMAT chooses.
 * Authorization headers and tokens are redacted either way.
 */
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { QuaylogsConfig } from '@quaylogs/config';

export const REDACT = ['authorization', '*.authorization', 'token', '*.token', 'req.headers.authorization', 'req.headers["x-splunk-request-channel"]'];

export function logFormat(cfg: QuaylogsConfig, isTty: boolean = process.stdout.isTTY === true): 'pretty' | 'json' {
  if (cfg.QUAYLOGS_LOG_FORMAT === 'auto') return isTty ? 'pretty' : 'json';
  return cfg.QUAYLOGS_LOG_FORMAT;
}

export function createLogger(cfg: QuaylogsConfig): Logger {
  const options = { level: cfg.QUAYLOGS_LOG_LEVEL, redact: REDACT };
  if (logFormat(cfg) === 'json') return pino(options);
  return pino(
    options,
    pretty({ sync: true, singleLine: true, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }),
  );
}
