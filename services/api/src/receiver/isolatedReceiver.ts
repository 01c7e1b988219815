/**
 * Parent side of the isolated HEC receiver (receiverProcess.ts): starts the receiver
 * process on the public port, and serves in this process every connection it hands
 * over (the API's). The API's own server listens only on a loopback port, for the
 * rare non-HEC request that arrives on a connection which began with HEC.
 *
 * So Quay's HEC posts never wait on this process' event loop — not on a heavy query,
 * an export, an import or the loader's inserts — and users still see one port.
 * A receiver process that dies is started again (its port is briefly closed).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getPriority } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ReceiverStart } from './receiverProcess.ts';
import { setProcessNice } from './cpuPriority.ts';

export interface IsolatedReceiverOptions extends Omit<ReceiverStart, 'apiUrl' | 'tokens' | 'appendTimeoutMs' | 'logLevel' | 'nice'> {
  tokens: Map<string, string>;
  /** The API's HTTP server, already listening on a loopback port. */
  api: Server;
  logLevel?: string;
  appendTimeoutMs?: number;
  /**
   * CPU priority (QUAYLOGS_RECEIVER_NICE, QUAYLOGS_API_NICE): the receiver process sets
   * itself to `receiver` (when permitted), then this process sets every thread of its own
   * to `api` (unless already nicer). Unset: both keep the priority they started with.
   */
  nice?: { receiver: number; api: number };
  /**
   * Start the receiver in a session of its own (default true). Linux' autogroup scheduling
   * shares the CPU between sessions first and between the threads of a session second, so in
   * its own session the receiver gets a share of its own however many threads the engine,
   * an import or (in the bench) the load generator make runnable in this process's session.
   * Without autogroups (systemd services and containers are scheduled by cgroup) it changes
   * nothing. false: stay in this process's session (A/B measurements).
   */
  ownSession?: boolean;
  /** Extra Node.js flags for the receiver process (diagnostics: the bench's CPU profiles). */
  execArgv?: string[];
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Called in this process for every request the receiver refused (metrics). */
  onReject?: (source: string, code: number) => void;
}

export interface IsolatedReceiver {
  /** The public port (the one asked for, or the one picked for port 0). */
  port: number;
  /** The receiver's process id (tests, diagnostics). */
  pid(): number | undefined;
  /** Stops accepting, lets requests in flight finish, closes the receiver process. */
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./receiverProcess.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export async function startIsolatedReceiver(opts: IsolatedReceiverOptions): Promise<IsolatedReceiver> {
  const apiAddr = opts.api.address() as AddressInfo | null;
  if (!apiAddr || typeof apiAddr !== 'object') throw new Error('the API server must listen (loopback) before the receiver starts');
  const base: Omit<ReceiverStart, 'port'> = {
    host: opts.host,
    redisUrl: opts.redisUrl,
    tokens: [...opts.tokens],
    maxBodyBytes: opts.maxBodyBytes,
    apiUrl: `http://127.0.0.1:${apiAddr.port}`,
    logLevel: opts.logLevel ?? 'info',
    // Quay waits 10 s by default (its `timeout`); "server busy" comes well before that.
    appendTimeoutMs: opts.appendTimeoutMs ?? 5_000,
    ...(opts.nice ? { nice: opts.nice.receiver } : {}),
  };
  let stopping = false;
  let publicPort = opts.port;
  let child: ChildProcess;
  let closed: Promise<void>;

  const launch = (port: number): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      // detached: setsid(), a session (and autogroup) of its own; it still ends with this
      // process (it exits when the IPC channel closes) and ignores a terminal's Ctrl-C anyway.
      child = spawn(process.execPath, [...(opts.execArgv ?? []), '--import', TSX, CHILD], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: opts.ownSession ?? true });
      const proc = child;
      closed = new Promise<void>((r) => proc.once('exit', () => r()));
      type FromChild = { t: string; port?: number; message?: string; head?: string; source?: string; code?: number; nice?: number; niceRefused?: string };
      proc.on('message', (msg: FromChild, handle?: Socket) => {
        if (msg.t === 'listening') {
          // Said at every start: a receiver restarted after a crash inherits this process's
          // (lowered) priority and may not be permitted to raise it again.
          if (msg.niceRefused) opts.log.warn({ nice: msg.nice, wanted: opts.nice?.receiver, reason: msg.niceRefused }, 'hec receiver: could not raise its CPU priority; it keeps the nice value it started with');
          resolve(msg.port!);
        }
        else if (msg.t === 'reject') opts.onReject?.(msg.source ?? '-', msg.code ?? 0);
        else if (msg.t === 'failed') reject(new Error(`HEC receiver: ${msg.message}`));
        else if (msg.t === 'conn' && handle) {
          // A connection for the API: put back what the receiver read, serve it here.
          handle.unshift(Buffer.from(msg.head ?? '', 'base64'));
          opts.api.emit('connection', handle);
        }
      });
      proc.once('exit', (code, signal) => {
        reject(new Error(`HEC receiver exited at start (code ${code}, signal ${signal})`));
        if (stopping) return;
        opts.log.error({ code, signal }, 'hec receiver: process exited; starting it again');
        setTimeout(() => {
          if (!stopping) launch(publicPort).catch((err: Error) => opts.log.error({ err }, 'hec receiver: restart failed'));
        }, 500).unref();
      });
      proc.send({ t: 'start', ...base, port });
    });

  const port = await launch(opts.port);
  publicPort = port;
  // After the launch: the receiver (like any child) inherits the priority of the thread that
  // spawns it, and lowering a nice value again needs privileges.
  const api = opts.nice && opts.nice.api > getPriority() ? setProcessNice(opts.nice.api) : null;
  if (api && !api.ok) opts.log.warn({ nice: opts.nice?.api, reason: api.reason }, 'hec receiver: could not lower the API process\'s CPU priority');
  opts.log.info({ port, pid: child!.pid, nice: { receiver: child!.pid ? getPriority(child!.pid) : null, api: getPriority() } }, 'hec receiver: isolated process serving the public port');
  return {
    port,
    pid: () => child.pid,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ t: 'shutdown' });
      const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await closed;
      clearTimeout(deadline);
    },
  };
}
