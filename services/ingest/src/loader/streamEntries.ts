/**
 * Ingest stream entries as the loader holds them: which stream they came from, their
 * payload, and the batch it parses to (or why it does not).
 */
import { findInvalidText, type UsageLogRow } from '@quaylogs/core';
import { type IngestBatch, parseIngestBatch } from '@quaylogs/queue';

export interface StreamEntry {
  /** The stream key (a shard, or the unsharded intake). */
  stream: string;
  id: string;
  /** The `b` field; null when the entry has none. */
  payload: string | null;
  batch?: IngestBatch;
  error?: string;
}

export type RawEntry = [string, string[]];

const MAX_KEY = (1n << 128n) - 1n;
const MAX_KEY_DIGITS = MAX_KEY.toString().length;

export function toEntry(stream: string, [id, fields]: RawEntry): StreamEntry {
  let payload: string | null = null;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'b') payload = fields[i + 1]!;
  const entry: StreamEntry = { stream, id, payload };
  if (payload === null) {
    entry.error = 'entry has no "b" field';
    return entry;
  }
  try {
    const batch = parseIngestBatch(payload);
    // Only a 39-digit key can exceed 2^128 - 1 (39 digits): no BigInt for the others.
    const bad = batch.rows.find((r) => r.event_key.length >= MAX_KEY_DIGITS && BigInt(r.event_key) > MAX_KEY);
    // Text ClickHouse cannot take (a lone surrogate) is known now: dead-letter it at once
    // instead of learning it from retried, bisected inserts that hold everything behind it.
    const badText = findInvalidText(batch.rows, 'rows');
    if (bad) entry.error = `event_key ${bad.event_key} is larger than UInt128`;
    else if (badText) entry.error = `${badText} is not valid Unicode`;
    else entry.batch = batch;
  } catch (err) {
    entry.error = `unparseable entry: ${String((err as Error).message).slice(0, 1000)}`;
  }
  return entry;
}

/** Entries of an XREAD reply, over every stream it names. */
export function xreadEntries(reply: unknown): StreamEntry[] {
  const streams = (reply as [string, RawEntry[]][] | null) ?? [];
  return streams.flatMap(([stream, entries]) => entries.map((e) => toEntry(stream, e)));
}

/** `<stream>/<id>`: an entry's name across streams (ids repeat between streams). */
export const entryRef = (e: { stream: string; id: string }): string => `${e.stream}/${e.id}`;

/** The batch's rows in entry order, each event_key once (the first occurrence wins). */
export function batchRows(entries: readonly StreamEntry[]): { rows: UsageLogRow[]; total: number } {
  const seen = new Set<string>();
  const rows: UsageLogRow[] = [];
  let total = 0;
  for (const e of entries) {
    for (const r of e.batch!.rows) {
      total++;
      if (seen.has(r.event_key)) continue;
      seen.add(r.event_key);
      rows.push(r);
    }
  }
  return { rows, total };
}

/** Stream ids compare as (ms, seq). */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am < bm ? -1 : am > bm ? 1 : as < bs ? -1 : as > bs ? 1 : 0;
}
