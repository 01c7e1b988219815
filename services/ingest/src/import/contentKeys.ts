/**
 * Content keys computed in worker threads. Hashing every imported row (canonical JSON of its
 * content, SHA-256) was about a fifth of the importing thread's time, and that thread also
 * reads PostgreSQL, serialises the stream entries and (in `quaylogs up`) runs the loader.
 *
 * A row's ordinal counts the identical rows before it in the list, and identical rows share
 * their second, so a list split by second — each part keeping the list's order — gets
 * exactly the keys the whole list gets. Each worker runs `assignContentKeys` itself.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { assignContentKeys } from '@quaylogs/core';
import type { UnkeyedRow } from './eventKeys.ts';

// The sources are TypeScript run through tsx, which a worker does not inherit (neither
// bin/quaylogs.js's in-process register() nor `--import tsx` in a worker's execArgv): the
// worker registers it, then loads its module.
const TSX_API = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
const WORKER = new URL('./keyWorker.ts', import.meta.url).href;
const BOOT = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER)}); })`;

/** Below this many rows a list is hashed in the calling thread: messaging would cost more. */
const MIN_ROWS_FOR_WORKERS = 2_000;

interface Job {
  resolve: (keys: string[]) => void;
  reject: (err: Error) => void;
}

class KeyWorker {
  private readonly worker: Worker;
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  failed: Error | null = null;

  constructor() {
    this.worker = new Worker(BOOT, { eval: true });
    this.worker.unref();
    this.worker.on('message', (msg: { id: number; keys?: string[]; error?: string }) => {
      const job = this.jobs.get(msg.id);
      this.jobs.delete(msg.id);
      if (msg.keys) job?.resolve(msg.keys);
      else job?.reject(new Error(msg.error ?? 'key worker failed'));
    });
    const fail = (err: Error) => {
      this.failed ??= err;
      for (const job of this.jobs.values()) job.reject(err);
      this.jobs.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`key worker exited (code ${code})`)));
  }

  keys(rows: UnkeyedRow[]): Promise<string[]> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise<string[]>((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      this.worker.postMessage({ id, rows });
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Default worker count: the cores beyond the importing thread's, at most 4. */
export function defaultKeyThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

export class ContentKeyPool {
  private workers: KeyWorker[] | null = null;
  /** Lists keyed by the workers so far (the rest were keyed in the calling thread). */
  inWorkers = 0;

  /** `threads` 0: every key is computed in the calling thread. */
  constructor(private readonly threads = defaultKeyThreads()) {}

  /** The keys `assignContentKeys(rows)` gives, in the rows' order. */
  async keys(rows: UnkeyedRow[]): Promise<string[]> {
    if (this.threads <= 0 || rows.length < MIN_ROWS_FOR_WORKERS) return inThread(rows);
    this.workers ??= Array.from({ length: this.threads }, () => new KeyWorker());
    const n = this.workers.length;
    if (n === 0) return inThread(rows);
    const parts: UnkeyedRow[][] = Array.from({ length: n }, () => []);
    const partOf = new Uint8Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      // The second's digits pick the part: every row of a second goes to the same one.
      const dt = rows[i]!.datetime;
      const p = (dt.charCodeAt(17) * 10 + dt.charCodeAt(18)) % n;
      partOf[i] = p;
      parts[p]!.push(rows[i]!);
    }
    let partKeys: string[][];
    try {
      partKeys = await Promise.all(this.workers.map((w, p) => (parts[p]!.length ? w.keys(parts[p]!) : Promise.resolve([]))));
    } catch (err) {
      // A worker that cannot run (or died) must not stop the import: hash here instead.
      if (!this.workers.some((w) => w.failed)) throw err;
      await this.close();
      this.workers = [];
      return inThread(rows);
    }
    this.inWorkers++;
    const at = new Uint32Array(n);
    const out = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = partKeys[partOf[i]!]![at[partOf[i]!]!++]!;
    return out;
  }

  async close(): Promise<void> {
    const workers = this.workers ?? [];
    this.workers = null;
    await Promise.all(workers.map((w) => w.close()));
  }
}

function inThread(rows: UnkeyedRow[]): string[] {
  return assignContentKeys(rows).map((r) => r.event_key);
}
