/**
 * Embedded backend: the real ClickHouse engine in-process (chDB). Reads (query,
 * queryRaw, ping) and streams run on chDB sessions directly; writes go through
 * `@clickhouse/client` over chDB's `connection` adapter.
 *
 * The engine runs one statement at a time per connection (a trivial SELECT once
 * waited 1.75 s behind a heavy query), so writes, reads and streams each get
 * their own connection on the same data directory. chDB binds one data directory
 * per process; a second process on the same directory is refused by the engine,
 * which we turn into one clear line.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createClient, parseError, type ClickHouseClient } from '@clickhouse/client';
import {
  type ClickHouseStore,
  type InFlightStatement,
  type InsertSpec,
  type Params,
  type QuerySpec,
  type RawStreamSpec,
  type StreamInsertSpec,
  StoreError,
  StoreLockedError,
  INSERT_SETTINGS,
  insertSql,
  lineBatches,
  rawStreamSql,
  selectSql,
  insertPayloadBuffer,
} from './store.ts';
import { shieldStdinFromEngine } from './stdinShield.ts';

type ChdbModule = typeof import('chdb');
type ChdbConnectionModule = typeof import('chdb/connection');
type ChdbSession = InstanceType<ChdbModule['Session']>;
type StreamChunk = import('chdb').StreamChunk;
type ChdbConnection = ReturnType<ChdbConnectionModule['createChdbConnection']>;

export interface EmbeddedOptions {
  /** Data directory of the engine (created if missing). */
  path: string;
  database: string;
  /** How many read connections serve queries concurrently (default 2). */
  readers?: number;
  queryTimeoutS?: number;
}

async function loadChdb(): Promise<{ chdb: ChdbModule; conn: ChdbConnectionModule }> {
  try {
    const [chdb, conn] = await Promise.all([import('chdb'), import('chdb/connection')]);
    return { chdb, conn };
  } catch (err) {
    throw new StoreError(
      'the embedded ClickHouse engine (npm package "chdb") is not installed: run `npm ci` without --omit=optional, or set CLICKHOUSE_URL to use a ClickHouse server',
      { cause: err },
    );
  }
}

function lockedMessage(path: string, pid: number | null): string {
  const who = pid ? `process ${pid}` : 'another process';
  return `the embedded ClickHouse data directory ${path} is in use by ${who} (is \`quaylogs up\` running?): stop it, point this command at the running server, or use another QUAYLOGS_DATA_DIR`;
}

/**
 * The process holding the data directory, or null. The engine holds an exclusive
 * `flock` on its `status` file while it runs, and the kernel drops it the moment
 * that process dies — so a killed holder (even a zombie not yet reaped) or a PID the
 * system has since given to another program holds nothing. On Linux that lock, read
 * from /proc/locks, decides; elsewhere the `PID:` line of the status file and a
 * signal-0 probe are the best guess.
 */
function holderPid(path: string): number | null {
  const statusFile = join(path, 'status');
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(statusFile);
  } catch {
    return null;
  }
  const locks = readProcLocks();
  if (locks !== null) {
    const pid = flockHolder(locks, Number(st.dev), Number(st.ino));
    return pid === null || pid === process.pid ? null : pid;
  }
  try {
    const m = /^PID:\s*(\d+)/m.exec(readFileSync(statusFile, 'utf8'));
    const pid = m ? Number(m[1]) : null;
    if (!pid || pid === process.pid) return null;
    try {
      process.kill(pid, 0);
      return pid;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
    }
  } catch {
    return null;
  }
}

function readProcLocks(): string | null {
  try {
    return readFileSync('/proc/locks', 'utf8');
  } catch {
    return null;
  }
}

/** The PID holding a lock on the file (device `dev`, inode `ino`) in /proc/locks text, or null. */
export function flockHolder(locks: string, dev: number, ino: number): number | null {
  // Linux's dev_t: major in bits 8–19, minor in bits 0–7 and 20–31; /proc/locks prints them in hex.
  const major = (dev >> 8) & 0xfff;
  const minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00);
  for (const line of locks.split('\n')) {
    // "4: FLOCK  ADVISORY  WRITE 6641 fe:00:2179746 0 EOF" (a blocked waiter's line has "->").
    const m = /^\d+:\s+(?:FLOCK|POSIX|OFDLCK)\s+\S+\s+\S+\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/i.exec(line);
    if (!m) continue;
    if (Number(m[4]) === ino && parseInt(m[2]!, 16) === major && parseInt(m[3]!, 16) === minor) {
      const pid = Number(m[1]);
      if (pid > 0) return pid;
    }
  }
  return null;
}

