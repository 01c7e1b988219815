import { beforeAll, describe, expect, it } from 'vitest';
import { LOG_KINDS, type UsageLogRow } from '@quaylogs/core';
import { KIND_MIX, demoRows, demoWorld, type DemoOptions, type DemoWorld } from '../src/index.ts';

// Quay's 146 kinds (packages/core/src/kinds.ts holds Quay's LogEntryKind names verbatim).
const QUAY_KINDS = new Set(LOG_KINDS);

const NOW = new Date('2024-06-19T00:00:00.000Z');
const DAYS = 90;
const BIG: DemoOptions = { rows: 200_000, now: NOW, days: DAYS };
const DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})$/;

function all(opts: DemoOptions, batchSize?: number): UsageLogRow[] {
  const out: UsageLogRow[] = [];
  for (const batch of demoRows(opts, batchSize)) for (const row of batch) out.push(row);
  return out;
}

function parseDatetime(s: string): number {
  const m = DATETIME.exec(s);
  if (m === null) return Number.NaN;
  const [, y, mo, d, h, mi, se, ms] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, se!, ms!);
}

function shares(rows: UsageLogRow[], key: (r: UsageLogRow) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
  return m;
}

let rows: UsageLogRow[];
let metas: unknown[];
let world: DemoWorld;

beforeAll(() => {
  rows = all(BIG);
  metas = rows.map((r) => JSON.parse(r.metadata) as unknown);
  world = demoWorld(BIG);
});

