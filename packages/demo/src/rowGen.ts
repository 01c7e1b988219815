/**
 * The row generator's state machine. One `RowGen` walks the rows of a run in
 * order; kind handlers (repoKinds.ts, accountKinds.ts) fill the per-row fields
 * through the helpers below. Everything is deterministic in (options, index).
 */
import type { UsageLogRow } from '../../core/src/usageLog.ts';
import { EventKeyer } from './eventKey.ts';
import { KIND_NAMES, KIND_WEIGHTS } from './kindMix.ts';
import { API_AGENTS, REGISTRY_AGENTS, TAGS } from './names.ts';
import { AliasTable, Rng, mix32, uuidFrom } from './rng.ts';
import { digestPool } from './digests.ts';
import { Timeline } from './timeline.ts';
import { tagOf, type ActorModel, type NsModel, type RepoModel, type WorldModel } from './world.ts';

/** How the request reached Quay: decides extended-logging auth_type. */
export const Channel = { Registry: 0, V2Auth: 1, Api: 2 } as const;
export type Channel = (typeof Channel)[keyof typeof Channel];

export type KindHandler = (g: RowGen) => void;

export const QUAY_HOST = 'quay.example.com';
/** Share of rows that reuse the previous row's datetime (same millisecond). */
const SAME_TIME_RATE = 0.005;
/** Of those, share that repeat the whole previous pull (identical entries). */
const IDENTICAL_PULL_RATE = 0.4;
/** Extended action logging was switched on for the last 4 % of the window. */
const EXTENDED_TAIL = 0.04;
const NO_IP_RATE = 0.003;

const REG_UA_JSON = REGISTRY_AGENTS.map(([ua]) => JSON.stringify(ua));
const REG_UA_TAG = REG_UA_JSON.map((ua) => `${ua},"tag":`);
const REG_UA_DIGEST = REG_UA_JSON.map((ua) => `${ua},"manifest_digest":"`);
const API_UA_JSON = API_AGENTS.map(([ua]) => JSON.stringify(ua));
const TAG_JSON = TAGS.map((t) => JSON.stringify(t));

export interface RunSpec {
  rows: number;
  seed: number;
  now: number;
  days: number;
  source: string;
}

export class RowGen {
  readonly rng: Rng;
  readonly world: WorldModel;
  readonly timeline: Timeline;
  private readonly keyer: EventKeyer;
  private readonly kindAlias: AliasTable;
  private readonly regUaAlias: AliasTable;
  private readonly apiUaAlias: AliasTable;
  private readonly handlers: KindHandler[];
  private readonly spec: RunSpec;
  private readonly extendedFrom: number;
  private prev: UsageLogRow | null = null;
  private readonly digests = digestPool();
  private index = 0;

  // Per-row fields written by the handlers.
  t = 0;
  ns: NsModel | null = null;
  repo: RepoModel | null = null;
  namespace = '';
  repository = '';
  performer = '';
  isRobot = false;
  ip = '';
  /** The end of registry metadata: the performer's auth context, `,"resolved_ip":{…}` for the address, `}`. */
  tail = '}';
  metadata = '{}';
  channel: Channel = Channel.Api;
  /** Whether extended logging is on for this row; handlers then set `method`, `path` and `agent`. */
  extended = false;
  method = 'GET';
  path = '';
  agent = '';

  constructor(spec: RunSpec, world: WorldModel, handlers: Record<string, KindHandler>) {
    this.spec = spec;
    this.world = world;
    this.rng = Rng.fromLabel(`quaylogs-demo/rows/v1:${spec.seed}:${spec.source}`);
    this.timeline = new Timeline(spec.now, spec.days, Rng.fromLabel(`quaylogs-demo/timeline/v1:${spec.seed}`));
    this.keyer = new EventKeyer(spec.seed, spec.source);
    this.kindAlias = new AliasTable(KIND_WEIGHTS);
    this.regUaAlias = new AliasTable(REGISTRY_AGENTS.map(([, w]) => w));
    this.apiUaAlias = new AliasTable(API_AGENTS.map(([, w]) => w));
    this.handlers = KIND_NAMES.map((k) => {
      const h = handlers[k];
      if (h === undefined) throw new Error(`no demo handler for kind ${k}`);
      return h;
    });
    this.extendedFrom = this.timeline.end - (this.timeline.end - this.timeline.start) * EXTENDED_TAIL;
  }

