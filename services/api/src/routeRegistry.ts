/**
 * Every API route is declared through `RouteRegistry.define`: it registers the route with
 * Fastify (its JSON schemas validate input before the handler runs) and records
 * the route's documentation, from which GET /api/v1/discovery is generated.
 *
 * The handler's `req.params`, `req.query` and `req.body` are typed from those same schemas
 * (json-schema-to-ts), so what a handler reads is what the validator let through: declare
 * schemas inline or `as const`, or build them with `pathParams` / `stringQuery`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
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
  /**
   * The body schema is documentation only: the handler checks the body itself (Quay's messages,
   * in Quay's order relative to the permission check), so the handler sees it as `unknown`.
   */
  bodyCheckedByHandler?: true;
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

/** The TypeScript type of the values a JSON schema accepts (`unknown` for an absent or untyped schema). */
export type SchemaValue<S> = S extends JSONSchema ? FromSchema<S> : unknown;

/**
 * The value a route's `K` schema lets through: typed from the schema when the doc has one, all
 * properties optional when the doc may or may not have one (a doc built with a conditional spread).
 */
type SchemaOf<D, K extends string> = [D] extends [{ readonly [P in K]: infer S }]
  ? SchemaValue<S>
  : [D] extends [{ readonly [P in K]?: infer S }]
    ? Partial<SchemaValue<Exclude<S, undefined>>>
    : unknown;

/** The request a route's schemas let through to its handler. */
export interface RequestOf<D> {
  Params: SchemaOf<D, 'params'>;
  Querystring: SchemaOf<D, 'querystring'>;
  Body: D extends { bodyCheckedByHandler: true } ? unknown : SchemaOf<D, 'body'>;
}

export type TypedRequest<D> = FastifyRequest<RequestOf<D>>;

export type Handler<D = RouteDoc> = (req: TypedRequest<D>, reply: FastifyReply) => Promise<unknown>;

export class RouteRegistry {
  readonly routes: RouteDoc[] = [];

  define<const D extends RouteDoc>(app: FastifyInstance, doc: D, handler: Handler<D>, extra: RouteShorthandOptions = {}): void {
    this.routes.push(doc);
    const schema: Record<string, unknown> = {};
    if (doc.params) schema.params = doc.params;
    if (doc.querystring) schema.querystring = doc.querystring;
    if (doc.body && !doc.bodyCheckedByHandler) schema.body = doc.body;
    // A JSON-body route refuses any other Content-Type (Fastify would parse text/plain) before validating.
    const preValidation = doc.body ? [requireJsonContentType, ...[extra.preValidation ?? []].flat()] : extra.preValidation;
    app.route<RequestOf<D>>({ method: doc.method, url: doc.url, schema, ...extra, ...(preValidation ? { preValidation } : {}), handler });
  }
}

type StringProperties<P> = { [K in keyof P]-?: { readonly type: 'string'; readonly description: string } };

function stringProperties<P extends Record<string, string>>(props: P): StringProperties<P> {
  return Object.fromEntries(Object.entries(props).map(([k, description]) => [k, { type: 'string', description }])) as StringProperties<P>;
}

/** A querystring schema: every property an optional string, unknown parameters ignored (Quay's reqparse). */
export function stringQuery<const P extends Record<string, string>>(
  props: P,
): { readonly type: 'object'; readonly properties: StringProperties<P>; readonly additionalProperties: true } {
  return { type: 'object', properties: stringProperties(props), additionalProperties: true };
}

/** A path-parameters schema: every parameter a required string. */
export function pathParams<const P extends Record<string, string>>(
  props: P,
): { readonly type: 'object'; readonly required: readonly (keyof P & string)[]; readonly properties: StringProperties<P> } {
  return { type: 'object', required: Object.keys(props), properties: stringProperties(props) };
}

/** Quay's `truthy_bool` (util/parsing.py) for boolean query parameters: everything but these is true. */
export function truthyBool(value: string): boolean {
  return !['false', 'False', 'FALSE', '0', '', 'null'].includes(value);
}
