/**
 * Start-up after a crash: the data directory is refused only while a live process
 * holds the engine's lock. A status file naming a PID that is dead, a zombie, or
 * has been reused by an unrelated program does not block the next start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { openEmbeddedStore, StoreLockedError } from '../src/index.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'quaylogs-lock-'));
  dirs.push(d);
  return join(d, 'clickhouse');
}

it('a status file left by a killed process whose PID now belongs to another live program does not block start-up', async () => {
  const path = dataDir();
  // Open and close once so the directory is a real engine directory, then forge what a
  // SIGKILL leaves behind: a status file naming a PID that is alive but holds no lock.
  await (await openEmbeddedStore({ path, database: 'quaylogs' })).close();
  const unrelated = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(unrelated);
  writeFileSync(join(path, 'status'), `PID: ${unrelated.pid}\nStarted at: 2026-01-01 00:00:00\nRevision: 54513\n`);
  const store = await openEmbeddedStore({ path, database: 'quaylogs' });
  expect(await store.ping()).toBe(true);
  await store.close();
});

it('a live process holding the directory is still named in one line', async () => {
  const path = dataDir();
  const script = `import { openEmbeddedStore } from ${JSON.stringify(fileURLToPath(new URL('../src/index.ts', import.meta.url)))};
await openEmbeddedStore({ path: ${JSON.stringify(path)}, database: 'quaylogs' });
process.stdout.write('open\\n');
setInterval(() => {}, 1000);`;
  const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(holder);
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.on('data', (c: Buffer) => c.toString().includes('open') && resolve());
    holder.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  const err = await openEmbeddedStore({ path, database: 'quaylogs' }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreLockedError);
  expect((err as Error).message).toContain(`in use by process ${holder.pid}`);
  // Killed, it holds nothing: the next open succeeds at once.
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('exit', r));
  const store = await openEmbeddedStore({ path, database: 'quaylogs' });
  expect(await store.ping()).toBe(true);
  await store.close();
});
