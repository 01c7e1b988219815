/**
 * I2's and I4's load generator, a process of its own (see openLoop.ts): posts the bodies
 * of a file (one per line) open loop, and prints one JSON line: every post's latency and
 * send delay, and what delayed this process itself — its event loop's delay, its garbage
 * collections, its time waiting for a CPU.
 *
 * argv[2]: JSON { url, token, rate, sockets, bodiesFile }
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { hecPoster, openLoopPosts, schedstat } from './openLoop.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as { url: string; token: string; rate: number; sockets: number; bodiesFile: string };
const bodies = readFileSync(args.bodiesFile, 'utf8').split('\n').filter((l) => l !== '');
const client = hecPoster(args.url, args.token, args.sockets);
const gc: number[] = [];
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gc.push(e.duration);
});
observer.observe({ entryTypes: ['gc'] });
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const before = schedstat('self', true);
const result = await openLoopPosts(client, bodies, args.rate);
const after = schedstat('self', true);
delay.disable();
observer.disconnect();
client.close();
process.stdout.write(
  JSON.stringify({
    ...result,
    generator: {
      loopDelayP99: delay.percentile(99) / 1e6,
      loopDelayMax: delay.max / 1e6,
      gcMax: Math.max(0, ...gc),
      gcTotal: gc.reduce((a, b) => a + b, 0),
      cpuMs: before && after ? after.cpuMs - before.cpuMs : null,
      waitMs: before && after ? after.waitMs - before.waitMs : null,
    },
  }) + '\n',
);
