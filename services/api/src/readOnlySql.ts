/**
 * The guard in front of ad-hoc SQL: the ClickHouse engine itself decides what a
 * statement is, never string checks on the text.
 *
 * `guardReadOnlySql(store, text)` is the one entry point (the SQL route, the CLI,
 * and any other door to ad-hoc SQL call it):
 *
 * 1. `formatQuery({text:String})` — the engine parses the text (bound as a typed
 *    parameter, so nothing of it is executed) and returns it in canonical form:
 *    comments (`--`, `#`, `/* *\/`) gone, quoting resolved, and a second statement
 *    refused by the parser itself ("Multi-statements are not allowed").
 * 2. `EXPLAIN AST <canonical>` — the engine's own syntax tree of that one statement
 *    (less the SETTINGS and FORMAT the store appends to every read),
 *    parsed here line by line (one node per line, depth = indentation; string
 *    literals are escaped by the engine, so no literal can fake a node).
 * 3. The tree is checked structurally:
 *    - the root is one `SELECT`/`WITH` (a `SelectWithUnionQuery` with nothing after
 *      it: no `FORMAT`, no `INTO OUTFILE`); besides, the canonical texts
 *      `DESCRIBE TABLE <documented table>` and `SHOW TABLES` are allowed;
 *    - no `Set` node anywhere: a `SETTINGS` clause in a subquery lifts `readonly`;
 *    - no nested statement other than SELECT;
 *    - every table is a documented one (optionally qualified by the store's own
 *      database) or a name the statement defines itself (a `WITH` subquery);
 *      other databases (`system`, `INFORMATION_SCHEMA`, …) and undocumented tables
 *      (exports, checkpoints) are refused — also on the right side of `IN`;
 *    - every table function is an allowed generator (`numbers`, `zeros`, …); any
 *      other table function the engine knows (`system.table_functions`: `file`,
 *      `url`, `s3`, `remote`, `mysql`, `executable`, `merge`, `loop`, …) is refused
 *      wherever its name is called, and so are scalar functions that reach files,
 *      dictionaries, models or other hosts (`file`, `dictGet…`, `joinGet`,
 *      `catboostEvaluate`, `hasColumnInTable`, …).
 *
 * The statement that runs is the canonical text that was checked, with the
 * engine's own limits appended by the runner (see adhocSql.ts): `readonly = 1`
 * stays underneath as a second wall, with memory, result-size and time limits.
 */
import type { ClickHouseStore } from '@quaylogs/clickhouse';
import { isWellFormedText } from '@quaylogs/core';

/** Tables docs/sql.md documents: the only ones ad-hoc SQL may read. */
export const SQL_TABLES: ReadonlySet<string> = new Set([
  'usage_logs',
  'usage_daily_namespace',
  'usage_daily_repo',
  'usage_daily_performer',
  'usage_daily_kind',
  'users',
  'grants',
  'app_tokens',
  'app_token_access',
  'accounts',
  'schema_migrations',
  'data_purges',
]);

/** Table functions that only generate values in memory. */
export const SQL_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'generate_series',
  'generateseries',
  'primes',
  'values',
]);

/** Scalar functions that reach files, dictionaries, models, join tables or other hosts. */
const FORBIDDEN_SCALARS = /^(file|joinget|joingetornull|catboostevaluate|modelevaluate|naivebayesclassifier|hascolumnintable|getclienthttpheader|dict[a-z0-9_]*|filesystem[a-z]*|getmacro|getserversetting|getsetting|getmergetreesetting|input)$/;

/** Table functions whose name is also a harmless scalar function. */
const HARMLESS_SCALAR_TWINS = new Set(['format', 'fuzzquery']);

const IN_FUNCTIONS = /^(global)?(not)?(null)?in$/i;
const SELECT_NODES = new Set(['SelectWithUnionQuery', 'SelectQuery', 'SelectIntersectExceptQuery', 'TablesInSelectQuery']);
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `kind`: a SELECT (streams) or a small catalog statement (DESCRIBE, SHOW TABLES: answered whole). */
export type GuardResult =
  | { ok: true; sql: string; kind: 'select' | 'catalog' }
  /** `engine`: the engine could not parse the text or bind its parameters (a malformed statement, not a forbidden one). */
  | { ok: false; reason: string; engine?: true };

interface AstNode {
  kind: string;
  /** The rest of the line after the kind, without the alias and children count. */
  text: string;
  children: AstNode[];
}

