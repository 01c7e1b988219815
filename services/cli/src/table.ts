/** Prints rows as an aligned text table (or JSON lines). */
export function printRows(rows: Record<string, unknown>[], json: boolean, out: NodeJS.WritableStream = process.stdout): void {
  if (json) {
    for (const r of rows) out.write(JSON.stringify(r) + '\n');
    return;
  }
  if (rows.length === 0) {
    out.write('(no rows)\n');
    return;
  }
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => (v === null || v === undefined ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = cols.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const line = (vals: string[]) => vals.map((v, i) => (v.length > widths[i]! ? v.slice(0, widths[i]! - 1) + '…' : v.padEnd(widths[i]!))).join('  ');
  out.write(line(cols) + '\n');
  out.write(widths.map((w) => '-'.repeat(w)).join('  ') + '\n');
  for (const r of rows) out.write(line(cols.map((c) => cell(r[c]))) + '\n');
  out.write(`(${rows.length} row${rows.length === 1 ? '' : 's'})\n`);
}
