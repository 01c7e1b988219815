/**
 * The demo world: organizations, users, robots, repositories, team names and
 * client addresses, built deterministically from (seed, organization count).
 *
 * `WorldModel` is the generator's internal view (pre-quoted JSON fragments,
 * sampling tables); `DemoWorld` is the public summary.
 */
import type { AccountInfo } from '../../core/src/usageLog.ts';
import { AliasTable, Rng } from './rng.ts';
import {
  AWS_REGIONS, COMPANIES, COUNTRIES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, MEDIA_TYPES,
  REGISTRY_AGENTS, REPO_BASES, REPO_SUFFIXES, ROBOT_SHORTNAMES, TAGS, TEAMS, TEAM_NAMES,
} from './names.ts';

export interface DemoRepository {
  namespace: string;
  name: string;
}

export interface DemoWorld {
  accounts: AccountInfo[];
  repositories: DemoRepository[];
  organizations: string[];
  users: string[];
  robots: string[];
}

export interface RepoModel {
  name: string;
  ns: number;
  /** `"repo":"<name>","namespace":"<ns>"` */
  frag: string;
  /** `"<name>"` */
  json: string;
  /** `{"repo":…,"namespace":…,"user-agent":` — the start of a registry entry's metadata. */
  open: string;
  /** Per tag slot: `"<tag>","mediaType":"<type>"`. */
  tagMedia: string[];
  /** `","mediaType":"<type>"` (follows a manifest digest). */
  digestMedia: string;
  media: number;
  tagBase: number;
  /** Mixing key for manifest digests. */
  key: number;
  /** Tags move every `period` ms (shifted by `phase`). */
  period: number;
  phase: number;
}

export interface NsModel {
  name: string;
  /** `"<name>"` */
  json: string;
  isOrg: boolean;
  /** Owning user index for user namespaces, −1 for organizations. */
  owner: number;
  repos: RepoModel[];
  repoAlias: AliasTable | null;
  /** User indexes; for organizations the first few are its administrators. */
  members: number[];
  robots: number[];
  teams: string[];
}

export interface ActorModel {
  name: string;
  json: string;
  /** Auth-context metadata Quay adds for this performer: `,"username":"…"` (+ `,"is_robot":true`). */
  ctx: string;
  /** Index of the actor's usual address in the IP pool (it also uses the next two). */
  ip: number;
  /** `ctx` + the closing `close` of each of its three addresses, and `ctx` + `}` (no address). */
  tails: string[];
  tailNoIp: string;
  /** The actor's usual registry client (index in REGISTRY_AGENTS). */
  ua: number;
  /** Namespace index: the user's own namespace, or the robot's parent. */
  ns: number;
  isRobot: boolean;
  email: string | null;
}

export interface IpModel {
  ip: string;
  /** `,"resolved_ip":{…}}` — what Quay's IP resolver adds to registry entries, and the closing brace. */
  close: string;
}

export interface WorldModel {
  namespaces: NsModel[];
  users: ActorModel[];
  robots: ActorModel[];
  repos: RepoModel[];
  ips: IpModel[];
  /** Namespaces that own repositories, busiest first, and the zipf sampler over them. */
  active: number[];
  activeAlias: AliasTable;
  /** Organizations, busiest first, and a zipf sampler over them. */
  orgs: number[];
  orgAlias: AliasTable;
  quayuser: number;
  superuser: number;
  publicWorld: DemoWorld;
}

/** Share of repository traffic that goes to the single busiest namespace. */
const TOP_SHARE = 0.2;
const IP_POOL = 4096;
/** Tags a repository's traffic uses: slot 0 is `latest`, the others come from TAGS. */
export const TAG_SLOTS = 12;

export function tagOf(tagBase: number, slot: number): string {
  return slot === 0 ? 'latest' : TAGS[(tagBase + slot) % TAGS.length]!;
}
const SYNC_TOKEN = '1717045389';

export function defaultOrganizations(rows: number): number {
  return Math.min(2000, Math.max(20, Math.round(rows / 2000)));
}

