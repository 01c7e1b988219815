/**
 * Loads into a running server (quaylogs extensions, superusers only), so `quaylogs import
 * file` and `quaylogs demo` work while `up` holds the embedded store:
 * - POST /api/v1/superuser/import — the file's bytes as the body (any format `import file`
 *   reads; gzip detected); the server spools it under its data directory and hands the
 *   entries to the ingest stream, which its loader stores (exactly once, as always);
 * - POST /api/v1/superuser/demo — generated demo entries, inserted by the server.
 * The work itself is the ingestion service's and the demo generator's, handed in by the
 * runtime; these routes authorize, validate and answer what was done.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { ApiError, forbidden, invalidRequest, unauthenticated } from '../httpErrors.ts';

export interface ServerLoadDeps {
  importFile(path: string, opts: { source: string; restart: boolean; quayDbUrl?: string }): Promise<{ rows: number; completed: boolean }>;
  importQuayDb(opts: { pgUrl: string; source: string; restart: boolean; batchRows: number }): Promise<{ rows: number; completed: boolean }>;
  demo(opts: { rows: number; seed: number; force: boolean }): Promise<{ rows: number; accounts: number } | { refused: string }>;
  /** Errors of this class are the caller's (a malformed file, a database that is not Quay's): answered 400 with their message. */
  refusal: new (...args: never[]) => Error;
  /** Largest upload accepted, in bytes. */
  maxUploadBytes: number;
}

async function superuser(ctx: AppContext, req: FastifyRequest): Promise<string> {
  const p = await ctx.auth.principal(req);
  if (!p) throw unauthenticated();
  if (!p.superuser) throw forbidden();
  return p.username;
}

/** The upload's body as the octet-stream parser hands it over: the request stream itself. */
function isReadableStream(body: unknown): body is NodeJS.ReadableStream {
  return typeof body === 'object' && body !== null && 'pipe' in body && typeof body.pipe === 'function';
}

export function serverLoadsPlugin(deps: ServerLoadDeps): (app: FastifyInstance, ctx: AppContext) => void {
  return (app, ctx) => {
    void app.register(async (scope) => {
      // The body streams to disk as it arrives; nothing holds a whole file in memory.
      scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
      ctx.registry.define(
        scope,
        {
          method: 'POST',
          url: '/api/v1/superuser/import',
          operationId: 'importLogFile',
          tag: 'quaylogs',
          extension: true,
          description:
            "Imports a Quay export document, a log-rotation archive (gzipped JSON; needs quay_db) or NDJSON sent as the body " +
            '(Content-Type: application/octet-stream), through the ingest stream: every entry exactly once; resumable.',
          scope: 'super:user',
          querystring: {
            type: 'object',
            properties: {
              source: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'Source of the entries (default quay)' },
              restart: { type: 'string', enum: ['true', 'false'], description: 'Ignore the file’s checkpoint' },
              quay_db: { type: 'string', minLength: 1, maxLength: 2000, description: "Quay's PostgreSQL URL, to resolve rotation archives' ids" },
            },
          },
        },
        async (req) => {
          await superuser(ctx, req);
          const q = req.query;
          const body = req.body;
          if (!isReadableStream(body)) {
            throw invalidRequest('Send the file as the body with Content-Type: application/octet-stream');
          }
          const dir = join(ctx.config.QUAYLOGS_DATA_DIR, 'imports');
          await mkdir(dir, { recursive: true });
          const path = join(dir, `upload-${randomUUID()}`);
          let bytes = 0;
          const cap = new Transform({
            transform(chunk: Buffer, _enc, cb) {
              bytes += chunk.length;
              if (bytes > deps.maxUploadBytes) cb(new ApiError(413, 'invalid_request', `The file is larger than ${deps.maxUploadBytes} bytes`));
              else cb(null, chunk);
            },
          });
          try {
            await pipeline(body, cap, createWriteStream(path));
            if (bytes === 0) throw invalidRequest('The body is empty: send the file to import');
            const res = await deps.importFile(path, {
              source: q.source ?? 'quay',
              restart: q.restart === 'true',
              ...(q.quay_db ? { quayDbUrl: q.quay_db } : {}),
            });
            return { rows: res.rows, completed: res.completed, bytes };
          } catch (err) {
            if (err instanceof deps.refusal) throw invalidRequest(err.message.replace(path, 'the uploaded file'));
            throw err;
          } finally {
            await rm(path, { force: true });
          }
        },
      );
    });

    ctx.registry.define(
      app,
      {
        method: 'POST',
        url: '/api/v1/superuser/import/quay-db',
        operationId: 'importQuayDb',
        tag: 'quaylogs',
        extension: true,
        description:
          "Imports Quay's logentry3 (and legacy logentry2/logentry) tables from its PostgreSQL database through the ingest " +
          'stream: every entry exactly once; resumable from its checkpoint. Answers when the import has handed everything off.',
        scope: 'super:user',
        body: {
          type: 'object',
          required: ['quay_db'],
          additionalProperties: false,
          properties: {
            quay_db: { type: 'string', minLength: 1, maxLength: 2000, description: "Quay's PostgreSQL URL (a read replica is best)" },
            source: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'Source of the entries (default quay)' },
            restart: { type: 'boolean', description: 'Ignore the checkpoint and read from the first id' },
            batch_rows: { type: 'integer', minimum: 1, maximum: 100_000, description: 'Rows per batch (default 5000)' },
          },
        },
        bodyName: 'ImportQuayDb',
      },
      async (req) => {
        await superuser(ctx, req);
        const b = req.body;
        try {
          return await deps.importQuayDb({ pgUrl: b.quay_db, source: b.source ?? 'quay', restart: b.restart === true, batchRows: b.batch_rows ?? 5_000 });
        } catch (err) {
          if (err instanceof deps.refusal) throw invalidRequest(err.message);
          throw err;
        }
      },
    );

    ctx.registry.define(
      app,
      {
        method: 'POST',
        url: '/api/v1/superuser/demo',
        operationId: 'loadDemoLogs',
        tag: 'quaylogs',
        extension: true,
        description: 'Fills the store with generated demo log entries (refused when it already holds logs, unless force).',
        scope: 'super:user',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            rows: { type: 'integer', minimum: 1, maximum: 100_000_000 },
            seed: { type: 'integer', minimum: 0 },
            force: { type: 'boolean' },
          },
        },
        bodyName: 'LoadDemoLogs',
      },
      async (req) => {
        await superuser(ctx, req);
        const b: { rows?: number; seed?: number; force?: boolean } = req.body ?? {};
        const res = await deps.demo({ rows: b.rows ?? 500_000, seed: b.seed ?? 42, force: b.force === true });
        if ('refused' in res) throw invalidRequest(res.refused);
        return res;
      },
    );
  };
}