describe('demoRows', () => {
  it('yields exactly opts.rows rows, in batches of batchSize', () => {
    const sizes = [...demoRows({ rows: 25_001, now: NOW }, 10_000)].map((b) => b.length);
    expect(sizes).toEqual([10_000, 10_000, 5_001]);
    expect([...demoRows({ rows: 0, now: NOW })]).toEqual([]);
    expect(rows).toHaveLength(200_000);
  });

  it('is deterministic: same options give identical rows whatever the batch size; another seed differs', () => {
    const opts: DemoOptions = { rows: 20_000, now: NOW, seed: 7, source: 'east' };
    const a = all(opts, 10_000);
    const b = all(opts, 333);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = all({ ...opts, seed: 8 });
    expect(c).toHaveLength(20_000);
    expect(c.filter((r, i) => r.datetime === a[i]!.datetime && r.metadata === a[i]!.metadata).length).toBeLessThan(100);
    expect(demoWorld(opts)).toEqual(demoWorld(opts));
  });

  it('writes the source option into every row', () => {
    expect(new Set(rows.map((r) => r.source))).toEqual(new Set(['demo']));
    expect(all({ rows: 50, now: NOW, source: 'quay-eu' }).every((r) => r.source === 'quay-eu')).toBe(true);
  });

  it('uses only kinds Quay defines, pull_repo 55–65 % and push_repo 6–10 %', () => {
    for (const [kind] of KIND_MIX) expect(QUAY_KINDS.has(kind), kind).toBe(true);
    const byKind = shares(rows, (r) => r.kind);
    for (const kind of byKind.keys()) expect(QUAY_KINDS.has(kind), kind).toBe(true);
    const share = (k: string) => (byKind.get(k) ?? 0) / rows.length;
    expect(share('pull_repo')).toBeGreaterThan(0.55);
    expect(share('pull_repo')).toBeLessThan(0.65);
    expect(share('push_repo')).toBeGreaterThan(0.06);
    expect(share('push_repo')).toBeLessThan(0.1);
    expect(byKind.size).toBeGreaterThan(30);
    // The user-route exclusion of service-level kinds needs some: no namespace, no repository.
    const keys = rows.filter((r) => r.kind === 'service_key_create');
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((r) => r.namespace === '' && r.repository === '')).toBe(true);
  });

  it('spreads namespaces like zipf: one big organization, many small namespaces', () => {
    const byNs = shares(rows, (r) => r.namespace);
    const orgs = new Set(world.organizations);
    const largestOrg = Math.max(...[...byNs].filter(([ns]) => orgs.has(ns)).map(([, n]) => n)) / rows.length;
    expect(largestOrg).toBeGreaterThan(0.1);
    expect(largestOrg).toBeLessThan(0.35);
    expect(byNs.size).toBeGreaterThanOrEqual(50);
    const userNs = new Set(world.users);
    expect([...byNs.keys()].filter((ns) => userNs.has(ns)).length).toBeGreaterThan(10);
  });

  it('keeps every datetime well-formed, inside [now − days, now), in order, with some same-millisecond rows', () => {
    const start = NOW.getTime() - DAYS * 86_400_000;
    let prev = -Infinity;
    let same = 0;
    const bad: string[] = [];
    for (const r of rows) {
      const t = parseDatetime(r.datetime);
      if (!(t >= start && t < NOW.getTime() && t >= prev)) bad.push(r.datetime);
      if (t === prev) same++;
      prev = t;
    }
    expect(bad).toEqual([]);
    expect(same).toBeGreaterThan(rows.length * 0.003);
    expect(same).toBeLessThan(rows.length * 0.02);
    // Fully identical entries (apart from event_key) exist too: identical pulls in one millisecond.
    const fields = Object.keys(rows[0]!).filter((k) => k !== 'event_key') as Array<keyof UsageLogRow>;
    const identical = rows.filter((r, i) => i > 0 && r.datetime === rows[i - 1]!.datetime && fields.every((f) => r[f] === rows[i - 1]![f]));
    expect(identical.length).toBeGreaterThan(0);
    expect(identical.every((r) => r.kind === 'pull_repo')).toBe(true);
  });

  it('follows a weekly pattern: weekdays busier than weekends', () => {
    const perDay = [0, 0, 0, 0, 0, 0, 0];
    for (const r of rows) perDay[new Date(parseDatetime(r.datetime)).getUTCDay()]!++;
    const weekend = (perDay[0]! + perDay[6]!) / 2;
    const weekday = (perDay[1]! + perDay[2]! + perDay[3]! + perDay[4]! + perDay[5]!) / 5;
    expect(weekday).toBeGreaterThan(weekend * 1.8);
  });

  it('gives every row a unique 128-bit decimal event_key', () => {
    expect(new Set(rows.map((r) => r.event_key)).size).toBe(rows.length);
    const bad = rows.filter((r) => !/^[1-9][0-9]{0,38}$/.test(r.event_key) || BigInt(r.event_key) >= 1n << 128n);
    expect(bad).toEqual([]);
  });

  it('writes metadata as a compact JSON object with what Quay puts in registry entries', () => {
    expect(metas.filter((m) => !(typeof m === 'object' && m !== null && !Array.isArray(m)))).toEqual([]);
    const badPulls = rows.filter((r, i) => {
      if (r.kind !== 'pull_repo') return false;
      const m = metas[i] as Record<string, unknown>;
      return !(
        m.repo === r.repository && m.namespace === r.namespace && typeof m['user-agent'] === 'string' &&
        (typeof m.tag === 'string' || /^sha256:[0-9a-f]{64}$/.test(String(m.manifest_digest))) &&
        typeof m.mediaType === 'string' &&
        (r.performer === '' ? m.username === undefined : m.username === r.performer) &&
        (m.is_robot === true) === r.performer.includes('+')
      );
    });
    expect(badPulls).toEqual([]);
    const moves = rows.filter((r) => r.kind === 'move_tag').map((r) => JSON.parse(r.metadata) as Record<string, unknown>);
    expect(moves.length).toBeGreaterThan(0);
    for (const m of moves) expect(m.original_manifest_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('makes about 10 % of pulls anonymous, and leaves repository empty for namespace-level kinds', () => {
    const pulls = rows.filter((r) => r.kind === 'pull_repo');
    const anon = pulls.filter((r) => r.performer === '').length / pulls.length;
    expect(anon).toBeGreaterThan(0.08);
    expect(anon).toBeLessThan(0.12);
    for (const kind of ['org_add_team_member', 'create_robot', 'login_success', 'delete_repo']) {
      const some = rows.filter((r) => r.kind === kind);
      expect(some.length, kind).toBeGreaterThan(0);
      expect(some.every((r) => r.repository === ''), kind).toBe(true);
    }
  });

  it('only refers to accounts and repositories of the world; robots are namespace+name', () => {
    const accounts = new Map(world.accounts.map((a) => [a.name, a]));
    const repos = new Set(world.repositories.map((r) => `${r.namespace}/${r.name}`));
    const unknownPerformers = new Set<string>();
    const badNamespaces = new Set<string>();
    const badRepos = new Set<string>();
    for (const r of rows) {
      if (r.performer !== '' && !accounts.has(r.performer)) unknownPerformers.add(r.performer);
      const ns = accounts.get(r.namespace);
      if (r.namespace !== '' && (ns === undefined || ns.kind === 'robot')) badNamespaces.add(r.namespace);
      if (r.repository !== '' && (r.repository.includes('/') || !repos.has(`${r.namespace}/${r.repository}`))) badRepos.add(r.repository);
    }
    expect([...unknownPerformers]).toEqual([]);
    expect([...badNamespaces]).toEqual([]);
    expect([...badRepos]).toEqual([]);
    const badRobots = world.robots.filter((robot) => {
      const [ns, short, extra] = robot.split('+');
      const owner = accounts.get(ns!)?.kind;
      return extra !== undefined || (owner !== 'org' && owner !== 'user') || !/^[a-z][a-z0-9_]+$/.test(short ?? '');
    });
    expect(badRobots).toEqual([]);
    const performers = new Set(rows.map((r) => r.performer));
    expect(world.robots.some((r) => performers.has(r))).toBe(true);
  });

  it('fills extended-logging fields for a small share of rows only', () => {
    const ext = rows.filter((r) => r.request_url !== '');
    expect(ext.length / rows.length).toBeGreaterThan(0.01);
    expect(ext.length / rows.length).toBeLessThan(0.1);
    const badExt = ext.filter((r) => !(
      /^https:\/\//.test(r.request_url) && /^(GET|PUT|POST|DELETE)$/.test(r.http_method) && r.user_agent !== '' &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(r.request_id) &&
      (r.performer_kind === 'anonymous') === (r.performer === '')
    ));
    expect(badExt).toEqual([]);
    const plain = rows.filter((r) => r.request_url === '');
    expect(plain.every((r) => r.http_method === '' && r.user_agent === '' && r.auth_type === '' && r.x_forwarded_for === '')).toBe(true);
  });

  it('uses realistic client addresses', () => {
    const ips = rows.map((r) => r.ip);
    const v4 = ips.filter((ip) => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip)).length;
    const v6 = ips.filter((ip) => ip.includes(':')).length;
    const none = ips.filter((ip) => ip === '').length;
    expect(v4 + v6 + none).toBe(ips.length);
    expect(v4 / ips.length).toBeGreaterThan(0.8);
    expect(v6).toBeGreaterThan(0);
    expect(none).toBeGreaterThan(0);
    expect(none / ips.length).toBeLessThan(0.02);
  });

  it('rejects nonsense options', () => {
    expect(() => [...demoRows({ rows: -1 })]).toThrow(RangeError);
    expect(() => [...demoRows({ rows: 1.5 })]).toThrow(RangeError);
    expect(() => [...demoRows({ rows: 10, days: 0 })]).toThrow(RangeError);
    expect(() => [...demoRows({ rows: 10 }, 0)]).toThrow(RangeError);
  });
});

describe('demoWorld', () => {
  it('has quayuser (no e-mail), users with e-mails, organizations and robots without', () => {
    const quayuser = world.accounts.find((a) => a.name === 'quayuser');
    expect(quayuser).toEqual({ name: 'quayuser', kind: 'user', email: null });
    const bad = world.accounts.filter((a) =>
      (a.kind === 'user' && a.name !== 'quayuser' && !/^[^@\s]+@[a-z0-9.-]+$/.test(a.email ?? '')) ||
      (a.kind !== 'user' && a.email !== null) ||
      (a.kind === 'robot') !== a.name.includes('+'));
    expect(bad).toEqual([]);
    expect(new Set(world.accounts.map((a) => a.name)).size).toBe(world.accounts.length);
    expect(world.organizations).toHaveLength(100); // max(20, 200k / 2000)
    expect(demoWorld({ rows: 10 }).organizations).toHaveLength(20);
    expect(demoWorld({ rows: 10, organizations: 3 }).organizations).toHaveLength(3);
  });

  it('depends only on the seed and the organization count', () => {
    const a = demoWorld({ rows: 10, organizations: 40, now: new Date(0), source: 'x' });
    const b = demoWorld({ rows: 999_999, organizations: 40, days: 3 });
    expect(b).toEqual(a);
    expect(demoWorld({ rows: 10, organizations: 40, seed: 1 })).not.toEqual(a);
  });

  it('uses valid Quay names', () => {
    const valid = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
    expect([...world.organizations, ...world.users].filter((n) => !valid.test(n))).toEqual([]);
    expect(world.repositories.filter((r) => !valid.test(r.name))).toEqual([]);
    expect(new Set(world.repositories.map((r) => `${r.namespace}/${r.name}`)).size).toBe(world.repositories.length);
  });
});