function isLockError(err: unknown): boolean {
  let text = '';
  // chDB reports a held data directory as CANNOT_OPEN_FILE (76) on the status file.
  if ((err as { clickhouseCode?: unknown })?.clickhouseCode === 76) return true;
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    text += ` ${String((e as { message?: unknown }).message ?? e)}`;
  }
  return /Cannot lock file|Another server instance in same directory is already running|different path/i.test(text);
}

/**
 * A chDB call whose failure is reshaped the way the client reports an engine error
 * (ClickHouseError: `code`, `type`, the engine's message), so callers see one error shape
 * whichever path a statement took.
 */
async function engineCall<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const mapped = parseError(err instanceof Error && err.message ? err.message : String(err));
    if (mapped !== err) mapped.cause = err;
    throw mapped;
  }
}

const utf8 = new TextDecoder('utf-8');

/**
 * JSONEachRow output (one object a line; newlines inside values are escaped) as rows.
 * Parsed a line at a time straight from the engine's bytes: joining the lines into one
 * array text first (a second copy of a multi-megabyte result, then one giant parse) cost
 * 3–4× the CPU on a 5,000-row Splunk results page.
 */
function parseJsonEachRow<T>(bytes: Uint8Array): T[] {
  const rows: T[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    if (end > start) rows.push(JSON.parse(utf8.decode(bytes.subarray(start, end))) as T);
    start = end + 1;
  }
  return rows;
}

