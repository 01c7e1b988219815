/**
 * All-in-one mode without REDIS_URL: quaylogs starts its own redis-server, with
 * its data (append-only file) under QUAYLOGS_DATA_DIR/redis and a unix socket
 * there, so nothing listens on the network. It persists (appendonly) and never
 * evicts (noeviction): the ingest stream and the queues must not lose entries.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';

export interface LocalRedis {
  /** ioredis accepts a unix socket path where it takes a URL. */
  url: string;
  stop(): Promise<void>;
}

export class RedisUnavailableError extends Error {}

/**
 * A one-shot connection for probing a socket: no reconnects, and its errors are the
 * probe's answer (listened for, so ioredis prints no "Unhandled error event").
 */
function probeClient(socket: string): Redis {
  const probe = new Redis(socket, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on('error', () => undefined);
  return probe;
}

function findRedisServer(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : null;
}

export async function startLocalRedis(dataDir: string): Promise<LocalRedis> {
  const bin = findRedisServer();
  if (!bin) {
    throw new RedisUnavailableError(
      'no Redis: set REDIS_URL to a Redis 6.2+ server, or install redis-server (Debian/Ubuntu: apt-get install redis-server) so quaylogs can start its own',
    );
  }
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'redis.sock');
  if (existsSync(socket)) {
    // A redis-server left running by an earlier quaylogs that was killed: reuse it.
    const probe = probeClient(socket);
    try {
      await probe.connect();
      await probe.ping();
      return {
        url: socket,
        async stop() {
          await probe.shutdown('SAVE').catch(() => undefined);
          probe.disconnect();
        },
      };
    } catch {
      probe.disconnect();
      rmSync(socket);
    }
  }
  const child: ChildProcess = spawn(
    bin,
    [
      '--port', '0',
      '--unixsocket', socket,
      '--unixsocketperm', '700',
      '--dir', dir,
      '--appendonly', 'yes',
      '--appendfsync', 'everysec',
      '--save', '',
      '--maxmemory-policy', 'noeviction',
      '--daemonize', 'no',
      '--logfile', join(dir, 'redis.log'),
    ],
    { stdio: 'ignore' },
  );
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new RedisUnavailableError(`redis-server exited at start; see ${join(dir, 'redis.log')}`);
    if (existsSync(socket)) {
      const probe = probeClient(socket);
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        break;
      } catch {
        probe.disconnect();
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new RedisUnavailableError(`redis-server did not answer on ${socket} within 15 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: socket,
    async stop() {
      if (exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM'); // redis-server flushes the AOF on SIGTERM
      // The deadline timer must not outlive the wait: a pending 10 s timer kept every one-shot
      // command (a 3-row `import file`) alive for 10 s after its work was done.
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((r) => (deadline = setTimeout(r, 10_000)))]);
      clearTimeout(deadline);
      if (!exited) child.kill('SIGKILL');
    },
  };
}
