/**
 * The isolated HEC receiver: a child process whose event loop does nothing but read
 * request lines, parse Splunk HEC bodies, key the events and XADD them — group-committed
 * on a Redis connection of its own. It owns the public port (one port for users, as
 * before): connections to `/services/collector…` stay here, every other connection is
 * handed to the parent (the API) with the bytes already read. A stray non-HEC request on
 * a connection that began with HEC is forwarded to the parent's loopback listener.
 *
 * Back-pressure comes only from Redis: a full Redis (OOM under maxmemory), an unreachable
 * one or one that does not answer within the append timeout gets Splunk's "server busy"
 * (code 9, HTTP 503) at once. Nothing here waits on the loader or the store.
 *
 * Spoken to over the IPC channel (tokens never appear on a command line):
 *   parent → child  {t:'start', …ReceiverStart}   {t:'shutdown'}
 *   child → parent  {t:'listening', port, nice, niceRefused?}  {t:'failed', message}  {t:'conn', head} + socket  {t:'closed'}
 */
import http from 'node:http';
import net, { type Socket } from 'node:net';
import { getPriority } from 'node:os';
import Fastify from 'fastify';
import { groupAppender, quitRedis, redisForProducers } from '@quaylogs/queue';
import { hecPlugin } from '../routes/hec.ts';
import { routeConnection, stopReading } from './connectionRouter.ts';
import { setProcessNice } from './cpuPriority.ts';

export interface ReceiverStart {
  host: string;
  port: number;
  redisUrl: string;
  /** [token, source] pairs. */
  tokens: [string, string][];
  maxBodyBytes: number;
  /** The parent's loopback listener, for stray non-HEC requests. */
  apiUrl: string;
  logLevel: string;
  /** Longest wait for Redis to take a group of XADDs before answering "server busy". */
  appendTimeoutMs: number;
  /** Nice value this process sets for itself before it listens (when permitted; see cpuPriority.ts). */
  nice?: number;
}

type FromParent = ({ t: 'start' } & ReceiverStart) | { t: 'shutdown' };

const send = (msg: object, handle?: Socket): void => {
  if (process.connected) process.send!(msg, handle as never);
};

async function start(opts: ReceiverStart): Promise<void> {
  // First, so every thread this process creates from here on inherits it.
  const priority = opts.nice === undefined ? null : setProcessNice(opts.nice);
  // Fail fast: with no offline queue a lost connection refuses at once ("server busy").
  // The group's own timeout answers a hung Redis; ioredis' per-command one is only a backstop
  // (set equal, its timer could fire first after a CPU stall and fail replies already waiting).
  const redis = redisForProducers(opts.redisUrl, { enableOfflineQueue: false, commandTimeout: opts.appendTimeoutMs * 3 });
  redis.on('error', () => undefined); // reconnects on its own; requests meanwhile answer "server busy"
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis at ${opts.redisUrl} did not answer within 15 s`)), 15_000);
    redis.once('ready', () => (clearTimeout(timer), resolve()));
  });
  const appender = groupAppender(redis, { timeoutMs: opts.appendTimeoutMs });
  const state = { shuttingDown: false };
  // No line per request (at Quay's rate that would be most of this loop's work): refusals only.
  const app = Fastify({ logger: { level: opts.logLevel, redact: ['req.headers.authorization'] }, keepAliveTimeout: 75_000, disableRequestLogging: true });
  let inFlight = 0;
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/services/collector')) {
      inFlight++;
      return;
    }
    reply.hijack();
    forward(opts.apiUrl, req.raw, reply.raw);
  });
  app.addHook('onResponse', async (req, reply) => {
    if (!req.url.startsWith('/services/collector')) return;
    inFlight--;
    if (reply.statusCode >= 400) req.log.info({ url: req.url, statusCode: reply.statusCode, ms: reply.elapsedTime }, 'hec request refused');
  });
  hecPlugin({
    redis,
    tokens: new Map(opts.tokens),
    maxBodyBytes: opts.maxBodyBytes,
    append: (b) => appender.append(b),
    // Counted by the parent, which serves /metrics.
    onReject: (source, code) => send({ t: 'reject', source, code }),
  })(app, state);
  await app.ready();

  const sockets = new Set<Socket>();
  const front = net.createServer((socket) => {
    routeConnection(socket, (hec, head) => {
      if (hec && !state.shuttingDown) {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.unshift(head);
        app.server.emit('connection', socket);
        return;
      }
      stopReading(socket);
      send({ t: 'conn', head: head.toString('base64') }, socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen({ host: opts.host, port: opts.port }, () => resolve());
  });
  const addr = front.address() as net.AddressInfo;
  app.log.info({ port: addr.port }, 'hec receiver: listening (isolated process)');
  send({ t: 'listening', port: addr.port, nice: priority?.nice ?? getPriority(), ...(priority && !priority.ok ? { niceRefused: priority.reason } : {}) });

  process.on('message', (msg: FromParent) => {
    if (msg.t !== 'shutdown' || state.shuttingDown) return;
    state.shuttingDown = true;
    front.close();
    void (async () => {
      // Requests in flight finish (their events are in the stream); idle connections close.
      const deadline = Date.now() + 10_000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const s of sockets) s.destroy();
      await quitRedis(redis);
      app.log.info(appender.stats, 'hec receiver: stopped');
      send({ t: 'closed' });
      process.disconnect();
    })();
  });
}

/** Pipes one request to the API's loopback listener and its answer back. */
function forward(apiUrl: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const upstream = http.request(new URL(req.url ?? '/', apiUrl), { method: req.method, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
    answer.pipe(res);
  });
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('API unreachable');
  });
  req.pipe(upstream);
}

process.once('message', (msg: FromParent) => {
  if (msg.t !== 'start') return;
  start(msg).catch((err: Error) => {
    send({ t: 'failed', message: err.message });
    process.exitCode = 1;
    process.disconnect();
  });
});
// The parent orders the shutdown (posts in flight finish first); a terminal's Ctrl-C reaches
// the whole process group, so the receiver ignores it and waits for the parent's word.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
// The parent is gone: nothing left to serve for.
process.on('disconnect', () => setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref());
