/**
 * The one place that reads the environment. Every variable quaylogs honours is
 * declared here with its default (tuned for the all-in-one mode) and listed in
 * the README's environment table.
 */
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A duration such as `30d`, `12h`, `90m`, `45s` (Quay's APP_SPECIFIC_TOKEN_EXPIRATION form), in seconds. */
export function parseDurationSeconds(value: string): number | null {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/.exec(value);
  if (!m) return null;
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

const duration = z.string().transform((v, ctx) => {
  const s = parseDurationSeconds(v);
  if (s === null) {
    ctx.addIssue({ code: 'custom', message: `must be a duration like 30d, 12h, 90m or 45s (got "${v}")` });
    return z.NEVER;
  }
  return s;
});

export const configSchema = z.object({
  QUAYLOGS_PORT: port.default(8080).describe('HTTP port of the API (Quay-compatible routes, health).'),
  QUAYLOGS_HOST: z.string().default('127.0.0.1').describe('Address the API listens on. Use 0.0.0.0 to accept remote clients.'),
  QUAYLOGS_DATA_DIR: z.string().default('./data').describe('Where the embedded ClickHouse, the generated secret and admin token, and export files live.'),
  CLICKHOUSE_URL: z
    .string()
    .url()
    .optional()
    .describe('Use a ClickHouse server (e.g. http://user:pass@host:8123/quaylogs) instead of the embedded engine.'),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('quaylogs').describe('Database that holds quaylogs tables.'),
  QUAYLOGS_SECRET: z
    .string()
    .min(16, 'QUAYLOGS_SECRET must be at least 16 characters because it keys next_page tokens and token encryption')
    .optional()
    .describe('Secret that keys next_page tokens and encrypts stored token codes. Generated into the data dir when unset.'),
  QUAYLOGS_BOOTSTRAP_TOKEN: z
    .string()
    .min(16, 'QUAYLOGS_BOOTSTRAP_TOKEN must be at least 16 characters because it grants superuser access')
    .optional()
    .describe('Creates (or re-keys) the superuser `admin` whose bearer token is this value.'),
  QUAYLOGS_APPTOKEN_TTL: duration.optional().describe('Lifetime of app tokens created through the API, e.g. 30d. Default: no expiry.'),
  QUAYLOGS_SERVER_HOSTNAME: z
    .string()
    .optional()
    .describe("Public host[:port] used in error `type` URLs and discovery; default: the request's Host header."),
  QUAYLOGS_PREFERRED_URL_SCHEME: z.enum(['http', 'https']).default('http').describe('Scheme used in absolute URLs quaylogs generates.'),
  QUAYLOGS_LOGS_PAGE_CACHE: z.coerce
    .number()
    .int()
    .min(0)
    .default(1_000)
    .describe('First pages of /logs kept in memory per API process, each until the loader stores entries of its namespace (or 60 s pass); 0 disables.'),
  QUAYLOGS_AVATAR_KIND: z.enum(['local', 'gravatar']).default('local').describe("Quay's AVATAR_KIND: sha256 (local) or md5 (gravatar) avatar hashes."),
  QUAYLOGS_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
  QUAYLOGS_LOG_FORMAT: z
    .enum(['auto', 'pretty', 'json'])
    .default('auto')
    .describe('Log lines: auto = human-readable on a terminal, JSON otherwise; or force pretty or json.'),
  QUAYLOGS_RETENTION_DAYS: z.coerce.number().int().min(0).default(0).describe('Drop usage logs older than this many days (0 = keep forever).'),
  QUAYLOGS_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(15000).describe('Overall deadline for an orderly shutdown on SIGTERM.'),
  QUAYLOGS_MAX_AGGREGATE_DAYS: z.coerce.number().int().min(0).default(0).describe('Optional cap on aggregate ranges in days (0 = no cap; Quay caps at 31).'),
  QUAYLOGS_QUERY_TIMEOUT_S: z.coerce.number().int().min(1).default(30).describe('max_execution_time for API queries, in seconds.'),
  QUAYLOGS_TRUST_PROXY: bool.default(false).describe('Trust X-Forwarded-* headers (behind a load balancer).'),

  // ---- ClickHouse's HTTP interface over the embedded store (BI tools) ----
  QUAYLOGS_CLICKHOUSE_HTTP_PORT: port
    .optional()
    .describe("Serve ClickHouse's HTTP interface for the embedded store on this port (on QUAYLOGS_HOST), read-only, for superusers (user name + app token). Unset: off."),
  QUAYLOGS_CLICKHOUSE_HTTP_MAX_ROWS: z.coerce.number().int().min(1).default(1_000_000).describe('max_result_rows of a query through the ClickHouse HTTP interface (clients may lower it, not raise it).'),
  QUAYLOGS_CLICKHOUSE_HTTP_TIMEOUT_S: z.coerce.number().int().min(1).default(60).describe('max_execution_time, in seconds, of a query through the ClickHouse HTTP interface.'),

  // ---- Redis: queues and the ingest stream ----
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'REDIS_URL must start with redis:// or rediss://')
    .optional()
    .describe('Redis for the ingest stream and queues. Unset: quaylogs starts its own redis-server with data under QUAYLOGS_DATA_DIR/redis.'),
  QUAYLOGS_MIGRATE: z
    .enum(['auto', 'off'])
    .optional()
    .describe(
      'auto: apply pending migrations at start (one process at a time, through a lock in Redis); off: wait until `quaylogs migrate` has. Unset: auto, except `quaylogs api`/`worker` on a ClickHouse server, which wait.',
    ),
  QUAYLOGS_ROLES: z
    .string()
    .default('api,loader,poller,exporter')
    .describe('Roles this process runs (comma-separated): api, loader, poller, exporter.'),

  // ---- ingestion ----
  QUAYLOGS_HEC_TOKENS: z
    .string()
    .optional()
    .describe('Splunk HEC tokens, `source=token,source2=token2`: each token names the registry its events belong to.'),
  QUAYLOGS_SEARCH_TOKENS: z
    .string()
    .optional()
    .describe("Splunk search tokens for Quay's `splunk` logs model, `source=token,…`: each token reads only the entries of its source. Unset: no search API."),
  QUAYLOGS_HEC_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(8 * 1024 * 1024).describe('Largest HEC request body accepted (after gzip decoding), in bytes.'),
  QUAYLOGS_CONFIG: z.string().optional().describe('YAML file listing polled Quay sources and per-source retention_days (see README).'),
  QUAYLOGS_API_NICE: z.coerce
    .number()
    .int()
    .min(0)
    .max(19)
    .default(10)
    .describe(
      'Nice value of every thread of the process behind the isolated HEC receiver (API, loader, exporter, embedded engine), so the receiver wins the CPU and Quay\'s posts do not wait on queries, merges or imports. 0 leaves it alone; a process started nicer keeps its value.',
    ),
  QUAYLOGS_RECEIVER_NICE: z.coerce
    .number()
    .int()
    .min(-20)
    .max(19)
    .default(0)
    .describe(
      'Nice value of the isolated HEC receiver process. Lower than the value quaylogs was started with (or than QUAYLOGS_API_NICE, for a receiver restarted after a crash) needs root or CAP_SYS_NICE; without, the receiver keeps the value it has and the log says so.',
    ),
  QUAYLOGS_LOADER_BATCH_ROWS: z.coerce.number().int().min(1).default(50_000).describe('The loader inserts at most this many rows per batch.'),
  QUAYLOGS_LOADER_BATCH_MS: z.coerce.number().int().min(1).default(250).describe('The loader flushes a partial batch after this many milliseconds.'),

  // ---- exports ----
  QUAYLOGS_EXPORT_LINK_TTL: z.string().default('7d').pipe(duration).describe('Lifetime of export download links, e.g. 7d.'),
  QUAYLOGS_CALLBACK_SECRET: z
    .string()
    .optional()
    .describe('Standard Webhooks secret (`whsec_…` or raw) that signs export callbacks. Generated into the data dir when unset.'),
  QUAYLOGS_SSRF_ALLOWED_HOSTS: z
    .string()
    .default('')
    .describe('Hosts or CIDRs export callbacks may reach although private (comma-separated), like Quay\'s SSRF_ALLOWED_HOSTS.'),
  QUAYLOGS_SMTP_URL: z.string().optional().describe('SMTP server for export e-mails, e.g. smtp://user:pass@mail:587.'),
  QUAYLOGS_MAIL_FROM: z.string().default('quaylogs <quaylogs@localhost>').describe('Sender of export e-mails.'),
  QUAYLOGS_MAIL_ATTACH_MAX_BYTES: z.coerce.number().int().min(0).default(5 * 1024 * 1024).describe('Attach the export file to the e-mail when it is smaller than this.'),
  QUAYLOGS_REGISTRY_TITLE: z.string().default('Project Quay').describe("Registry title in export e-mails (Quay's REGISTRY_TITLE_SHORT)."),
});

export type QuaylogsConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment once. Throws ConfigError with one line per problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): QuaylogsConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}

/** Name, default and description of every variable, for the README and `quaylogs --help`. */
export function describeConfig(): { name: string; description: string }[] {
  return Object.entries(configSchema.shape).map(([name, schema]) => ({
    name,
    description: (schema as z.ZodType).description ?? '',
  }));
}
