/**
 * The isolated receiver's front door: it owns the public port and reads only the
 * request line of each new connection. Connections that start with a Splunk HEC
 * path stay in the receiver process; every other connection is handed, socket and
 * bytes already read, to the API process (its event loop serves it from then on;
 * the receiver never touches its bytes again).
 */
import type { Socket } from 'node:net';

/** Paths the receiver serves itself. */
export const HEC_PATH_PREFIX = '/services/collector';

/** Longest request line read before a connection is handed to the API anyway. */
const MAX_HEAD = 8 * 1024;
/** A connection that sends no request line within this time is closed. */
const FIRST_LINE_TIMEOUT_MS = 30_000;

/** The request target of a request line (`POST /services/collector/event HTTP/1.1`), or null. */
export function requestTarget(head: Buffer): string | null {
  const end = head.indexOf(0x0a);
  if (end < 0) return null;
  const line = head.subarray(0, end).toString('latin1').trim();
  const parts = line.split(' ');
  return parts.length >= 2 ? parts[1]! : '';
}

export function isHecTarget(target: string): boolean {
  return target === HEC_PATH_PREFIX || target.startsWith(`${HEC_PATH_PREFIX}/`) || target.startsWith(`${HEC_PATH_PREFIX}?`);
}

/**
 * Reads a new connection's request line and calls `route` with where it goes and
 * every byte read so far (the caller puts them back with `socket.unshift`). Reading
 * stops before the hand-off: nothing past those bytes is taken off the socket.
 */
export function routeConnection(socket: Socket, route: (hec: boolean, head: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => socket.destroy(), FIRST_LINE_TIMEOUT_MS);
  const done = () => {
    clearTimeout(timer);
    socket.removeListener('readable', onReadable);
    socket.removeListener('error', onError);
    socket.removeListener('end', onEnd);
  };
  const onError = () => {
    done();
    socket.destroy();
  };
  const onEnd = () => {
    done();
    socket.destroy();
  };
  const onReadable = () => {
    for (let c = socket.read() as Buffer | null; c !== null; c = socket.read() as Buffer | null) {
      chunks.push(c);
      size += c.length;
    }
    const head = Buffer.concat(chunks, size);
    const target = requestTarget(head);
    if (target === null && size < MAX_HEAD) return;
    done();
    route(target !== null && isHecTarget(target), head);
  };
  socket.on('readable', onReadable);
  socket.once('error', onError);
  socket.once('end', onEnd);
}

/**
 * Stops the kernel-to-JS reads of a socket about to be sent to another process, so no
 * byte arriving in between is read here and lost (Node's handle transfer does not).
 */
export function stopReading(socket: Socket): void {
  socket.pause();
  const handle = (socket as unknown as { _handle?: { readStop?: () => number; reading?: boolean } })._handle;
  if (handle?.readStop) {
    handle.reading = false;
    handle.readStop();
  }
}
