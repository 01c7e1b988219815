/**
 * Embedded backend: the real ClickHouse engine in-process (chDB), reached through
 * `@clickhouse/client` via chDB's `connection` adapter, plus chDB sessions for
 * true streaming reads.
 *
 * The engine runs one statement at a time per connection (a trivial SELECT once
 * waited 1.75 s behind a heavy query), so writes, reads and streams each get
 * their own connection on the same data directory. chDB binds one data directory
 * per process; a second process on the same directory is refused by the engine,
 * which we turn into one clear line.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import {
  type ClickHouseStore,
  type InFlightStatement,
  type InsertSpec,
  type QuerySpec,
  type RawStreamSpec,
  type StreamInsertSpec,
  StoreError,
  StoreLockedError,
  insertSql,
  lineBatches,
  rawStreamSql,
  selectSql,
  insertPayload,
} from './store.ts';
import { shieldStdinFromEngine } from './stdinShield.ts';

type ChdbModule = typeof import('chdb');
type ChdbConnectionModule = typeof import('chdb/connection');
type ChdbSession = InstanceType<ChdbModule['Session']>;

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
  const open = (): ClickHouseClient => {
    try {
      // chDB's Connection implements client-common's Connection contract; the cast
      // bridges the two packages' separately declared (structurally equal) types.
      const connection = conn.createChdbConnection({ path }) as unknown as NonNullable<
        Parameters<typeof createClient>[0]
      >['connection'];
      const client = createClient({ connection });
      clients.push(client);
      return client;
    } catch (err) {
      const pid = holderPid(path);
      if (pid !== null || isLockError(err)) throw new StoreLockedError(lockedMessage(path, pid), { cause: err });
      throw new StoreError(`cannot open the embedded ClickHouse at ${path}: ${(err as Error).message}`, { cause: err });
    }
  };

  // One statement at a time per connection, in order (the engine does so anyway), so that a
  // connection whose statement failed is replaced before the next statement would run on it.
  type Issued = { name: string; since: number; running: boolean };
  type Lane = { label: string; client: ClickHouseClient; busy: number; tail: Promise<void>; issued: Set<Issued> };
  const writer: Lane = { label: 'writer', client: open(), busy: 0, tail: Promise.resolve(), issued: new Set() };
  await writer.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${opts.database}` });
  const useDb = async (c: ClickHouseClient) => c.command({ query: `USE ${opts.database}` });
  await useDb(writer.client);
  const readers: Lane[] = [];
  for (let i = 0; i < Math.max(1, opts.readers ?? 2); i++) {
    const client = open();
    await useDb(client);
    readers.push({ label: `reader ${i + 1}`, client, busy: 0, tail: Promise.resolve(), issued: new Set() });
  }
  // chDB keeps a failed statement's partial output on its connection and hands it out
  // as the start of the next result there (a failed read's rows came back as the next
  // `SELECT 2`'s answer). A connection whose statement failed is replaced, never reused.
  const fresh = async (old: ClickHouseClient): Promise<ClickHouseClient> => {
    const client = open();
    await useDb(client);
    clients.splice(clients.indexOf(old), 1);
    void old.close().catch(() => undefined);
    return client;
  };
  const onLane = <T>(lane: Lane, name: string, run: (c: ClickHouseClient) => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new StoreError(`the embedded store is closed (${name})`));
    const issued: Issued = { name, since: Date.now(), running: false };
    lane.issued.add(issued);
    const result = lane.tail.then(async () => {
      issued.running = true;
      try {
        return await run(lane.client);
      } catch (err) {
        if (!closed) lane.client = await fresh(lane.client).catch(() => lane.client);
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
  const onReader = onLane;
  const onWriter = <T>(name: string, run: (c: ClickHouseClient) => Promise<T>): Promise<T> => onLane(writer, name, run);
  const sessions = new Set<ChdbSession>();
  const streams = new Set<Issued>();
  let closed = false;
  let closing: Promise<void> | null = null;
  const pickReader = () => readers.reduce((a, b) => (b.busy < a.busy ? b : a));

  const store: ClickHouseStore = {
    backend: 'embedded',
    database: opts.database,

    async query<T>(spec: QuerySpec): Promise<T[]> {
      const r = pickReader();
      r.busy++;
      try {
        return await onReader(r, spec.name, async (client) => {
          const rs = await client.query({
            query: selectSql(spec, opts.queryTimeoutS),
            query_params: spec.params ?? {},
            format: 'JSONEachRow',
          });
          return (await rs.json()) as T[];
        });
      } finally {
        r.busy--;
      }
    },

    async *stream<T>(spec: QuerySpec): AsyncIterable<T[]> {
      // A chDB session allows one active stream; each stream gets its own session.
      const session = new chdb.Session(path);
      sessions.add(session);
      const issued: Issued = { name: spec.name, since: Date.now(), running: true };
      streams.add(issued);
      try {
        await session.queryAsync(`USE ${opts.database}`);
        const st = session.queryStreamBind(selectSql(spec), spec.params ?? {}, { format: 'JSONEachRow' });
        try {
          for await (const chunk of st) {
            const rows = chunk.rows<T>();
            if (rows.length) yield rows;
          }
        } finally {
          st.cancel();
        }
      } finally {
        streams.delete(issued);
        sessions.delete(session);
        session.close();
      }
    },

    async *streamRaw(spec: RawStreamSpec): AsyncIterable<Buffer> {
      // As stream(): a session of its own (one active stream per session; opening one costs
      // ~2 ms). The engine produces the next chunk only when it is fetched.
      if (closed) throw new StoreError(`the embedded store is closed (${spec.name})`);
      const sql = rawStreamSql(spec);
      const session = new chdb.Session(path);
      sessions.add(session);
      const issued: Issued = { name: spec.name, since: Date.now(), running: true };
      streams.add(issued);
      try {
        await session.queryAsync(`USE ${opts.database}`);
        // The format travels in the SQL (FORMAT …), which the engine obeys over this default.
        const st = session.queryStreamBind(sql, spec.params ?? {}, { format: spec.format });
        try {
          for await (const chunk of st) {
            const raw = chunk.raw();
            if (raw.byteLength > 0) yield Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
          }
        } finally {
          st.cancel();
        }
      } finally {
        streams.delete(issued);
        sessions.delete(session);
        session.close();
      }
    },

    async queryRaw(spec: QuerySpec): Promise<Buffer> {
      const r = pickReader();
      r.busy++;
      try {
        return await onReader(r, spec.name, async (client) => {
          const rs = await client.exec({ query: `${selectSql(spec, opts.queryTimeoutS)} FORMAT RawBLOB`, query_params: spec.params ?? {} });
          const parts: Buffer[] = [];
          for await (const chunk of rs.stream) parts.push(chunk as Buffer);
          return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        });
      } finally {
        r.busy--;
      }
    },

    async command(spec: QuerySpec): Promise<void> {
      const sql = spec.settings ? selectSql({ ...spec, settings: spec.settings }) : spec.sql;
      await onWriter(spec.name, (w) => w.command({ query: sql, query_params: spec.params ?? {} }));
    },

    async insert(spec: InsertSpec): Promise<void> {
      if (spec.rows.length === 0) return;
      await onWriter(`insert ${spec.table}`, (w) =>
        w.exec({ query: insertSql(spec.table, spec.dedupToken, spec.columns), values: insertPayload(spec.rows, spec.columns) as unknown as Readable }),
      );
    },

    async insertStream(spec: StreamInsertSpec) {
      let rows = 0;
      let bytes = 0;
      for await (const batch of lineBatches(spec.source, spec.batchBytes ?? 16 * 1024 * 1024)) {
        await onWriter(`insert ${spec.table}`, (w) => w.exec({ query: insertSql(spec.table, undefined, spec.columns), values: batch.text as unknown as Readable }));
        rows += batch.rows;
        bytes += batch.text.length;
        spec.onProgress?.({ rows, bytes });
      }
      return { rows, bytes };
    },

    async ping() {
      if (closed) return false;
      try {
        const r = pickReader();
        await onReader(r, 'ping', async (client) => (await client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' })).json());
        return true;
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
        for (const c of clients) await c.close();
      })();
      return closing;
    },
  };
  return store;
}