  /** The next `count` rows of the run. */
  batch(count: number): UsageLogRow[] {
    const out: UsageLogRow[] = new Array<UsageLogRow>(count);
    for (let n = 0; n < count; n++) out[n] = this.nextRow();
    return out;
  }

  private nextRow(): UsageLogRow {
    const rng = this.rng;
    const i = this.index++;
    const u = (i + rng.float()) / this.spec.rows;
    const prev = this.prev;
    let datetime: string;
    if (prev !== null && rng.float() < SAME_TIME_RATE) {
      if (prev.kind === 'pull_repo' && rng.float() < IDENTICAL_PULL_RATE) {
        const copy: UsageLogRow = { ...prev, event_key: this.keyer.keyAt(i) };
        // With extended logging on, the second request still has its own id.
        if (copy.request_id !== '') copy.request_id = uuidFrom(rng);
        this.prev = copy;
        return copy;
      }
      datetime = prev.datetime;
      // t stays the previous row's time.
    } else {
      this.t = this.timeline.timeAt(u);
      datetime = this.timeline.formatLast(this.t);
    }

    const kindId = this.kindAlias.sample(rng);
    this.ns = null;
    this.repo = null;
    this.namespace = '';
    this.repository = '';
    this.performer = '';
    this.isRobot = false;
    this.ip = '';
    this.tail = '}';
    this.metadata = '{}';
    this.channel = Channel.Api;
    this.extended = this.t >= this.extendedFrom;
    this.method = 'GET';
    this.path = '';
    this.agent = '';
    this.handlers[kindId]!(this);

    let requestUrl = '';
    let httpMethod = '';
    let userAgent = '';
    let requestId = '';
    let authType = '';
    let performerKind = '';
    let xff = '';
    if (this.extended) {
      requestUrl = `https://${QUAY_HOST}${this.path}`;
      httpMethod = this.method;
      userAgent = this.agent;
      requestId = uuidFrom(rng);
      if (this.performer === '') {
        authType = 'anonymous';
        performerKind = 'anonymous';
      } else {
        // (a cast: handlers changed `channel`, which the compiler cannot see)
        const channel = this.channel as Channel;
        performerKind = this.isRobot ? 'robot' : 'user';
        authType = channel === Channel.Registry ? 'bearer' : channel === Channel.V2Auth ? 'basic' : 'session';
        if (channel === Channel.Api && !this.isRobot && !this.agent.startsWith('Mozilla')) {
          authType = 'oauth';
          performerKind = 'oauth';
        }
      }
      if (this.ip !== '' && rng.float() < 0.7) xff = this.ip;
    }

    const row: UsageLogRow = {
      source: this.spec.source,
      namespace: this.namespace,
      repository: this.repository,
      kind: KIND_NAMES[kindId]!,
      performer: this.performer,
      ip: this.ip,
      datetime,
      metadata: this.metadata,
      event_key: this.keyer.keyAt(i),
      request_url: requestUrl,
      http_method: httpMethod,
      user_agent: userAgent,
      request_id: requestId,
      auth_type: authType,
      performer_kind: performerKind,
      x_forwarded_for: xff,
    };
    this.prev = row;
    return row;
  }

  // ---- helpers for kind handlers -------------------------------------------------------

  /** A namespace that owns repositories (zipf) and one of its repositories (zipf). */
  pickRepo(): RepoModel {
    const w = this.world;
    const ns = w.namespaces[w.active[w.activeAlias.sample(this.rng)]!]!;
    const repo = ns.repos[ns.repoAlias!.sample(this.rng)]!;
    this.ns = ns;
    this.repo = repo;
    this.namespace = ns.name;
    this.repository = repo.name;
    return repo;
  }

  /** An organization (zipf). */
  pickOrg(): NsModel {
    const w = this.world;
    const ns = w.namespaces[w.orgs[w.orgAlias.sample(this.rng)]!]!;
    this.ns = ns;
    this.namespace = ns.name;
    return ns;
  }

  /** Any user other than the superuser. */
  pickUser(): ActorModel {
    const w = this.world;
    let u = this.rng.int(w.users.length);
    if (u === w.superuser) u = w.quayuser;
    return w.users[u]!;
  }

