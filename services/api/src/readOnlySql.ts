/**
 * The checks in front of ad-hoc SQL: one statement, a read-only verb, no table
 * functions that reach files, hosts or processes — and the engine's own
 * `readonly = 1` on top, so a check we missed still cannot write.
 */
export const SQL_MAX_ROWS = 10_000;

const READ_VERBS = /^(select|with|show|describe|desc|explain|exists)\b/i;
const FORBIDDEN_FUNCTIONS =
  /\b(file|url|urlCluster|s3|s3Cluster|gcs|azureBlobStorage|hdfs|remote|remoteSecure|cluster|clusterAllReplicas|mysql|postgresql|mongodb|redis|sqlite|jdbc|odbc|executable|input|deltaLake|hudi|iceberg|fileCluster)\s*\(/i;

function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
}

export type ReadOnlyCheck =
  | { ok: true; sql: string; settings: Record<string, number | string> }
  | { ok: false; reason: string };

export function checkReadOnlySql(input: string): ReadOnlyCheck {
  const sql = stripComments(input).trim().replace(/;\s*$/, '').trim();
  if (sql === '') return { ok: false, reason: 'the query is empty' };
  if (sql.includes(';')) return { ok: false, reason: 'only one statement is allowed' };
  if (!READ_VERBS.test(sql)) return { ok: false, reason: 'only SELECT, WITH, SHOW, DESCRIBE, EXPLAIN and EXISTS statements are allowed' };
  if (FORBIDDEN_FUNCTIONS.test(sql)) return { ok: false, reason: 'table functions that read files, hosts or processes are not allowed' };
  // `file`(…), `f\x69le`(…), "file"(…) call file(…) past the name check: no function is called by a quoted name.
  if (/[`"]\s*\(/.test(sql)) return { ok: false, reason: 'functions may not be called by a quoted name' };
  if (/\bINTO\s+OUTFILE\b/i.test(sql)) return { ok: false, reason: 'INTO OUTFILE is not allowed: it writes a file' };
  if (/\bSETTINGS\s+[a-z_]+\s*=/i.test(sql)) return { ok: false, reason: 'SETTINGS clauses are not allowed in ad-hoc queries' };
  if (/\bFORMAT\b\s+\w+\s*$/i.test(sql)) return { ok: false, reason: 'FORMAT clauses are not allowed; results come back as JSON rows' };
  return {
    ok: true,
    sql,
    settings: { readonly: 1, max_result_rows: SQL_MAX_ROWS, result_overflow_mode: 'break', max_execution_time: 60 },
  };
}