/** Parses `EXPLAIN AST` output: one node per line, one leading space per level. */
export function parseExplainAst(lines: readonly string[]): AstNode[] {
  const roots: AstNode[] = [];
  const stack: { depth: number; node: AstNode }[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const depth = line.length - line.trimStart().length;
    const body = line.trim().replace(/ \(children \d+\)$/, '').replace(/ \(alias [^()]*\)$/, '');
    const sp = body.indexOf(' ');
    const node: AstNode = { kind: sp === -1 ? body : body.slice(0, sp), text: sp === -1 ? '' : body.slice(sp + 1), children: [] };
    while (stack.length && stack[stack.length - 1]!.depth >= depth) stack.pop();
    if (stack.length) stack[stack.length - 1]!.node.children.push(node);
    else roots.push(node);
    stack.push({ depth, node });
  }
  return roots;
}

/**
 * The catalog tables BI tools read to browse a schema (Grafana's ClickHouse data source,
 * Metabase, DBeaver): names, columns and types only. The ClickHouse HTTP interface allows
 * them besides the documented tables; the SQL route does not need them.
 */
export const BI_CATALOG_TABLES: ReadonlySet<string> = new Set(['system.databases', 'system.tables', 'system.columns']);

export interface GuardOptions {
  /** Qualified tables (`system.tables`) allowed besides the documented ones. */
  extraTables?: ReadonlySet<string>;
  /**
   * Runs `EXPLAIN AST <sql>` and returns its lines, for a caller whose `{name:Type}` values
   * must reach the engine exactly as its client sent them (the ClickHouse HTTP interface).
   * Default: the store, without parameters.
   */
  explainAst?: (sql: string) => Promise<string[]>;
}

interface Catalog {
  database: string;
  extraTables: ReadonlySet<string>;
  /** Tables that exist in the store's database (a statement may not read the undocumented ones). */
  tables: Set<string>;
  /** Lower-cased names of table functions the engine knows. */
  tableFunctions: Set<string>;
}

/** Read for every statement (two small queries): a table created since is never mistaken for a WITH name. */
async function loadCatalog(store: ClickHouseStore, opts: GuardOptions): Promise<Catalog> {
  const [tables, fns] = await Promise.all([
    store.query<{ name: string }>({ name: 'sqlGuard.tables', sql: 'SELECT name FROM system.tables WHERE database = currentDatabase()' }),
    store.query<{ name: string }>({ name: 'sqlGuard.tableFunctions', sql: 'SELECT name FROM system.table_functions' }),
  ]);
  return {
    database: store.database,
    extraTables: opts.extraTables ?? new Set(),
    tables: new Set(tables.map((t) => t.name)),
    tableFunctions: new Set(fns.map((f) => f.name.toLowerCase())),
  };
}

function tableAllowed(name: string, cat: Catalog, allowOwnNames: boolean): boolean {
  if (SQL_TABLES.has(name) || cat.extraTables.has(name)) return true;
  const dot = name.indexOf('.');
  if (dot !== -1) return name.slice(0, dot) === cat.database && SQL_TABLES.has(name.slice(dot + 1));
  // An unqualified name that is no table of the store: a name the statement defines (WITH x AS (…)).
  return allowOwnNames && PLAIN_NAME.test(name) && !cat.tables.has(name);
}

/** The right side of IN: a column or alias, or a table (which must be a documented one). */
function inTableAllowed(name: string, cat: Catalog): boolean {
  if (PLAIN_NAME.test(name)) return !cat.tables.has(name) || SQL_TABLES.has(name);
  return tableAllowed(name, cat, false);
}

/** The first reason the tree is refused, or null. */
function refusal(node: AstNode, cat: Catalog, parent: AstNode | null): string | null {
  const { kind, text } = node;
  if (kind === 'Set' || kind === 'SetQuery') return 'SETTINGS and SET are not allowed in ad-hoc queries';
  if (kind.endsWith('Query') && !SELECT_NODES.has(kind)) return 'only SELECT statements are allowed (a subquery may not be another kind of statement)';
  if (kind === 'TableIdentifier' && !tableAllowed(text, cat, true)) {
    return `table ${text} is not one ad-hoc SQL may read (see docs/sql.md for the tables)`;
  }
  if (kind === 'Function') {
    const name = text.toLowerCase();
    if (parent?.kind === 'TableExpression' && !SQL_TABLE_FUNCTIONS.has(name)) return `table function ${text} is not allowed`;
    if (cat.tableFunctions.has(name) && !SQL_TABLE_FUNCTIONS.has(name) && !HARMLESS_SCALAR_TWINS.has(name)) {
      return `function ${text} is not allowed: it reaches files, hosts, processes or other tables`;
    }
    if (FORBIDDEN_SCALARS.test(name)) return `function ${text} is not allowed: it reaches files, dictionaries, models or other hosts`;
    if (IN_FUNCTIONS.test(name)) {
      // `x IN table` names a table as a plain identifier on the right.
      const right = node.children[0]?.children[1];
      if (right?.kind === 'Identifier' && !inTableAllowed(right.text, cat)) {
        return `table ${right.text} is not one ad-hoc SQL may read (see docs/sql.md for the tables)`;
      }
    }
  }
  for (const child of node.children) {
    const r = refusal(child, cat, node);
    if (r) return r;
  }
  return null;
}

