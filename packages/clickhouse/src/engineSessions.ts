/**
 * Raw access to the embedded engine for the ClickHouse HTTP bridge: run one statement
 * on the data directory the embedded store holds and get the engine's own output bytes,
 * in any output format, with its read metrics.
 *
 * Each statement runs on its own chDB session from a small pool, so a long query never
 * holds up another request (the engine runs one statement at a time per session).
 * A session whose statement failed is thrown away: chDB keeps a failed statement's
 * partial output and prepends it to the next result on the same session (measured:
 * after a TIMEOUT_EXCEEDED, the next `SELECT 1` answered the timed-out query's JSON
 * first).
 */
import { StoreError } from './store.ts';

type ChdbModule = typeof import('chdb');
type ChdbSession = InstanceType<ChdbModule['Session']>;

export interface EngineResult {
  bytes: Uint8Array;
  elapsedS: number;
  rowsRead: number;
  bytesRead: number;
}

export interface EngineRun {
  sql: string;
  /** Output format (the engine's name, e.g. JSONEachRow, TabSeparated, Native). */
  format: string;
  /** Database the statement runs in. */
  database: string;
  /** `{name:Type}` values as ClickHouse's HTTP interface carries them (`param_name`: escaped text). */
  params?: Record<string, string>;
}

export interface EngineSessions {
  run(spec: EngineRun): Promise<EngineResult>;
  /** Statements running now. */
  readonly active: number;
  close(): void;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The declared type of each `{name:Type}` placeholder in a statement. */
export function placeholderTypes(sql: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of sql.matchAll(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/g)) out.set(m[1]!, m[2]!);
  return out;
}

const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0', a: '\x07', v: '\v' };

/** Decodes one backslash escape of ClickHouse's escaped text at `s[i]` (the char after `\`). */
function decodeEscape(s: string, i: number): { ch: string; next: number } {
  const c = s[i] ?? '\\';
  if (c === 'x' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) return { ch: String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16)), next: i + 3 };
  return { ch: SIMPLE_ESCAPES[c] ?? c, next: i + 1 };
}

/**
 * chDB re-escapes every string parameter before the engine parses it (TSV rules: `\` and
 * control characters). HTTP clients send parameters already escaped, so the text is turned
 * back into what chDB's escaping maps onto the client's exact text:
 * - string types: the decoded value (the engine decodes chDB's escaping back to it);
 * - other types (arrays, maps, tuples, numbers, dates): the engine reads chDB's output
 *   as-is, so escapes stay meaningful only inside quotes, where `\'` becomes `''`;
 * - `\N` alone: NULL.
 */
export function paramForChdb(text: string, type: string | undefined): string | null {
  // `\N` alone is NULL in ClickHouse's escaped text; chDB sends NULL as exactly that.
  if (text === '\\N') return null;
  const stringLike = type !== undefined && /^(?:(?:Nullable|LowCardinality)\()*(?:String|FixedString\(\d+\)|UUID|Enum\w*\(.*\))\)*$/.test(type.replace(/\s+/g, ''));
  let out = '';
  let quoted = false;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '\\') {
      const { ch, next } = decodeEscape(text, i + 1);
      out += quoted && !stringLike && ch === "'" ? "''" : ch;
      i = next;
      continue;
    }
    if (c === "'" && !stringLike) quoted = !quoted;
    out += c;
    i++;
  }
  return out;
}

async function loadChdb(): Promise<ChdbModule> {
  try {
    return await import('chdb');
  } catch (err) {
    throw new StoreError('the embedded ClickHouse engine (npm package "chdb") is not installed', { cause: err });
  }
}

/**
 * A pool of up to `size` sessions on `path` (the embedded store's data directory, already
 * open in this process). Statements beyond `size` wait for a free session, first come first served,
 * up to `maxWaiting` of them.
 */
export async function openEngineSessions(opts: {
  path: string;
  size?: number;
  /** Defaults each session starts with (`SET name = value`), e.g. a ClickHouse server's output defaults. */
  sessionSettings?: Record<string, number>;
  /** Statements allowed to wait for a session (default 64); beyond, TOO_MANY_SIMULTANEOUS_QUERIES. */
  maxWaiting?: number;
}): Promise<EngineSessions> {
  const chdb = await loadChdb();
  const size = Math.max(1, opts.size ?? 4);
  const idle: { session: ChdbSession; database: string | null }[] = [];
  const waiting: (() => void)[] = [];
  let open = 0;
  let active = 0;
  let closed = false;

  const acquire = async (): Promise<{ session: ChdbSession; database: string | null }> => {
    for (;;) {
      if (closed) throw new StoreError('the engine sessions are closed');
      const free = idle.pop();
      if (free) return free;
      if (open < size) {
        open++;
        try {
          const session = new chdb.Session(opts.path);
          try {
            for (const [name, value] of Object.entries(opts.sessionSettings ?? {})) {
              if (!IDENT.test(name) || !Number.isFinite(value)) throw new StoreError(`invalid session setting ${name}`);
              await session.queryAsync(`SET ${name} = ${value}`, { format: 'TabSeparated' });
            }
          } catch (err) {
            session.close();
            throw err;
          }
          return { session, database: null };
        } catch (err) {
          open--;
          throw err;
        }
      }
      if (waiting.length >= (opts.maxWaiting ?? 64)) {
        // Worded as the engine words it, so callers map it like any engine error.
        throw new StoreError(
          `Code: 202. DB::Exception: Too many simultaneous queries: ${size} running and ${waiting.length} waiting. (TOO_MANY_SIMULTANEOUS_QUERIES)`,
        );
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };
  const release = (entry: { session: ChdbSession; database: string | null }, healthy: boolean) => {
    if (healthy && !closed) idle.push(entry);
    else {
      entry.session.close();
      open--;
    }
    waiting.shift()?.();
  };

  return {
    get active() {
      return active;
    },
    async run(spec) {
      if (!IDENT.test(spec.database)) throw new StoreError(`invalid database name ${JSON.stringify(spec.database)}`);
      if (!IDENT.test(spec.format)) throw new StoreError(`invalid format name ${JSON.stringify(spec.format)}`);
      const entry = await acquire();
      active++;
      let healthy = false;
      try {
        if (entry.database !== spec.database) {
          await entry.session.queryAsync(`USE ${spec.database}`, { format: 'TabSeparated' });
          entry.database = spec.database;
        }
        const types = placeholderTypes(spec.sql);
        const params = Object.fromEntries(Object.entries(spec.params ?? {}).map(([k, v]) => [k, paramForChdb(v, types.get(k))]));
        const r = Object.keys(params).length
          ? await entry.session.queryBindAsync(spec.sql, params, { format: spec.format })
          : await entry.session.queryAsync(spec.sql, { format: spec.format });
        healthy = true;
        return { bytes: r.bytes(), elapsedS: r.elapsed, rowsRead: r.rowsRead, bytesRead: r.bytesRead };
      } finally {
        active--;
        release(entry, healthy);
      }
    },
    close() {
      closed = true;
      for (const e of idle.splice(0)) e.session.close();
      for (const w of waiting.splice(0)) w();
    },
  };
}