function zipfWeights(n: number, s: number, topShare: number): number[] {
  const w: number[] = [];
  let rest = 0;
  for (let k = 1; k < n; k++) {
    const x = 1 / Math.pow(k + 1, s);
    w.push(x);
    rest += x;
  }
  const top = n === 1 ? 1 : (topShare / (1 - topShare)) * rest;
  return [top, ...w];
}

function buildIp(rng: Rng): IpModel {
  const octet = () => rng.int(256);
  const r = rng.float();
  const token = `"sync_token":"${SYNC_TOKEN}"`;
  if (r < 0.35) {
    const p = rng.float();
    const ip = p < 0.6 ? `10.${octet()}.${octet()}.${1 + rng.int(254)}`
      : p < 0.8 ? `172.${16 + rng.int(16)}.${octet()}.${1 + rng.int(254)}`
      : `192.168.${octet()}.${1 + rng.int(254)}`;
    return { ip, close: `,"resolved_ip":{"provider":"internet","service":null,${token},"country_iso_code":null,"aws_region":null,"continent":null}}` };
  }
  const [cc, cont] = rng.pick(COUNTRIES);
  if (r < 0.47) {
    const ip = `${rng.pick([3, 18, 44, 52, 54])}.${octet()}.${octet()}.${1 + rng.int(254)}`;
    const region = rng.pick(AWS_REGIONS);
    return { ip, close: `,"resolved_ip":{"provider":"aws","service":null,${token},"country_iso_code":"${cc}","aws_region":"${region}","continent":"${cont}"}}` };
  }
  const geo = `,"resolved_ip":{"provider":"internet","service":"${cc}",${token},"country_iso_code":"${cc}","aws_region":null,"continent":"${cont}"}}`;
  if (r < 0.92) {
    const first = rng.pick([24, 31, 37, 45, 62, 66, 73, 77, 81, 85, 91, 98, 103, 108, 122, 131, 141, 151, 176, 185, 188, 195, 203, 212, 213]);
    return { ip: `${first}.${octet()}.${octet()}.${1 + rng.int(254)}`, close: geo };
  }
  const h = () => rng.int(65536).toString(16);
  const prefix = rng.pick(['2a01:4f8', '2a02:8108', '2600:1700', '2001:67c', '2406:da18', '2804:14c']);
  return { ip: `${prefix}:${h()}:${h()}::${h()}`, close: geo };
}

