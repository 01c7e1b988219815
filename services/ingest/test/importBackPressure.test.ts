/**
 * An import's back-pressure, with a real Redis, the embedded ClickHouse and the real loader:
 * the importer waits only on its own hand-offs that the loader has not stored yet, so live
 * single-event traffic (one stream entry per HEC post) never holds it back, while a stopped
 * loader still stops it after a bounded number of hand-offs (Redis cannot fill).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { formatRfc2822, randomEventKey } from '@quaylogs/core';
import { appendIngestBatch } from '@quaylogs/queue';
import { quayRows, useStoreAndRedis } from '@quaylogs/testing';
import { startLoader } from '../src/loader.ts';
import { importFile, type ImportProgress } from '../src/import/index.ts';

const fixture = useStoreAndRedis();
const dir = mkdtempSync(join(tmpdir(), 'quaylogs-backpressure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENTRIES = 3000;
const PER_HAND_OFF = 100;
const MAX_BACKLOG = 5;

/** NDJSON of our export format: `n` distinct entries of namespace acme. */
function ndjson(n: number): string {
  const start = Date.UTC(2024, 5, 18, 10, 0, 0);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({
      kind: 'pull_repo',
      namespace: 'acme',
      datetime: formatRfc2822(new Date(start + i * 1000)),
      ip: '10.0.0.1',
      metadata: { repo: 'web', namespace: 'acme', n: i },
    }));
  }
  return `${lines.join('\n')}\n`;
}

/** Live HEC-like traffic: one single-event entry every few milliseconds until stopped. */
function liveTraffic() {
  let sent = 0;
  let stopped = false;
  const post = async () => {
    const [row] = quayRows(1, { source: 'live', namespace: `team${sent % 7}`, tag: `post-${sent}` });
    await appendIngestBatch(fixture.redis, { v: 1, origin: 'hec', source: 'live', rows: [{ ...row!, event_key: randomEventKey() }] });
    sent++;
  };
  const done = (async () => {
    while (!stopped) {
      await post();
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    post,
    sent: () => sent,
    async stop() {
      stopped = true;
      await done;
      return sent;
    },
  };
}

async function countOf(source: string): Promise<number> {
  const [r] = await fixture.store.query<{ n: string }>({
    name: 'test.sourceCount',
    sql: 'SELECT count() AS n FROM usage_logs WHERE source = {source:String}',
    params: { source },
  });
  return Number(r!.n);
}

it('an import beside live single-event posts pauses only while the loader is stopped, and then stores every row once', async () => {
  const path = join(dir, 'logs.ndjson');
  writeFileSync(path, ndjson(ENTRIES));
  const live = liveTraffic();
  // Far more live entries in the stream than the importer's bound, before it starts.
  for (let i = 0; i < 10 * MAX_BACKLOG; i++) await live.post();

  const progress: ImportProgress[] = [];
  const abort = new AbortController();
  let waited!: () => void;
  const waiting = new Promise<void>((r) => (waited = r));
  const importing = importFile({
    path,
    redis: fixture.redis,
    store: fixture.store,
    source: 'imported',
    batchRows: PER_HAND_OFF,
    maxBacklog: MAX_BACKLOG,
    checkpointEveryMs: 0,
    signal: abort.signal,
    onProgress: (p) => {
      progress.push(p);
      if (p.waiting) waited();
    },
  });

  let loader: ReturnType<typeof startLoader> | undefined;
  try {
    // No loader yet: the import hands over exactly its bound, then waits (live entries do not count).
    await waiting;
    await new Promise((r) => setTimeout(r, 500));
    expect(progress.at(-1)).toMatchObject({ rows: MAX_BACKLOG * PER_HAND_OFF, waiting: true });

    // With a loader, the import completes while the posts keep arriving.
    const postedBefore = live.sent();
    loader = startLoader({ redis: fixture.redis, store: fixture.store, consumer: `backpressure-${process.pid}`, batchMs: 50 });
    const result = await importing;
    expect(result).toMatchObject({ rows: ENTRIES, completed: true, skipped: 0 });
    expect(live.sent()).toBeGreaterThan(postedBefore);
    const posted = await live.stop();
    await loader.drain();
    expect(await countOf('imported')).toBe(ENTRIES);
    expect(await countOf('live')).toBe(posted);
  } finally {
    abort.abort();
    await importing.catch(() => undefined);
    await live.stop();
    await loader?.stop();
  }
}, 120_000);
