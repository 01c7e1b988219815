/**
 * The open-loop HEC load generator of I2 and I4, run in a process of its own
 * (postLoadChild.ts) so that what it measures is the receiver, not the bench process:
 * the bench process holds the loaded store (an embedded engine with its threads) and a
 * large heap, and a post's answer read late because that event loop was busy or
 * collecting garbage would count as receiver latency.
 */
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';

/** A process's CPU time and time spent waiting for a CPU (Linux /proc schedstat, ms), summed over its threads; null elsewhere. */
export function schedstat(pid: number | 'self' = 'self', mainThreadOnly = false): { cpuMs: number; waitMs: number } | null {
  try {
    const tasks = mainThreadOnly ? [pid === 'self' ? String(process.pid) : String(pid)] : readdirSync(`/proc/${pid}/task`);
    let cpu = 0;
    let wait = 0;
    for (const t of tasks) {
      try {
        const [run, queued] = readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').trim().split(' ').map(Number);
        cpu += run!;
        wait += queued!;
      } catch {
        /* the thread ended meanwhile */
      }
    }
    return { cpuMs: cpu / 1e6, waitMs: wait / 1e6 };
  } catch {
    return null;
  }
}

export interface Poster {
  post(body: Buffer | string): Promise<number>;
  close(): void;
}

/** HEC posts on a keep-alive agent of `sockets` connections. */
export function hecPoster(url: string, token: string, sockets: number): Poster {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const target = new URL('/services/collector/event', url);
  const post = (body: Buffer | string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        target,
        { method: 'POST', agent, headers: { authorization: `Splunk ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      // A post the server never answers fails the figure instead of stalling the run.
      req.setTimeout(120_000, () => req.destroy(new Error('HEC post: no answer within 120 s')));
      req.end(body);
    });
  return { post, close: () => agent.destroy() };
}

export interface OpenLoopResult {
  /** Per post, from its actual send to the end of its answer (ms). */
  latencies: number[];
  /** Per post, how late it was sent after its due time (ms): the generator's own delay. */
  lateness: number[];
  elapsed: number;
  /** Posts that failed or were not answered 200, by reason; empty when all succeeded. */
  failures: Record<string, number>;
}

/**
 * Posts every body at `rate` per second on the clock (an open loop: a slow answer does not
 * delay the next post), and returns each post's latency and how late it was sent.
 */
export async function openLoopPosts(client: Poster, bodies: readonly string[], rate: number): Promise<OpenLoopResult> {
  const latencies: number[] = [];
  const lateness: number[] = [];
  const failures: Record<string, number> = {};
  const note = (k: string) => (failures[k] = (failures[k] ?? 0) + 1);
  const inflight: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < bodies.length; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const start = performance.now();
    lateness.push(Math.max(0, start - due));
    inflight.push(
      client.post(bodies[i]!).then(
        (status) => {
          latencies.push(performance.now() - start);
          if (status !== 200) note(`HTTP ${status}`);
        },
        (err: Error) => void note(err.message),
      ),
    );
  }
  await Promise.all(inflight);
  return { latencies, lateness, elapsed: (performance.now() - t0) / 1000, failures };
}
