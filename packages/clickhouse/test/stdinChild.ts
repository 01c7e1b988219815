/**
 * Child of stdinShield.test.ts: hosts the embedded engine while its parent keeps writing
 * lines that look like insert data into its stdin; inserts one row at a time, then reports
 * what the table holds and which lines it read itself (through engineSafeStdin()).
 */
import { createInterface } from 'node:readline';
import { engineSafeStdin, openEmbeddedStore } from '../src/index.ts';

const [path, inserts] = [process.argv[2]!, Number(process.argv[3])];
const store = await openEmbeddedStore({ path, database: 'quaylogs' });
await store.command({ name: 'test.create', sql: 'CREATE TABLE IF NOT EXISTS t (v String) ENGINE = MergeTree ORDER BY v' });
const received: string[] = [];
const rl = createInterface({ input: engineSafeStdin() });
rl.on('line', (l) => received.push(l));
const errors: string[] = [];
for (let i = 0; i < inserts; i++) {
  await store.insert({ table: 't', rows: [{ v: `row-${i}` }] }).catch((e: Error) => errors.push(e.message.slice(0, 200)));
  await store.insert({ table: 't', rows: [{ v: `compact-${i}` }], columns: ['v'] }).catch((e: Error) => errors.push(e.message.slice(0, 200)));
  await store.command({ name: 'test.values', sql: `INSERT INTO t VALUES ('values-${i}')` }).catch((e: Error) => errors.push(e.message.slice(0, 200)));
  await new Promise((r) => setTimeout(r, 2));
}
const rows = await store.query<{ v: string }>({ name: 'test.rows', sql: 'SELECT v FROM t ORDER BY v' });
process.stdout.write(JSON.stringify({ rows: rows.map((r) => r.v), errors, received: received.length }) + '\n');
await store.close();
process.exit(0);
