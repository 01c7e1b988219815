/**
 * Worker thread of ContentKeyPool (contentKeys.ts): content keys for a list of rows, exactly
 * as `assignContentKeys` gives them in the importing thread (it is the same function).
 */
import { parentPort } from 'node:worker_threads';
import { assignContentKeys } from '@quaylogs/core';
import type { UnkeyedRow } from './eventKeys.ts';

parentPort!.on('message', (msg: { id: number; rows: UnkeyedRow[] }) => {
  try {
    parentPort!.postMessage({ id: msg.id, keys: assignContentKeys(msg.rows).map((r) => r.event_key) });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: String((err as Error).message ?? err) });
  }
});
