/**
 * The `quaylogs` command.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { describeConfig } from '@quaylogs/config';
// Command modules load when their command runs: `--help` and `--version` stay instant, and a
// one-shot command does not load the server's modules (Fastify, BullMQ, the exporter).
const commands = () => import('./commands.ts');
const ingest = () => import('./ingestCommands.ts');

// `quaylogs status | head -1`: the reader went away; that ends the output, not in a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('quaylogs')
  .version(version, '-V, --version', 'print the quaylogs version')
  .description("A usage-log warehouse for Red Hat Quay: collects Quay's usage logs, keeps them in ClickHouse, answers Quay's logs API.")
  .showHelpAfterError()
  .addHelpText(
    'after',
    `\nEnvironment (see README):\n${describeConfig()
      .map((v) => `  ${v.name}`)
      .join('\n')}`,
  );

program
  .command('up')
  .description('Migrate the store and serve the API (embedded ClickHouse unless CLICKHOUSE_URL is set).')
  .option('--demo-rows <n>', 'fill an empty store with this many generated demo log entries first', positiveInt, 0)
  .option('--seed <n>', 'seed of the demo generator', positiveInt, 42)
  .option('--port <port>', 'listen on this port (overrides QUAYLOGS_PORT)', positiveInt)
  .action(async (opts) => (await commands()).runUp(opts));

program
  .command('api')
  .description('Split mode: serve the API only (Quay routes, HEC receiver, exports); workers run elsewhere.')
  .option('--port <port>', 'listen on this port (overrides QUAYLOGS_PORT)', positiveInt)
  .action(async (opts) => (await commands()).runRoles('api', opts));

program
  .command('worker')
  .description('Split mode: run background roles (loader, poller, exporter) without the API.')
  .option('--roles <roles>', 'comma-separated roles', 'loader,poller,exporter')
  .action(async (opts) => (await commands()).runRoles(opts.roles, {}));

program
  .command('migrate')
  .description('Apply pending ClickHouse migrations and exit. While `quaylogs up` holds the embedded store, report what it applied (it migrates at start).')
  .option('--url <url>', 'base URL of a running quaylogs (default: data/server.json, then QUAYLOGS_HOST:QUAYLOGS_PORT)')
  .option('--token <token>', 'superuser token')
  .option('--print-cluster <cluster>', "print the migrations' cluster variant (ON CLUSTER, Replicated, Distributed) for this cluster and exit, applying nothing")
  .action(async (opts: { url?: string; token?: string; printCluster?: string }) => {
    const c = await commands();
    return opts.printCluster !== undefined ? c.printClusterDdl(opts.printCluster) : c.runMigrate(opts);
  });

program
  .command('demo')
  .description('Fill the store with generated demo logs (Quay kinds, zipf namespaces, 90 days back from now).')
  .option('--rows <n>', 'how many entries', positiveInt, 500_000)
  .option('--seed <n>', 'generator seed (same seed, same data)', positiveInt, 42)
  .option('--force', 'add demo rows even when the store already holds logs', false)
  .action(async (opts) => (await commands()).runDemo(opts));

program
  .command('sql')
  .description('Run one read-only SQL statement. While `quaylogs up` holds the embedded store, it goes through the running server.')
  .argument('<query>', 'SELECT … (also WITH, SHOW, DESCRIBE, EXPLAIN)')
  .option('--json', 'print rows as JSON lines instead of a table', false)
  .option('--url <url>', 'base URL of a running quaylogs (default: data/server.json, then QUAYLOGS_HOST:QUAYLOGS_PORT)')
  .option('--token <token>', 'bearer token of a superuser (default QUAYLOGS_BOOTSTRAP_TOKEN or data/admin-token)')
  .action(async (query, opts) => (await commands()).runSql(query, opts));

const importCmd = program.command('import').description("Import Quay's history (every entry exactly once; resumable: run it again to continue).");
importCmd
  .command('quay-db')
  .description("Read Quay's logentry3 (and legacy logentry2/logentry) tables from its PostgreSQL database.")
  .argument('<postgres-url>', 'e.g. postgres://quay:secret@db:5432/quay (a read replica is best)')
  .option('--source <name>', 'source (registry) name the entries belong to', 'quay')
  .option('--batch-rows <n>', 'rows per batch', positiveInt, 5000)
  .option('--restart', 'ignore the checkpoint and read from the first id (already stored entries are skipped)', false)
  .action(async (url, opts) => {
    const [c, i] = await Promise.all([commands(), ingest()]);
    await i.runImportQuayDb(c.config(), c.open, url, opts);
  });
importCmd
  .command('file')
  .description("Import a Quay export document, a log-rotation archive (gzipped JSON) or NDJSON.")
  .argument('<path>', 'the file (gzip is detected)')
  .option('--source <name>', 'source (registry) name the entries belong to', 'quay')
  .option('--quay-db <postgres-url>', "Quay's database, to resolve the numeric ids of rotation archives")
  .option('--restart', 'ignore the checkpoint', false)
  .action(async (path, opts) => {
    const [c, i] = await Promise.all([commands(), ingest()]);
    await i.runImportFile(c.config(), c.open, path, opts);
  });

const dead = program.command('deadletter').description('Ingest entries the loader could not store.');
dead
  .command('list')
  .description('List dead letters with their reason.')
  .option('--limit <n>', 'at most this many', positiveInt, 100)
  .option('--json', 'JSON lines', false)
  .action(async (opts) => {
    const [c, i] = await Promise.all([commands(), ingest()]);
    await i.runDeadletterList(c.config(), opts);
  });
dead
  .command('replay')
  .description('Put dead letters back into the ingest stream (all, or the given ids).')
  .argument('[ids...]', 'dead-letter ids from `deadletter list`')
  .action(async (ids: string[]) => {
    const [c, i] = await Promise.all([commands(), ingest()]);
    await i.runDeadletterReplay(c.config(), ids);
  });

program
  .command('purge')
  .description('Erase every entry of a performer, of a namespace, or of a performer in a namespace (optionally before a date); rollups corrected, audited in data_purges.')
  .option('--performer <name>', 'erase this performer’s entries')
  .option('--namespace <name>', 'erase this namespace’s entries (only the performer’s when both are given)')
  .option('--source <name>', 'only entries of this source (registry)')
  .option('--before <date>', 'only entries before this date (MM/DD/YYYY or ISO-8601, UTC)')
  .option('--resume <purge-id>', 'complete a purge a crash interrupted (its audit row in data_purges says running)')
  .option('--yes', 'really erase (without it, the command says what it would erase and stops)', false)
  .option('--json', 'print the result as JSON', false)
  .option('--url <url>', 'base URL of a running quaylogs (default: data/server.json)')
  .option('--token <token>', 'superuser token')
  .action(async (opts) => (await import('./purgeCommand.ts')).runPurge(opts));

program
  .command('status')
  .description('Ingestion per source: last entry, lag, entries in the last hour; stream length; dead letters.')
  .option('--json', 'print JSON', false)
  .option('--url <url>', 'base URL of a running quaylogs')
  .option('--token <token>', 'superuser token')
  .action(async (opts) => {
    const [c, i] = await Promise.all([commands(), ingest()]);
    await i.runStatus(c.config(), c.open, () => c.serverGet('/api/v1/superuser/ingest', opts), opts.json);
  });

await program.parseAsync(process.argv);
