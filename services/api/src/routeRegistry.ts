/**
 * Every API route is declared through `defineRoute`: it registers the route with
 * Fastify (its JSON schemas validate input before the handler runs) and records
 * the route's documentation, from which GET /api/v1/discovery is generated.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { notJson } from './httpErrors.ts';

export type JsonSchema = Record<string, unknown>;

export interface RouteDoc {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Fastify-style path, e.g. `/api/v1/organization/:orgname/logs`. */
  url: string;
  /** Quay's operation id (nickname), e.g. `listOrgLogs`. */
  operationId: string;
  /** Discovery tag (Quay's API module name), e.g. `logs`. */
  tag: string;
  description: string;
  /** OAuth scope Quay advertises for the route; null for anonymous routes. */
  scope: string | null;
  /** Hidden from discovery unless `?internal=true` (Quay's internal operations). */
  internal?: boolean;
  /** Not part of Quay's API (a quaylogs extension). */
  extension?: boolean;
  params?: JsonSchema;
  querystring?: JsonSchema;
  body?: JsonSchema;
  /** Name of the request body definition in discovery, e.g. `ExportLogs`. */
  bodyName?: string;
  /** Success status and its description (Quay: 200 "Successful invocation", 201, 204). */
  success?: { status: number; description: string };
}

/** Quay (Flask's get_json): a JSON-body endpoint answers 415 to any Content-Type but application/json. */
async function requireJsonContentType(req: FastifyRequest): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw notJson();
}

export type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export class RouteRegistry {
  readonly routes: RouteDoc[] = [];

  define(app: FastifyInstance, doc: RouteDoc, handler: Handler, extra: RouteShorthandOptions = {}): void {
    this.routes.push(doc);
    const schema: Record<string, unknown> = {};
    if (doc.params) schema.params = doc.params;
    if (doc.querystring) schema.querystring = doc.querystring;
    if (doc.body) schema.body = doc.body;
    // A JSON-body route refuses any other Content-Type (Fastify would parse text/plain) before validating.
    const preValidation = doc.body ? [requireJsonContentType, ...[extra.preValidation ?? []].flat()] : extra.preValidation;
    app.route({ method: doc.method, url: doc.url, schema, ...extra, ...(preValidation ? { preValidation } : {}), handler });
  }
}

/** A querystring schema: every property an optional string, unknown parameters ignored (Quay's reqparse). */
export function stringQuery(props: Record<string, string>): JsonSchema {
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(props).map(([k, description]) => [k, { type: 'string', description }])),
    additionalProperties: true,
  };
}

export function pathParams(props: Record<string, string>): JsonSchema {
  return {
    type: 'object',
    required: Object.keys(props),
    properties: Object.fromEntries(Object.entries(props).map(([k, description]) => [k, { type: 'string', description }])),
  };
}

/** Quay's `truthy_bool` (util/parsing.py) for boolean query parameters: everything but these is true. */
export function truthyBool(value: string): boolean {
  return !['false', 'False', 'FALSE', '0', '', 'null'].includes(value);
}
