/**
 * The `quaylogs` command.
 */
import { Command, InvalidArgumentError } from 'commander';
import { describeConfig } from '@quaylogs/config';
import { runDemo, runMigrate, runSql, runUp } from './commands.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

const program = new Command()
  .name('quaylogs')
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
  .action(runUp);

program.command('migrate').description('Apply pending ClickHouse migrations and exit.').action(runMigrate);

program
  .command('demo')
  .description('Fill the store with generated demo logs (Quay kinds, zipf namespaces, 90 days back from now).')
  .option('--rows <n>', 'how many entries', positiveInt, 500_000)
  .option('--seed <n>', 'generator seed (same seed, same data)', positiveInt, 42)
  .option('--force', 'add demo rows even when the store already holds logs', false)
  .action(runDemo);

program
  .command('sql')
  .description('Run one read-only SQL statement. While `quaylogs up` holds the embedded store, it goes through the running server.')
  .argument('<query>', 'SELECT … (also WITH, SHOW, DESCRIBE, EXPLAIN)')
  .option('--json', 'print rows as JSON lines instead of a table', false)
  .option('--url <url>', 'base URL of a running quaylogs (default http://QUAYLOGS_HOST:QUAYLOGS_PORT)')
  .option('--token <token>', 'bearer token of a superuser (default QUAYLOGS_BOOTSTRAP_TOKEN or data/admin-token)')
  .action(runSql);

await program.parseAsync(process.argv);
