/**
 * Worker thread of ContentKeyPool (contentKeys.ts): content keys for a list of rows, exactly
 * as `assignContentKeys` gives them in the importing thread (it is the same function).
 */
import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { assignContentKeys } from '@quaylogs/core';
import type { UnkeyedRow } from './eventKeys.ts';

// An import is background work: this thread takes the CPU last, after live traffic (HEC
// posts, API requests). Linux keeps a nice value per thread; /proc/thread-self names this one.
// Elsewhere (or when not permitted) the thread keeps the process's priority.
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), constants.priority.PRIORITY_LOW);
} catch {
  // not Linux, or no /proc: same priority as the process
}

parentPort!.on('message', (msg: { id: number; rows: UnkeyedRow[] }) => {
  try {
    parentPort!.postMessage({ id: msg.id, keys: assignContentKeys(msg.rows).map((r) => r.event_key) });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: String((err as Error).message ?? err) });
  }
});