function checkTree(roots: AstNode[], cat: Catalog): string | null {
  if (roots.length !== 1) return 'only one statement is allowed';
  const root = roots[0]!;
  if (root.kind !== 'SelectWithUnionQuery') return 'only SELECT (or WITH … SELECT), DESCRIBE and SHOW TABLES statements are allowed';
  if (root.children.length !== 1) return 'FORMAT and INTO OUTFILE are not allowed: results come back as JSON rows';
  return refusal(root, cat, null);
}

/**
 * Takes out of the tree what the store itself appends to every read: its SETTINGS
 * clause (the last `Set` node) and the client's `FORMAT JSONEachRow` (the root's
 * last child). Any other `Set` node is the caller's: the reason to refuse it.
 */
function withoutStoreClauses(roots: AstNode[]): string | null {
  const sets: { parent: AstNode; index: number }[] = [];
  const walk = (n: AstNode) =>
    n.children.forEach((c, index) => {
      if (c.kind === 'Set') sets.push({ parent: n, index });
      walk(c);
    });
  roots.forEach(walk);
  if (sets.length > 1) return 'SETTINGS and SET are not allowed in ad-hoc queries';
  const ours = sets[0];
  if (!ours) return 'the statement could not be checked';
  ours.parent.children.splice(ours.index, 1);
  const root = roots[0];
  const last = root?.children[root.children.length - 1];
  if (root && root.children.length > 1 && last?.kind === 'Identifier' && last.text === 'JSONEachRow') root.children.pop();
  return null;
}

/** `DESCRIBE TABLE t` and `SHOW TABLES`, in the engine's canonical form (formatQuery). */
function checkMeta(sql: string, cat: Catalog): string | null | undefined {
  if (sql === 'SHOW TABLES') return null;
  const d = /^DESCRIBE TABLE ([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)$/.exec(sql);
  if (d) return tableAllowed(d[1]!, cat, false) ? null : 'DESCRIBE is allowed for the documented tables only';
  if (/^(DESCRIBE|DESC|SHOW|EXISTS|EXPLAIN)\b/i.test(sql)) {
    return 'only SELECT (or WITH … SELECT), DESCRIBE of a documented table and SHOW TABLES are allowed';
  }
  return undefined;
}

function engineMessage(err: unknown): string {
  const msg = String((err as Error)?.message ?? err).split('\n')[0]!;
  // The engine echoes the whole formatQuery call after "In scope"; the caller knows their text.
  return msg.replace(/:?\s*In scope SELECT formatQuery[\s\S]*$/, '').slice(0, 2000);
}

/**
 * Decides whether `text` may run as ad-hoc SQL against `store`. Resolves to the
 * canonical statement to run (exactly the one checked) or to the reason it is
 * refused (a caller's error: answer 4xx). Rejects only when the store itself
 * fails (unreachable), never for anything in `text`.
 */
export async function guardReadOnlySql(store: ClickHouseStore, text: string, opts: GuardOptions = {}): Promise<GuardResult> {
  if (text.trim() === '') return { ok: false, reason: 'the query is empty' };
  if (!isWellFormedText(text)) return { ok: false, reason: 'the query is not valid Unicode' };
  let sql: string;
  try {
    const [row] = await store.query<{ q: string }>({ name: 'sqlGuard.format', sql: 'SELECT formatQuery({text:String}) AS q', params: { text } });
    sql = (row?.q ?? '').trim();
  } catch (err) {
    return { ok: false, reason: engineMessage(err), engine: true };
  }
  if (sql === '') return { ok: false, reason: 'the query is empty' };
  const cat = await loadCatalog(store, opts);
  const meta = checkMeta(sql, cat);
  if (meta !== undefined) return meta === null ? { ok: true, sql, kind: 'catalog' } : { ok: false, reason: meta };
  let roots: AstNode[];
  try {
    const lines = opts.explainAst
      ? await opts.explainAst(sql)
      : (await store.query<{ explain: string } | string>({ name: 'sqlGuard.ast', sql: `EXPLAIN AST ${sql}`, settings: { readonly: 1 } })).map((r) =>
          typeof r === 'string' ? r : r.explain,
        );
    roots = parseExplainAst(lines);
  } catch (err) {
    return { ok: false, reason: engineMessage(err), engine: true };
  }
  const reason = withoutStoreClauses(roots) ?? checkTree(roots, cat);
  return reason ? { ok: false, reason } : { ok: true, sql, kind: 'select' };
}
