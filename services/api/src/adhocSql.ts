/**
 * Runs ad-hoc SQL (the SQL route and `quaylogs sql`): the engine-decided guard
 * (readOnlySql.ts), then the engine's own limits on the one statement, its own
 * concurrency limit, and an exact row cap.
 *
 * - Limits travel in the statement's SETTINGS, after the checked text (the guard
 *   refuses any SETTINGS of the caller's): `readonly = 1`, a memory cap, a time
 *   limit, an outer LIMIT, one thread at the lowest OS priority — so an
 *   ad-hoc query leaves the CPU to API reads and readiness.
 * - It reads through `store.stream`, which has a connection of its own (a chDB
 *   session with the embedded engine), never one of the readers API requests use.
 * - At most `SQL_CONCURRENCY` statements run at once in a process and a few wait;
 *   more are refused with 429 rather than queued without bound.
 * - Exactly `SQL_MAX_ROWS` rows at most come back; `truncated` says when more existed;
 *   a result larger than `maxResultBytes` (as JSON) is refused.
 */
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { guardReadOnlySql } from './readOnlySql.ts';

export const SQL_MAX_ROWS = 10_000;
export const SQL_CONCURRENCY = 1;
export const SQL_MAX_WAITING = 4;

export interface AdhocLimits {
  /** Seconds a statement may run (the engine's max_execution_time). */
  timeoutS: number;
  /** Bytes of memory one statement may use (the engine's max_memory_usage). */
  maxMemoryBytes: number;
  /** Bytes of result (as JSON text) one statement may return. */
  maxResultBytes: number;
}

export const DEFAULT_ADHOC_LIMITS: AdhocLimits = {
  timeoutS: 30,
  maxMemoryBytes: 1024 * 1024 * 1024,
  maxResultBytes: 64 * 1024 * 1024,
};

export interface AdhocResult {
  rows: Record<string, unknown>[];
  row_count: number;
  /** True when the statement had more than `SQL_MAX_ROWS` rows; only the first ones are here. */
  truncated: boolean;
}

/** The caller's error: refused by the guard, rejected by the engine, a limit hit, or too busy. */
export class AdhocSqlError extends Error {
  constructor(
    readonly status: 400 | 429,
    message: string,
  ) {
    super(message);
  }
}

/** A counting gate with a bounded wait list. */
class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(
    private readonly limit: number,
    private readonly maxWaiting: number,
  ) {}
  async enter(): Promise<boolean> {
    if (this.running < this.limit) {
      this.running++;
      return true;
    }
    if (this.waiting.length >= this.maxWaiting) return false;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return true;
  }
  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}

const gates = new WeakMap<ClickHouseStore, Gate>();
function gateOf(store: ClickHouseStore): Gate {
  let g = gates.get(store);
  if (!g) gates.set(store, (g = new Gate(SQL_CONCURRENCY, SQL_MAX_WAITING)));
  return g;
}

/** What the engine said, in one line, for the caller (limits get a plain sentence first). */
function engineError(err: unknown, limits: AdhocLimits): string {
  const msg = String((err as Error)?.message ?? err).split('\n')[0]!.slice(0, 2000);
  if (/TIMEOUT_EXCEEDED|Timeout exceeded/i.test(msg)) return `the query ran longer than ${limits.timeoutS} s and was stopped: ${msg}`;
  if (/MEMORY_LIMIT_EXCEEDED|memory limit/i.test(msg)) return `the query needed more than ${limits.maxMemoryBytes} bytes of memory and was stopped: ${msg}`;
  return msg;
}

/** Guards, limits and runs one ad-hoc statement. Throws AdhocSqlError for anything the caller can fix. */
export async function runAdhocSql(
  store: ClickHouseStore,
  text: string,
  limits: AdhocLimits = DEFAULT_ADHOC_LIMITS,
): Promise<AdhocResult> {
  const gate = gateOf(store);
  if (!(await gate.enter())) throw new AdhocSqlError(429, 'too many ad-hoc queries are running; try again when one has finished');
  try {
    const checked = await guardReadOnlySql(store, text);
    if (!checked.ok) throw new AdhocSqlError(400, checked.reason);
    const rows: Record<string, unknown>[] = [];
    let truncated = false;
    try {
      const spec = {
        name: 'sql.adhoc',
        sql: checked.sql,
        settings: {
          readonly: 1,
          max_execution_time: limits.timeoutS,
          timeout_overflow_mode: 'throw',
          max_memory_usage: limits.maxMemoryBytes,
          // The engine's LIMIT on the outer statement: one more row than the cap tells a
          // truncated answer from an exact one (each branch of a UNION gets it: the cap
          // below makes the answer exact).
          limit: SQL_MAX_ROWS + 1,
          max_threads: 1,
          os_thread_priority: 19,
        },
      };
      // DESCRIBE and SHOW TABLES cannot stream; their answers are a few rows.
      const stream = checked.kind === 'select' ? store.stream<Record<string, unknown>>(spec) : [await store.query<Record<string, unknown>>(spec)];
      let bytes = 0;
      for await (const chunk of stream) {
        for (const row of chunk) {
          if (rows.length === SQL_MAX_ROWS) {
            truncated = true;
            break;
          }
          bytes += JSON.stringify(row).length;
          if (bytes > limits.maxResultBytes) throw new AdhocSqlError(400, `the result is larger than ${limits.maxResultBytes} bytes; select fewer columns or rows`);
          rows.push(row);
        }
        if (truncated) break;
      }
    } catch (err) {
      if (err instanceof AdhocSqlError) throw err;
      throw new AdhocSqlError(400, engineError(err, limits));
    }
    return { rows, row_count: rows.length, truncated };
  } finally {
    gate.leave();
  }
}
