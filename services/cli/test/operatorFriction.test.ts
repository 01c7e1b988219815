/**
 * What an operator meets in the first hour, run as they run it (the real `quaylogs` command,
 * the real embedded ClickHouse, the redis-server `up` starts itself): `--version`; `up` on a
 * port in use leaves no redis-server behind; a running `up` is found through data/server.json
 * by `sql`, `status`, `migrate`, `purge`, `import file`, `import quay-db` and `demo` without QUAYLOGS_PORT; one access line per request; a
 * refused HEC request logged with its reason and counted in /metrics; a refused callback URL
 * that names QUAYLOGS_SSRF_ALLOWED_HOSTS.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '@quaylogs/testing';
import { childEnv, runQuaylogs, type UpSite, upSite } from '@quaylogs/testing/up';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuayDatabase } from '@quaylogs/testing/quayDb';

const TOKEN = 'operator-test-bootstrap-token-0123456789';
const HEC_TOKEN = 'operator-test-hec-token-0123456789';

function listen(port = 0): Promise<Server> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(port, '127.0.0.1', () => res(srv));
  });
}

/** Processes whose command line names this path (a redis-server left behind would). */
function processesNaming(path: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path)) pids.push(Number(pid));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

async function until<T>(what: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the operator\'s first hour', () => {
  let site: UpSite;
  let dataDir: string;

  beforeAll(async () => {
    // The redis-server `up` starts itself (no REDIS_URL); access lines at info.
    site = await upSite({ redisUrl: null, env: { QUAYLOGS_BOOTSTRAP_TOKEN: TOKEN, QUAYLOGS_HEC_TOKENS: `prod=${HEC_TOKEN}`, QUAYLOGS_LOG_LEVEL: 'info' } });
    dataDir = site.dataDir;
  });
  afterAll(async () => {
    await site?.close();
  });

  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const res = await runQuaylogs(['--version'], childEnv({ QUAYLOGS_DATA_DIR: dataDir }));
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`${version}\n`);
  });

  it('up on a port in use exits 1 naming the port, and stops the redis-server it started', async () => {
    const busy = await listen();
    const port = (busy.address() as { port: number }).port;
    try {
      const res = await runQuaylogs(['up', '--port', String(port)], childEnv({ QUAYLOGS_DATA_DIR: dataDir, QUAYLOGS_BOOTSTRAP_TOKEN: TOKEN }));
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`127.0.0.1:${port}: the port is in use`);
    } finally {
      await new Promise((r) => busy.close(r));
    }
    const socket = join(dataDir, 'redis', 'redis.sock');
    expect(processesNaming(socket)).toEqual([]);
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false);
  });

  it('a running up is found through data/server.json; one access line per request; HEC and callback refusals say why', async () => {
    const up = await site.up();
    const { env } = site;
    const base = up.url;

    const file = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')) as { url: string; pid: number };
    expect(file).toMatchObject({ url: base, pid: up.pid });

    // No QUAYLOGS_PORT in the command's environment: the data directory says where `up` is.
    const { QUAYLOGS_PORT: _port, ...noPort } = env;
    const sql = await runQuaylogs(['sql', 'SELECT 1 AS one', '--json'], noPort);
    expect(sql.stderr).toBe('');
    expect(sql.stdout).toBe('{"one":1}\n');
    const migrate = await runQuaylogs(['migrate'], noPort);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stdout).toMatch(/^0 applied, \d+ already applied \(the running quaylogs at http:\/\/127\.0\.0\.1:\d+ holds the embedded store/);
    const status = await runQuaylogs(['status'], noPort);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^stream: \d+ entries waiting/);
    expect(status.stdout).toContain('retention: forever by default');

    // One access line per request (Fastify's own two are off), JSON because stdout is a pipe.
    const marker = `/healthz?probe=${Date.now()}`;
    expect((await fetch(`${base}${marker}`)).status).toBe(200);
    const lines = () =>
      up
        .stdout()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const accessLines = () => lines().filter((l) => l.msg === 'request' && l.path === '/healthz');
    const access = await until(async () => accessLines().length > 0 && accessLines());
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ method: 'GET', status: 200 });
    expect(lines().some((l) => l.msg === 'incoming request' || l.msg === 'request completed')).toBe(false);
    expect(up.stdout()).not.toContain('probe='); // query strings (signed links) stay out of the log

    // A refused HEC request: Splunk's body as before, the reason in the log, a count in /metrics.
    const good = JSON.stringify({ event: { kind: 'pull_repo', account: 'acme', performer: 'alice', repository: 'web', ip: '10.0.0.1', metadata_json: {}, datetime: new Date().toISOString() } });
    const hec = await fetch(`${base}/services/collector/event`, {
      method: 'POST',
      headers: { authorization: `Splunk ${HEC_TOKEN}` },
      body: `${good}\n{"event": {"kind": oops}}`,
    });
    expect(hec.status).toBe(400);
    expect(await hec.json()).toEqual({ text: 'Invalid data format', code: 6, 'invalid-event-number': 1 });
    const refused = await until(async () => lines().find((l) => l.msg === 'hec: request refused'));
    expect(refused).toMatchObject({ level: 40, source: 'prod', code: 6, event: 1 });
    expect(String(refused.reason)).not.toBe('');
    expect(JSON.stringify(lines())).not.toContain(HEC_TOKEN);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('quaylogs_hec_rejected_total{source="prod",code="6"} 1');

    // A callback URL the SSRF guard refuses: Quay's message plus the setting that admits it; logged.
    const exp = await fetch(`${base}/api/v1/user/exportlogs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ callback_url: 'http://10.1.2.3/hook' }),
    });
    expect(exp.status).toBe(400);
    expect(((await exp.json()) as { error_message: string }).error_message).toMatch(/^Invalid callback URL \(.*QUAYLOGS_SSRF_ALLOWED_HOSTS\)$/);
    const ssrf = await until(async () => lines().find((l) => l.msg === 'export callback URL refused by the SSRF guard'));
    expect(ssrf).toMatchObject({ level: 40, callback_host: '10.1.2.3' });

    // Erasure through the running server: `quaylogs purge` finds it, the route is in discovery,
    // bad input is a 400, and the erased performer's entries are gone from the answers.
    const adminRows = async () => {
      const r = await runQuaylogs(['sql', "SELECT count() AS n FROM usage_logs WHERE performer = 'admin'", '--json'], noPort);
      return Number((JSON.parse(r.stdout) as { n: string }).n);
    };
    const stored = await until(async () => (await adminRows()) > 0 && adminRows());
    const unconfirmed = await runQuaylogs(['purge', '--performer', 'admin'], noPort);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toMatch(/^quaylogs: this erases every stored entry of performer "admin", for good; run again with --yes/);
    const purged = await runQuaylogs(['purge', '--performer', 'admin', '--yes', '--json'], noPort);
    expect(purged.code, purged.stderr).toBe(0);
    expect(JSON.parse(purged.stdout)).toMatchObject({ rows_deleted: stored, rounds: 1 });
    expect(await adminRows()).toBe(0);
    const audit = await runQuaylogs(['sql', 'SELECT requested_by, status FROM data_purges FINAL', '--json'], noPort);
    expect(audit.stdout).toBe('{"requested_by":"admin","status":"done"}\n');
    const post = (body: unknown) =>
      fetch(`${base}/api/v1/superuser/purge`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({})).status).toBe(400);
    expect((await post({ namespace: 'acme', before: 'yesterday' })).status).toBe(400);
    expect((await post({ namespace: 'acme', extra: 1 })).status).toBe(400);
    const discovery = (await (await fetch(`${base}/api/v1/discovery`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(discovery.paths)).toContain('/api/v1/superuser/purge');

    // `import file` and `demo` while `up` holds the store: the running server does the work.
    const avatar = (name: string, kind: string) => ({ name, hash: 'ab12', color: '#969696', kind });
    const ndjson = join(dataDir, 'three.ndjson');
    writeFileSync(
      ndjson,
      [1, 2, 3]
        .map((i) =>
          JSON.stringify({
            kind: 'pull_repo',
            namespace: { kind: 'org', name: 'imported', avatar: avatar('imported', 'org') },
            performer: { kind: 'user', name: 'dora', is_robot: false, avatar: avatar('dora', 'user') },
            ip: `10.0.0.${i}`,
            datetime: `Tue, 18 Jun 2024 18:59:1${i} -0000`,
            metadata: { repo: 'web', namespace: 'imported' },
          }),
        )
        .join('\n') + '\n',
    );
    const imported = await runQuaylogs(['import', 'file', ndjson, '--source', 'archive'], noPort);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toContain('done: 3 entries handed off to its loader');
    /** Entries of a source and namespace, counted through the running server. */
    const storedRows = async (source: string, namespace: string) => {
      const r = await runQuaylogs(['sql', `SELECT count() AS n FROM usage_logs WHERE source = '${source}' AND namespace = '${namespace}'`, '--json'], noPort);
      return Number((JSON.parse(r.stdout) as { n: string }).n);
    };
    const importedRows = () => storedRows('archive', 'imported');
    expect(await until(async () => (await importedRows()) === 3)).toBe(true);
    const again = await runQuaylogs(['import', 'file', ndjson, '--source', 'archive', '--restart'], noPort);
    expect(again.code, again.stderr).toBe(0);
    const demo = await runQuaylogs(['demo', '--rows', '500', '--force'], noPort);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stderr).toMatch(/^demo data: 500 log entries, \d+ accounts in [\d.]+ s, through the running quaylogs at http:\/\/127\.0\.0\.1:\d+\n$/);
    const demoRows = await runQuaylogs(['sql', "SELECT count() AS n FROM usage_logs WHERE source = 'demo'", '--json'], noPort);
    expect(demoRows.stdout).toBe('{"n":"500"}\n');
    expect(await importedRows()).toBe(3); // the second import added nothing

    // `import quay-db` while up holds the store: the server reads Quay's database.
    const quay = await createQuayDatabase('quaylogs_operator_friction');
    try {
      await quay.db.query("INSERT INTO logentrykind (name) VALUES ('pull_repo')");
      await quay.db.query(
        `INSERT INTO "user" (username, email, verified, organization, robot, invoice_email, last_invalid_login)
         VALUES ('erin', 'erin@example.com', true, false, false, false, now())`,
      );
      await quay.db.query(
        `INSERT INTO logentry3 (kind_id, account_id, performer_id, repository_id, datetime, ip, metadata_json)
         SELECT 1, 1, 1, NULL, timestamp '2024-06-18 18:59:10' + make_interval(secs => g), '10.0.0.9', '{}' FROM generate_series(1, 4) g`,
      );
      const fromDb = await runQuaylogs(['import', 'quay-db', quay.url, '--source', 'quaydb'], noPort);
      expect(fromDb.code, fromDb.stderr).toBe(0);
      expect(fromDb.stderr).toContain('done: 4 entries handed off to its loader');
      expect(await until(async () => (await storedRows('quaydb', 'erin')) === 4)).toBe(true);
      // A database that is not Quay's is the caller's mistake: a 4xx naming it, the command exits 1.
      const notQuay = await runQuaylogs(['import', 'quay-db', quay.url.replace(/\/[^/]+$/, '/postgres'), '--source', 'quaydb'], noPort);
      expect(notQuay.code).toBe(1);
      expect(notQuay.stderr).toMatch(/no "\w+" table|none of Quay's log tables/);
    } finally {
      await quay.drop();
    }

    up.child.kill('SIGTERM');
    expect((await up.done).code).toBe(0);
    expect((await up.stop('SIGTERM')).code).toBe(0);
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false);
  }, 300_000);
});
