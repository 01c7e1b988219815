/**
 * The polled sources file (`QUAYLOGS_CONFIG`, YAML):
 *
 * ```yaml
 * sources:
 *   - name: prod                      # source name stored with every entry
 *     url: https://quay.example.com   # registry root
 *     token: <OAuth access token>     # org:admin on each namespace, or super:user
 *     namespaces: [acme, alice]       # ...or: superuser: true (every namespace, /superuser/logs)
 *     interval: 5m                    # default 5m
 *     start: 06/01/2024               # first poll's first day (MM/DD/YYYY, UTC); default 30 days back
 * retention_days:                     # optional: per-source retention (0 = keep forever),
 *   prod: 400                         # overriding QUAYLOGS_RETENTION_DAYS for these sources
 * ```
 * Validated with zod; every problem is reported with its path in the file.
 */
import { readFile } from 'node:fs/promises';
import { parseDurationSeconds } from '@quaylogs/config';
import { parseQuayDate } from '@quaylogs/core';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';

export interface PollSource {
  name: string;
  url: string;
  token: string;
  /** The namespaces read through `/organization/{ns}/logs`; empty for a superuser source. */
  namespaces: string[];
  /** Read every namespace at once through `/superuser/logs`. */
  superuser: boolean;
  intervalMs: number;
  /** First day of the first poll (UTC midnight); null ⇒ 30 days before the first poll. */
  start: Date | null;
}

export class SourcesConfigError extends Error {
  override name = 'SourcesConfigError';
}

/** Polls more often than this would only load Quay: its windows are whole days anyway. */
const MIN_INTERVAL_S = 10;
const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const sourceSchema = z
  .object({
    name: z
      .string()
      .regex(SOURCE_NAME, 'must be 1–63 letters, digits, ".", "_" or "-" (it names the source in every stored entry and in job ids)'),
    url: z
      .string()
      .refine((v) => {
        try {
          const u = new URL(v);
          return (u.protocol === 'http:' || u.protocol === 'https:') && u.search === '' && u.hash === '';
        } catch {
          return false;
        }
      }, 'must be the registry root as an http(s) URL without query, e.g. https://quay.example.com'),
    token: z.string().trim().min(1, 'must be a Quay OAuth access token (Authorization: Bearer)'),
    namespaces: z
      .array(z.string().trim().min(1, 'namespace names must not be empty'))
      .min(1, 'must list at least one namespace (or use superuser: true)')
      .refine((a) => new Set(a).size === a.length, 'lists a namespace twice')
      .optional(),
    superuser: z.boolean().optional(),
    interval: z
      .string()
      .default('5m')
      .transform((v, ctx) => {
        const s = parseDurationSeconds(v);
        if (s === null || s < MIN_INTERVAL_S) {
          ctx.addIssue({ code: 'custom', message: `must be a duration of at least ${MIN_INTERVAL_S}s like 30s, 5m or 1h (got "${v}")` });
          return z.NEVER;
        }
        return s * 1000;
      }),
    start: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return null;
        const parsed = /^\d{1,2}\/\d{1,2}\/\d{4}$/.test(v.trim()) ? parseQuayDate(v.trim()) : null;
        if (parsed === null) {
          ctx.addIssue({ code: 'custom', message: `must be a day as MM/DD/YYYY, like Quay's starttime (got "${v}")` });
          return z.NEVER;
        }
        return parsed.at;
      }),
  })
  .strict()
  .superRefine((s, ctx) => {
    const hasNs = s.namespaces !== undefined;
    const su = s.superuser === true;
    if (hasNs === su) {
      ctx.addIssue({
        code: 'custom',
        message: hasNs
          ? 'give either namespaces or superuser: true, not both'
          : 'needs namespaces: [...] (read through /organization/{ns}/logs) or superuser: true (read everything through /superuser/logs)',
      });
    }
  });

const fileSchema = z
  .object({
    sources: z.array(sourceSchema).default([]),
    /** Per-source retention in days (0 = keep forever), overriding QUAYLOGS_RETENTION_DAYS. */
    retention_days: z
      .record(
        z.string().regex(SOURCE_NAME, 'source names are 1–63 letters, digits, ".", "_" or "-"'),
        z.number().int('must be a whole number of days').min(0, 'must be ≥ 0 (0 = keep forever)'),
      )
      .optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.sources.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `"${s.name}" names two sources` });
      seen.add(s.name);
    });
  });

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  let where = path || '(top level)';
  // Name the source when the file gives one: "sources[1] (prod).token" reads better.
  const index = issue.path[0] === 'sources' && typeof issue.path[1] === 'number' ? issue.path[1] : undefined;
  const name = index !== undefined ? (raw as { sources?: { name?: unknown }[] }).sources?.[index]?.name : undefined;
  if (typeof name === 'string') where = where.replace(`sources[${index}]`, `sources[${index}] (${name})`);
  if (issue.code === 'unrecognized_keys') return `${where}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return `${where}: ${issue.message}`;
}

/** Parses and validates the file's text. `origin` names the file in error messages. */
function parseConfigFile(text: string, origin: string): z.infer<typeof fileSchema> {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const detail = err instanceof YAMLParseError ? err.message : String(err);
    throw new SourcesConfigError(`${origin} is not valid YAML: ${detail}`);
  }
  if (raw === null || raw === undefined) raw = { sources: [] };
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => describeIssue(i, raw));
    throw new SourcesConfigError(`${origin} has ${lines.length} problem(s):\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}

export function parseSourcesConfig(text: string, origin = 'QUAYLOGS_CONFIG'): PollSource[] {
  return parseConfigFile(text, origin).sources.map((s) => ({
    name: s.name,
    url: s.url,
    token: s.token,
    namespaces: s.namespaces ?? [],
    superuser: s.superuser === true,
    intervalMs: s.interval,
    start: s.start,
  }));
}

async function readConfigFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new SourcesConfigError(`cannot read the sources file ${path} (QUAYLOGS_CONFIG): ${(err as Error).message}`);
  }
}

/** Reads the sources file at `path` (normally `QUAYLOGS_CONFIG`). */
export async function loadSourcesConfig(path: string): Promise<PollSource[]> {
  return parseSourcesConfig(await readConfigFile(path), path);
}

/** The file's `retention_days` map: source → days (0 = keep forever); empty when absent. */
export function parseRetentionOverrides(text: string, origin = 'QUAYLOGS_CONFIG'): Record<string, number> {
  return { ...(parseConfigFile(text, origin).retention_days ?? {}) };
}

export async function loadRetentionOverrides(path: string | undefined): Promise<Record<string, number>> {
  if (!path) return {};
  return parseRetentionOverrides(await readConfigFile(path), path);
}
