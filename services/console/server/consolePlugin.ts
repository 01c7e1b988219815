/**
 * Serves the built console (services/console/dist) from the API process: `/` is the
 * single page, `/assets/*` its hashed bundles. Every answer carries a strict
 * Content-Security-Policy: scripts only from this origin, no inline script, styles from
 * this origin plus the one <style> element the UI library writes (allowed by a nonce
 * made per page load), data only from this origin's API, no framing.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const CONSOLE_DIST = fileURLToPath(new URL('../dist', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    // Inline style attributes (chart tooltips) cannot run code; <style> elements need the nonce.
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(reply: FastifyReply, nonce: string): FastifyReply {
  return reply
    .header('content-security-policy', contentSecurityPolicy(nonce))
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin');
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

export interface ConsoleOptions {
  /** The built console (default: services/console/dist). */
  distDir?: string;
}

/** Registers `/` and the console's static files. Without a build, `/` says how to make one. */
export function consolePlugin(opts: ConsoleOptions = {}): (app: FastifyInstance) => void {
  const dist = opts.distDir ?? CONSOLE_DIST;
  return (app) => {
    const indexPath = join(dist, 'index.html');
    if (!existsSync(indexPath)) {
      app.get('/', async (_req, reply) =>
        securityHeaders(reply, randomBytes(16).toString('base64'))
          .code(503)
          .type('text/plain; charset=utf-8')
          .send('The console is not built. Run `npm run build -w @quaylogs/console` (or `quaylogs up`, which builds it).\n'),
      );
      return;
    }
    const index = readFileSync(indexPath, 'utf8');
    // Every other built file, read once: the bundle is a few MB at most.
    const files = new Map<string, { body: Buffer; gzip: Buffer | null; type: string }>();
    for (const p of walk(dist)) {
      const rel = `/${relative(dist, p).split('\\').join('/')}`;
      if (rel === '/index.html' || rel.startsWith('/.')) continue;
      const body = readFileSync(p);
      const compressible = ['.js', '.css', '.svg', '.json'].includes(extname(p));
      files.set(rel, { body, gzip: compressible ? gzipSync(body, { level: 9 }) : null, type: TYPES[extname(p)] ?? 'application/octet-stream' });
    }

    app.get('/', async (_req, reply) => {
      const nonce = randomBytes(16).toString('base64');
      return securityHeaders(reply, nonce)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(index.replaceAll('__CSP_NONCE__', nonce));
    });
    // The bundle is gzipped once at start (about a quarter of its size) and sent so to every browser that takes it.
    const serve = (path: string, req: FastifyRequest, reply: FastifyReply, immutable: boolean) => {
      const f = files.get(path);
      if (!f) return reply.callNotFound();
      const gzip = f.gzip !== null && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      securityHeaders(reply, randomBytes(16).toString('base64'))
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=300')
        .header('vary', 'accept-encoding')
        .type(f.type);
      if (gzip) reply.header('content-encoding', 'gzip');
      return reply.send(gzip ? f.gzip : f.body);
    };
    app.get('/assets/*', async (req, reply) => serve(`/assets/${(req.params as { '*': string })['*']}`, req, reply, true));
    app.get('/favicon.svg', async (req, reply) => serve('/favicon.svg', req, reply, false));
  };
}