export function buildWorldModel(seed: number, orgCount: number): WorldModel {
  if (!Number.isInteger(orgCount) || orgCount < 1) throw new RangeError(`organizations must be a positive integer, got ${orgCount}`);
  const rng = Rng.fromLabel(`quaylogs-demo/world/v1:${seed}:${orgCount}`);
  const taken = new Set<string>();
  const namespaces: NsModel[] = [];
  const users: ActorModel[] = [];
  const robots: ActorModel[] = [];
  const repos: RepoModel[] = [];
  const uaAlias = new AliasTable(REGISTRY_AGENTS.map(([, w]) => w));

  const newNs = (name: string, isOrg: boolean, owner: number): NsModel => {
    taken.add(name);
    const ns: NsModel = { name, json: JSON.stringify(name), isOrg, owner, repos: [], repoAlias: null, members: [], robots: [], teams: [] };
    namespaces.push(ns);
    return ns;
  };

  // Organizations, in rank order (org 0 is the busiest).
  const orgs: number[] = [];
  for (let k = 0; k < orgCount; k++) {
    let name = '';
    for (let attempt = 0; attempt < 30 && (name === '' || taken.has(name)); attempt++) {
      const company = rng.pick(COMPANIES);
      name = rng.chance(0.3) && attempt < 10 ? company : `${company}-${rng.pick(TEAMS)}`;
    }
    if (taken.has(name)) name = `${rng.pick(COMPANIES)}-${rng.pick(TEAMS)}-${k}`;
    orgs.push(namespaces.length);
    newNs(name, true, -1);
  }

  // Users, each with a user namespace of the same name.
  const addUser = (name: string, email: string | null): number => {
    const idx = users.length;
    const ns = newNs(name, false, idx);
    ns.members.push(idx);
    users.push({
      name, json: JSON.stringify(name), ctx: `,"username":${JSON.stringify(name)}`, ip: rng.int(IP_POOL), tails: [], tailNoIp: '',
      ua: uaAlias.sample(rng), ns: namespaces.length - 1, isRobot: false, email,
    });
    return idx;
  };
  const quayuser = addUser('quayuser', null);
  const superuser = addUser('quayadmin', 'quayadmin@example.com');
  const userCount = Math.min(5000, Math.max(40, Math.round(orgCount * 2.5)));
  while (users.length < userCount) {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const style = rng.int(4);
    let name = style === 0 ? `${first}.${last}` : style === 1 ? `${first[0]}${last}` : style === 2 ? `${first}_${last}` : `${first}${last[0]}`;
    if (taken.has(name)) name = `${name}${rng.range(1, 99)}`;
    if (taken.has(name)) continue;
    const email = `${first}.${last}${rng.chance(0.2) ? rng.range(1, 9) : ''}@${rng.pick(EMAIL_DOMAINS)}`;
    addUser(name, email);
  }

  const addRobot = (nsIdx: number, short: string): void => {
    const ns = namespaces[nsIdx]!;
    const name = `${ns.name}+${short}`;
    ns.robots.push(robots.length);
    robots.push({
      name, json: JSON.stringify(name), ctx: `,"username":${JSON.stringify(name)},"is_robot":true`,
      ip: rng.int(IP_POOL), tails: [], tailNoIp: '', ua: uaAlias.sample(rng), ns: nsIdx, isRobot: true, email: null,
    });
  };
  const addRepo = (nsIdx: number, wanted?: string): void => {
    const ns = namespaces[nsIdx]!;
    const names = new Set(ns.repos.map((r) => r.name));
    let name = wanted ?? rng.pick(REPO_BASES);
    if (names.has(name)) name = `${name}-${rng.pick(REPO_SUFFIXES)}`;
    if (names.has(name)) name = `${name}-${ns.repos.length}`;
    const json = JSON.stringify(name);
    const frag = `"repo":${json},"namespace":${ns.json}`;
    const media = rng.int(MEDIA_TYPES.length);
    const mediaJson = JSON.stringify(MEDIA_TYPES[media]);
    const tagBase = rng.int(TAGS.length);
    const tagMedia: string[] = [];
    for (let slot = 0; slot < TAG_SLOTS; slot++) tagMedia.push(`${JSON.stringify(tagOf(tagBase, slot))},"mediaType":${mediaJson}`);
    const repo: RepoModel = {
      name, ns: nsIdx, frag, json, open: `{${frag},"user-agent":`, tagMedia, digestMedia: `","mediaType":${mediaJson}`,
      media, tagBase, key: rng.next(),
      period: (1 + rng.int(14)) * 86_400_000, phase: rng.int(14 * 86_400_000),
    };
    ns.repos.push(repo);
    repos.push(repo);
  };

  // Organization repositories, robots, teams and members: zipf by rank.
  const regular = users.length - 2; // users other than quayuser and quayadmin
  for (let k = 0; k < orgs.length; k++) {
    const nsIdx = orgs[k]!;
    const ns = namespaces[nsIdx]!;
    const repoCount = 1 + Math.floor((120 / Math.pow(k + 1, 0.7)) * (0.5 + rng.float()));
    for (let r = 0; r < repoCount; r++) addRepo(nsIdx);
    const robotCount = Math.min(ROBOT_SHORTNAMES.length, 1 + Math.floor((6 / Math.pow(k + 1, 0.4)) * rng.float()) + (k < 3 ? 3 : 0));
    const shorts = new Set<string>();
    while (shorts.size < robotCount) shorts.add(rng.pick(ROBOT_SHORTNAMES));
    for (const s of shorts) addRobot(nsIdx, s);
    const teamCount = 1 + rng.int(Math.min(TEAM_NAMES.length - 1, 2 + Math.floor(8 / (k + 1))));
    ns.teams = ['owners', ...TEAM_NAMES.slice(1).filter(() => rng.chance(teamCount / TEAM_NAMES.length))];
    const memberCount = Math.min(regular, Math.max(2, Math.round(3 + (120 / Math.pow(k + 1, 0.6)) * (0.6 + 0.8 * rng.float()))));
    const members = new Set<number>();
    if (k < 3 || rng.chance(0.02)) members.add(quayuser);
    while (members.size < memberCount) members.add(2 + rng.int(regular));
    ns.members = [...members];
  }

  // User namespaces with repositories: quayuser, and about 30 % of the others.
  const userActive: number[] = [];
  for (let u = 0; u < users.length; u++) {
    if (u === superuser) continue;
    const nsIdx = users[u]!.ns;
    if (u === quayuser) {
      for (const name of ['busybox', 'nginx', 'hello-world', 'test-app']) addRepo(nsIdx, name);
      addRobot(nsIdx, 'ci');
    } else if (rng.chance(0.3)) {
      const n = rng.range(1, 4);
      for (let r = 0; r < n; r++) addRepo(nsIdx);
      if (rng.chance(0.25)) addRobot(nsIdx, rng.pick(['ci', 'deployer', 'builder']));
      if (rng.chance(0.2)) namespaces[nsIdx]!.members.push(2 + rng.int(regular));
    } else {
      continue;
    }
    userActive.push(nsIdx);
  }

  for (const ns of namespaces) {
    if (ns.repos.length > 0) ns.repoAlias = new AliasTable(zipfWeights(ns.repos.length, 1.1, Math.min(0.35, 1 / ns.repos.length + 0.15)));
  }

  // Rank every namespace that owns repositories: organizations keep their order,
  // user namespaces slot in below the top ten (quayuser near the top).
  const keyed: Array<[number, number]> = orgs.map((nsIdx, k) => [k, nsIdx]);
  for (const nsIdx of userActive) {
    const key = nsIdx === users[quayuser]!.ns ? 3.5 : 10 + rng.float() * orgs.length * 1.5;
    keyed.push([key, nsIdx]);
  }
  keyed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const active = keyed.map(([, nsIdx]) => nsIdx);
  const activeAlias = new AliasTable(zipfWeights(active.length, 1.05, TOP_SHARE));
  const orgAlias = new AliasTable(zipfWeights(orgs.length, 1.05, TOP_SHARE));

  const ips: IpModel[] = [];
  for (let i = 0; i < IP_POOL; i++) ips.push(buildIp(rng));
  for (const a of [...users, ...robots]) {
    a.tails = [0, 1, 2].map((k) => a.ctx + ips[(a.ip + k) % IP_POOL]!.close);
    a.tailNoIp = `${a.ctx}}`;
  }

  const publicWorld: DemoWorld = {
    accounts: [
      ...users.map((u): AccountInfo => ({ name: u.name, kind: 'user', email: u.email })),
      ...orgs.map((i): AccountInfo => ({ name: namespaces[i]!.name, kind: 'org', email: null })),
      ...robots.map((r): AccountInfo => ({ name: r.name, kind: 'robot', email: null })),
    ],
    repositories: repos.map((r) => ({ namespace: namespaces[r.ns]!.name, name: r.name })),
    organizations: orgs.map((i) => namespaces[i]!.name),
    users: users.map((u) => u.name),
    robots: robots.map((r) => r.name),
  };

  return { namespaces, users, robots, repos, ips, active, activeAlias, orgs, orgAlias, quayuser, superuser, publicWorld };
}

const cache = new Map<string, WorldModel>();

/** Memoised `buildWorldModel` (a few recent worlds). */
export function worldModel(seed: number, orgCount: number): WorldModel {
  const key = `${seed}:${orgCount}`;
  let w = cache.get(key);
  if (w === undefined) {
    w = buildWorldModel(seed, orgCount);
    if (cache.size >= 4) cache.delete(cache.keys().next().value!);
    cache.set(key, w);
  }
  return w;
}
