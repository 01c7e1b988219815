/**
 * The console's static serving, over real HTTP: `/` with a fresh CSP nonce per load and
 * the strict policy, hashed assets gzipped when the browser takes gzip, unknown files
 * 404, and a clear 503 when the console was never built.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consolePlugin } from '../server/index.ts';

async function serve(dist: string): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify();
  consolePlugin({ distDir: dist })(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

describe('console static serving', () => {
  let dir: string;
  let built: { app: FastifyInstance; url: string };
  let missing: { app: FastifyInstance; url: string };
  const js = `console.log(${JSON.stringify('x'.repeat(5000))});`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quaylogs-console-dist-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<meta name="csp-nonce" content="__CSP_NONCE__"><script type="module" src="/assets/app-1.js"></script>');
    writeFileSync(join(dir, 'assets', 'app-1.js'), js);
    built = await serve(dir);
    missing = await serve(join(dir, 'nothing-here'));
  });
  afterAll(async () => {
    await built.app.close();
    await missing.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves / with a strict CSP whose style nonce is new on every load and written into the page', async () => {
    const a = await fetch(`${built.url}/`);
    const b = await fetch(`${built.url}/`);
    const csp = a.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(await a.text()).toContain(`content="${nonce}"`);
    expect(b.headers.get('content-security-policy')).not.toContain(nonce);
    expect(a.headers.get('cache-control')).toBe('no-store');
    expect(a.headers.get('x-frame-options')).toBe('DENY');
  });

  it('sends hashed assets gzipped to browsers that take gzip, plain otherwise, cached for a year', async () => {
    const gz = await fetch(`${built.url}/assets/app-1.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gz.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(gz.headers.get('cache-control')).toContain('immutable');
    expect(await gz.text()).toBe(js);
    const plain = await fetch(`${built.url}/assets/app-1.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBe(null);
    expect(await plain.text()).toBe(js);
    expect(gunzipSync(Buffer.from(await (await built.app.inject({ url: '/assets/app-1.js', headers: { 'accept-encoding': 'gzip' } })).rawPayload)).toString()).toBe(js);
  });

  it('answers 404 for a file the build does not hold, including the hidden source hash and paths outside it', async () => {
    for (const path of ['/assets/nope.js', '/.source-hash', '/assets/../index.html', '/assets/%2e%2e/%2e%2e/package.json']) {
      expect((await fetch(`${built.url}${path}`)).status).toBe(404);
    }
  });

  it('says how to build the console when it was never built', async () => {
    const res = await fetch(`${missing.url}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build -w @quaylogs/console');
  });
});