  /** A robot of the namespace (share `robotShare` when it has any) or a member. */
  actorOf(ns: NsModel, robotShare: number): ActorModel {
    const rng = this.rng;
    if (ns.robots.length > 0 && rng.float() < robotShare) return this.world.robots[ns.robots[rng.skewed(ns.robots.length)]!]!;
    return this.world.users[ns.members[rng.skewed(ns.members.length)]!]!;
  }

  /** An administrator of the namespace (the first members of an organization, the owner of a user namespace). */
  adminOf(ns: NsModel): ActorModel {
    const w = this.world;
    if (!ns.isOrg) return w.users[ns.owner]!;
    return w.users[ns.members[this.rng.int(Math.min(ns.members.length, 4))]!]!;
  }

  /** Make `a` the performer (null: anonymous), and take a client address for it. */
  perform(a: ActorModel | null): void {
    const rng = this.rng;
    const ips = this.world.ips;
    if (a === null) {
      const ipm = ips[rng.int(ips.length)]!;
      if (rng.float() < NO_IP_RATE) return;
      this.ip = ipm.ip;
      this.tail = ipm.close;
      return;
    }
    this.performer = a.name;
    this.isRobot = a.isRobot;
    const r = rng.float();
    const k = r < 0.8 ? 0 : r < 0.93 ? 1 : 2;
    if (rng.float() < NO_IP_RATE) {
      this.tail = a.tailNoIp;
      return;
    }
    this.ip = ips[(a.ip + k) % ips.length]!.ip;
    this.tail = a.tails[k]!;
  }

  /** A registry client for the actor (index in REGISTRY_AGENTS; sets `agent` for extended logging). */
  registryAgentIndex(a: ActorModel | null): number {
    const i = a !== null && this.rng.float() < 0.85 ? a.ua : this.regUaAlias.sample(this.rng);
    if (this.extended) this.agent = REGISTRY_AGENTS[i]![0];
    return i;
  }

  /** A registry client for the actor, as a JSON string literal. */
  registryAgent(a: ActorModel | null): string {
    return REG_UA_JSON[this.registryAgentIndex(a)]!;
  }

  /** `<agent>,"tag":` */
  agentThenTag(a: ActorModel | null): string {
    return REG_UA_TAG[this.registryAgentIndex(a)]!;
  }

  /** `<agent>,"manifest_digest":"` */
  agentThenDigest(a: ActorModel | null): string {
    return REG_UA_DIGEST[this.registryAgentIndex(a)]!;
  }

  /** A browser/API client, as a JSON string literal. */
  apiAgent(): string {
    const i = this.apiUaAlias.sample(this.rng);
    if (this.extended) this.agent = API_AGENTS[i]![0];
    return API_UA_JSON[i]!;
  }

  /** Marks an API call for extended logging. */
  api(method: string, path: string): void {
    this.channel = Channel.Api;
    if (this.extended) {
      this.method = method;
      this.path = path;
      if (this.agent === '') this.agent = API_AGENTS[this.apiUaAlias.sample(this.rng)]![0];
    }
  }

  /** Tag slot: 0 is `latest` (40 %), then a skewed choice among eleven others. */
  tagSlot(): number {
    const r = this.rng.float();
    if (r < 0.4) return 0;
    const x = (r - 0.4) / 0.6;
    return 1 + Math.floor(x * x * 11);
  }

  tagJson(repo: RepoModel, slot: number): string {
    return slot === 0 ? '"latest"' : TAG_JSON[(repo.tagBase + slot) % TAGS.length]!;
  }

  tagName(repo: RepoModel, slot: number): string {
    return tagOf(repo.tagBase, slot);
  }

  /** Which manifest generation a tag of `repo` points at, at the row's time. */
  generation(repo: RepoModel): number {
    return Math.floor((this.t + repo.phase) / repo.period);
  }

  /**
   * `sha256:` + 64 hex digits, stable for (repo, slot, generation). Drawn from a
   * fixed pool of 65,536 digests: a registry of this size holds about that many
   * manifests, and an occasional digest shared by two repositories is realistic.
   */
  digest(repo: RepoModel, slot: number, gen: number): string {
    return this.digests[mix32(repo.key ^ Math.imul(slot + 1, 0x9e3779b1) ^ Math.imul(gen + 1, 0x85ebca77)) & 0xffff]!;
  }

  uuid(): string {
    return uuidFrom(this.rng);
  }
}
