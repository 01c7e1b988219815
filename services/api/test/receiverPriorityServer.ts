/**
 * A process for receiverPriority.test.ts: an API server and the isolated receiver with the
 * CPU priorities it is given, as `quaylogs up` starts them. Its own process, because setting
 * priorities changes the whole process (and raising a nice value cannot be undone unprivileged).
 *
 * argv[2]: JSON { redisUrl, token, nice: { receiver, api } }
 * stdout:  one JSON line per event: {t:'ready', port, receiverPid}, {t:'log', level, msg, …},
 *          {t:'thread'} (a thread started after the receiver), {t:'receiver', pid}
 * stdin:   `thread` starts a new thread; `receiver` asks for the receiver's pid; end of input stops.
 */
import http from 'node:http';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { startIsolatedReceiver } from '../src/receiver/isolatedReceiver.ts';

const args = JSON.parse(process.argv[2]!) as { redisUrl: string; token: string; nice: { receiver: number; api: number } };
const say = (obj: object) => process.stdout.write(JSON.stringify(obj) + '\n');
const logAt = (level: string) => (obj: object, msg: string) => say({ t: 'log', level, msg, ...obj });

const api = http.createServer((_req, res) => res.end('api'));
await new Promise<void>((r) => api.listen(0, '127.0.0.1', () => r()));
const receiver = await startIsolatedReceiver({
  host: '127.0.0.1',
  port: 0,
  redisUrl: args.redisUrl,
  tokens: new Map([[args.token, 'quay-prod']]),
  maxBodyBytes: 1 << 20,
  api,
  logLevel: 'silent',
  nice: args.nice,
  log: { info: logAt('info'), warn: logAt('warn'), error: logAt('error') },
});
say({ t: 'ready', port: receiver.port, receiverPid: receiver.pid() });

const workers: Worker[] = [];
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'thread') {
    // Like the engine's pools growing after start: a thread this process creates from now on.
    const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await new Promise((r) => w.once('online', r));
    workers.push(w);
    say({ t: 'thread' });
  } else if (line === 'receiver') {
    say({ t: 'receiver', pid: receiver.pid() });
  }
}
await Promise.all(workers.map((w) => w.terminate()));
await receiver.stop();
api.close();
process.exit(0);