export async function openEmbeddedStore(opts: EmbeddedOptions): Promise<ClickHouseStore> {
  const path = resolve(opts.path);
  mkdirSync(path, { recursive: true });
  // Checked before the engine sees the directory: asked to open a held one, chDB prints
  // its own error to stderr ahead of ours, and the user should see one line.
  const holder = holderPid(path);
  if (holder !== null) throw new StoreLockedError(lockedMessage(path, holder));
  // The engine would read this process's stdin as INSERT data (see stdinShield.ts).
  shieldStdinFromEngine();
  const { chdb, conn } = await loadChdb();
  const clients: ClickHouseClient[] = [];
  const openFailed = (err: unknown): StoreError => {
    const pid = holderPid(path);
    if (pid !== null || isLockError(err)) return new StoreLockedError(lockedMessage(path, pid), { cause: err });
    return new StoreError(`cannot open the embedded ClickHouse at ${path}: ${(err as Error).message}`, { cause: err });
  };
  // The engine connection under each client: inserts bypass the client (see rawInsert below).
  const engines = new WeakMap<ClickHouseClient, ChdbConnection>();
  const open = (): ClickHouseClient => {
    try {
      const engine = conn.createChdbConnection({ path });
      // chDB's Connection implements client-common's Connection contract; the cast
      // bridges the two packages' separately declared (structurally equal) types.
      const connection = engine as unknown as NonNullable<Parameters<typeof createClient>[0]>['connection'];
      const client = createClient({ connection });
      clients.push(client);
      engines.set(client, engine);
      return client;
    } catch (err) {
      throw openFailed(err);
    }
  };
  // Reads go to a chDB session directly: the client and chDB's adapter in between (a Readable
  // over the result buffer, the client's result set) cost ~0.4–0.5 ms per statement.
  const openSession = async (): Promise<ChdbSession> => {
    let session: ChdbSession;
    try {
      session = new chdb.Session(path);
    } catch (err) {
      throw openFailed(err);
    }
    try {
      await engineCall(session.queryAsync(`USE ${opts.database}`));
    } catch (err) {
      session.close();
      throw err;
    }
    return session;
  };

  // One statement at a time per connection, in order (the engine does so anyway), so that a
  // connection whose statement failed is replaced before the next statement would run on it.
  type Issued = { name: string; since: number; running: boolean };
  type Lane<C> = { label: string; conn: C; busy: number; tail: Promise<void>; issued: Set<Issued>; renew: (old: C) => Promise<C> };
  // chDB keeps a failed statement's partial output on its connection and hands it out
  // as the start of the next result there (a failed read's rows came back as the next
  // `SELECT 2`'s answer). A connection whose statement failed is replaced, never reused.
  const renewClient = async (old: ClickHouseClient): Promise<ClickHouseClient> => {
    const client = open();
    await useDb(client);
    clients.splice(clients.indexOf(old), 1);
    void old.close().catch(() => undefined);
    return client;
  };
  const renewSession = async (old: ChdbSession): Promise<ChdbSession> => {
    const session = await openSession();
    old.close();
    return session;
  };
  const useDb = async (c: ClickHouseClient) => c.command({ query: `USE ${opts.database}` });
  const writer: Lane<ClickHouseClient> = { label: 'writer', conn: open(), busy: 0, tail: Promise.resolve(), issued: new Set(), renew: renewClient };
  await writer.conn.command({ query: `CREATE DATABASE IF NOT EXISTS ${opts.database}` });
  await useDb(writer.conn);
  const readers: Lane<ChdbSession>[] = [];
  for (let i = 0; i < Math.max(1, opts.readers ?? 2); i++) {
    readers.push({ label: `reader ${i + 1}`, conn: await openSession(), busy: 0, tail: Promise.resolve(), issued: new Set(), renew: renewSession });
  }
  const onLane = <C, T>(lane: Lane<C>, name: string, run: (c: C) => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new StoreError(`the embedded store is closed (${name})`));
    const issued: Issued = { name, since: Date.now(), running: false };
    lane.issued.add(issued);
    const result = lane.tail.then(async () => {
      issued.running = true;
      try {
        return await run(lane.conn);
      } catch (err) {
        if (!closed) lane.conn = await lane.renew(lane.conn).catch(() => lane.conn);
        throw err;
      } finally {
        lane.issued.delete(issued);
      }
    });
    lane.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };
  const onWriter = <T>(name: string, run: (c: ClickHouseClient) => Promise<T>): Promise<T> => onLane(writer, name, run);
  /** One read on the least busy reader session: the engine's output bytes in `format`. */
  const read = async (name: string, sql: string, params: Params | undefined, format: string): Promise<Uint8Array> => {
    const r = readers.reduce((a, b) => (b.busy < a.busy ? b : a));
    r.busy++;
    try {
      return await onLane(r, name, async (session) => {
        const res = await engineCall(
          params && Object.keys(params).length > 0 ? session.queryBindAsync(sql, params, { format }) : session.queryAsync(sql, { format }),
        );
        return res.bytes();
      });
    } finally {
      r.busy--;
    }
  };
  const sessions = new Set<ChdbSession>();
  const streams = new Set<Issued>();
  let closed = false;
  let closing: Promise<void> | null = null;
  /**
   * An insert on the write connection through chDB's raw insert: the payload Buffer goes to
   * the engine as is and its parser reads it. Through the client adapter the same payload
   * became one JS string and was concatenated after the SQL (`${sql}\n${body}`) before the
   * engine saw it: several MB copied and re-encoded per 50k-row batch. Same statement, same
   * SETTINGS (chDB renders them into the INSERT), same connection, same queue; errors get the
   * client's shape (`type`, `code`), which the loader's transient/data classification reads.
   */
  const rawInsert = (w: ClickHouseClient, table: string, payload: Buffer, dedupToken?: string, columns?: readonly string[]) => {
    insertSql(table, dedupToken, columns); // validates the table, token and columns (StoreError)
    const settings: Record<string, string | number> = { ...INSERT_SETTINGS };
    if (dedupToken !== undefined) settings.insert_deduplication_token = dedupToken;
    return engineCall(
      engines.get(w)!.chdb.rawInsert({
        table: table.includes('.') ? table : `${opts.database}.${table}`,
        values: payload,
        format: columns ? 'JSONCompactEachRow' : 'JSONEachRow',
        ...(columns ? { columns } : {}),
        settings,
      }),
    );
  };

  /**
   * One streamed statement on a chDB session of its own (a session allows one active stream;
   * opening one costs ~2 ms): its chunks, fetched one at a time, so the engine produces the
   * next only when asked. The session is closed however the consumer stops.
   */
  async function* streamChunks(name: string, sql: string, params: Params | undefined, format: string): AsyncGenerator<StreamChunk> {
    if (closed) throw new StoreError(`the embedded store is closed (${name})`);
    const session = new chdb.Session(path);
    sessions.add(session);
    const issued: Issued = { name, since: Date.now(), running: true };
    streams.add(issued);
    try {
      await session.queryAsync(`USE ${opts.database}`);
      const st = session.queryStreamBind(sql, params ?? {}, { format });
      try {
        yield* st;
      } finally {
        st.cancel();
      }
    } finally {
      streams.delete(issued);
      sessions.delete(session);
      session.close();
    }
  }

  const store: ClickHouseStore = {
    backend: 'embedded',
    database: opts.database,

    async query<T>(spec: QuerySpec): Promise<T[]> {
      return parseJsonEachRow<T>(await read(spec.name, selectSql(spec, opts.queryTimeoutS), spec.params, 'JSONEachRow'));
    },

    async *stream<T>(spec: QuerySpec): AsyncIterable<T[]> {
      for await (const chunk of streamChunks(spec.name, selectSql(spec), spec.params, 'JSONEachRow')) {
        const rows = chunk.rows<T>();
        if (rows.length) yield rows;
      }
    },

    async *streamRaw(spec: RawStreamSpec): AsyncIterable<Buffer> {
      // The format travels in the SQL (FORMAT …), which the engine obeys over the session's default.
      for await (const chunk of streamChunks(spec.name, rawStreamSql(spec), spec.params, spec.format)) {
        const raw = chunk.raw();
        if (raw.byteLength > 0) yield Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      }
    },

    async queryRaw(spec: QuerySpec): Promise<Buffer> {
      const bytes = await read(spec.name, selectSql(spec, opts.queryTimeoutS), spec.params, 'RawBLOB');
      return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },

    async command(spec: QuerySpec): Promise<void> {
      const sql = spec.settings ? selectSql({ ...spec, settings: spec.settings }) : spec.sql;
      await onWriter(spec.name, (w) => w.command({ query: sql, query_params: spec.params ?? {} }));
    },

    async insert(spec: InsertSpec): Promise<void> {
      if (spec.rows.length === 0) return;
      const payload = insertPayloadBuffer(spec.rows, spec.columns);
      await onWriter(`insert ${spec.table}`, (w) => rawInsert(w, spec.table, payload, spec.dedupToken, spec.columns));
    },

    async insertStream(spec: StreamInsertSpec) {
      let rows = 0;
      let bytes = 0;
      for await (const batch of lineBatches(spec.source, spec.batchBytes ?? 16 * 1024 * 1024)) {
        const payload = Buffer.from(batch.text, 'utf8');
        await onWriter(`insert ${spec.table}`, (w) => rawInsert(w, spec.table, payload, undefined, spec.columns));
        rows += batch.rows;
        bytes += batch.text.length;
        spec.onProgress?.({ rows, bytes });
      }
      return { rows, bytes };
    },

    async ping() {
      if (closed) return false;
      try {
        const one = await read('ping', 'SELECT 1 AS ok', undefined, 'TabSeparated');
        return one.length > 0;
      } catch {
        return false;
      }
    },

    inFlight() {
      const now = Date.now();
      const out: InFlightStatement[] = [];
      for (const lane of [writer, ...readers]) {
        for (const i of lane.issued) out.push({ connection: lane.label, name: i.name, state: i.running ? 'running' : 'queued', ms: now - i.since });
      }
      for (const i of streams) out.push({ connection: 'stream', name: i.name, state: 'running', ms: now - i.since });
      return out.sort((a, b) => b.ms - a.ms);
    },

    close() {
      // One close, however many callers ask (a one-shot command's error path and its normal
      // path may both close): a second caller that returned at once could exit the process
      // while the first is still closing the engine.
      closing ??= (async () => {
        closed = true;
        // Statements already issued finish first: closing a connection the engine is still
        // running a statement on crashed the process (SIGSEGV) or hung it in its exit.
        await Promise.all([writer, ...readers].map((lane) => lane.tail));
        for (const s of sessions) s.close();
        for (const r of readers) r.conn.close();
        for (const c of clients) await c.close();
      })();
      return closing;
    },
  };
  return store;
}
